// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for the readers of untrusted files. Not part of the main package (which
// takes no flags); build and run them with ./run (it links the repository as `onsager-root` and
// passes -sanitize=fuzzer,address to every module, so the library itself is instrumented).
let readers = ["safetensors", "idx", "mat", "csv", "npy"]
let package = Package(
    name: "OnsagerFuzz",
    dependencies: [.package(path: "onsager-root")],
    targets: [.target(name: "FuzzSupport", dependencies: [.product(name: "Onsager", package: "onsager-root")])]
        + readers.map { name in
            .executableTarget(name: "fuzz-\(name)", dependencies: ["FuzzSupport", .product(name: "Onsager", package: "onsager-root")],
                              path: "Sources/\(name)")
        }
)
