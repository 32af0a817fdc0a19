import Foundation
import FuzzSupport
import Onsager

/// libFuzzer's entry: the npy reader on the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt { fuzzReader(data, size, name: "npy") { _ = try NPY.read($0, as: Double.self) } }

@_cdecl("fuzz_npy_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runLibFuzzer(argc, argv, fuzz) }
