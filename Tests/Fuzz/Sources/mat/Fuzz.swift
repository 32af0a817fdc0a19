import Foundation
import FuzzSupport
import Onsager

/// libFuzzer's entry: the mat reader on the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt { fuzzReader(data, size, name: "mat") { _ = try MATFile.read($0) } }

@_cdecl("fuzz_mat_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runLibFuzzer(argc, argv, fuzz) }
