import Foundation
import FuzzSupport
import Onsager

/// libFuzzer's entry: the csv reader on the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt { fuzzReader(data, size, name: "csv") { _ = try CSV.read($0, allowNonFinite: true) } }

@_cdecl("fuzz_csv_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runLibFuzzer(argc, argv, fuzz) }
