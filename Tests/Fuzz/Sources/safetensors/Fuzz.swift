import Foundation
import FuzzSupport
import Onsager

/// libFuzzer's entry: the safetensors reader on the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt { fuzzReader(data, size, name: "safetensors") { _ = try Safetensors.read(URL(fileURLWithPath: $0), as: Double.self, convertingTypes: true) } }

@_cdecl("fuzz_safetensors_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runLibFuzzer(argc, argv, fuzz) }
