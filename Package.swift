// swift-tools-version:6.0
import PackageDescription

// No package dependencies by design: the kernels are a C target inside this package, and the
// AVX-512/AVX2 code paths are selected at run time, so plain `swift build -c release` (and any
// versioned dependent) gets full speed without flags.
let package = Package(
    name: "Onsager",
    products: [
        .library(name: "Onsager", targets: ["Onsager"]),
        .executable(name: "onsager", targets: ["onsager"]),
        .executable(name: "onsager-bench", targets: ["onsager-bench"]),
    ],
    dependencies: [],
    targets: [
        .target(
            name: "COnsagerKernels",
            path: "Sources/COnsagerKernels",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.linkedLibrary("m"), .linkedLibrary("pthread")]
        ),
        // System zlib (allowed: no package dependency) for gzipped IDX files.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "Onsager", dependencies: ["COnsagerKernels", "CZlib"], path: "Sources/Onsager"),
        .executableTarget(name: "onsager", dependencies: ["Onsager"], path: "Sources/onsager"),
        .executableTarget(name: "onsager-bench", dependencies: ["Onsager", "COnsagerKernels"], path: "Benchmarks/onsager-bench"),
        .executableTarget(name: "01-tensors-and-tape", dependencies: ["Onsager"], path: "Tutorials/01-tensors-and-tape"),
        .executableTarget(name: "02-rbm-mnist", dependencies: ["Onsager"], path: "Tutorials/02-rbm-mnist"),
        .executableTarget(name: "03-tap-training", dependencies: ["Onsager"], path: "Tutorials/03-tap-training"),
        .executableTarget(name: "04-free-energy-accuracy", dependencies: ["Onsager"], path: "Tutorials/04-free-energy-accuracy"),
        .executableTarget(name: "05-ridge-danger-zone", dependencies: ["Onsager"], path: "Tutorials/05-ridge-danger-zone"),
        .executableTarget(name: "06-mlp-mnist", dependencies: ["Onsager"], path: "Tutorials/06-mlp-mnist"),
        .testTarget(name: "OnsagerTests", dependencies: ["Onsager", "COnsagerKernels"], path: "Tests/OnsagerTests",
                    resources: [.copy("Golden")]),
    ]
)
