import Foundation
import Onsager

/// libFuzzer entry: the input is written to a file and read back by the reader under test. A
/// typed error is the expected answer to a bad file; any other error, a trap, a sanitizer report,
/// a timeout or an allocation beyond -rss_limit_mb is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("onsager-fuzz-mat-\(getpid())")
    FileManager.default.createFile(atPath: url.path, contents: Data(bytes: data, count: size))
    do { _ = try MATFile.read(url.path) } catch is CheckpointError {} catch is DataError {} catch {
        fatalError("untyped error: \(error)")
    }
    return 0
}

// SwiftPM links an executable's entry point as <module>_main; hand control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("fuzz_mat_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, values = argv
    return LLVMFuzzerRunDriver(&count, &values, fuzz)
}
