import Foundation
import Onsager

/// One fuzz input for a file reader: the bytes are written to a file and `read` is run on its
/// path. A typed error (`CheckpointError`, `DataError`) is the expected answer to a bad file; any
/// other error, a trap, a sanitizer report, a timeout or an allocation beyond -rss_limit_mb is a
/// finding.
public func fuzzReader(_ data: UnsafePointer<UInt8>, _ size: Int, name: String, _ read: (String) throws -> Void) -> CInt {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("onsager-fuzz-\(name)-\(getpid())")
    FileManager.default.createFile(atPath: url.path, contents: Data(bytes: data, count: size))
    do { try read(url.path) } catch is CheckpointError {} catch is DataError {} catch {
        fatalError("untyped error: \(error)")
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// Hands the process to libFuzzer's driver. SwiftPM links an executable's entry point as
/// `<module>_main`, so each target defines that symbol and calls this.
public func runLibFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt {
    var count = argc, values = argv
    return LLVMFuzzerRunDriver(&count, &values, callback)
}
