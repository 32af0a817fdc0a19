// swift-tools-version:6.0
import PackageDescription

// No package dependencies by design: the kernels are a C target inside this package, and the
// AVX-512/AVX2 code paths are selected at run time, so plain `swift build -c release` (and any
// versioned dependent) gets full speed without flags.
//
// Layers (each depends only on the ones above it; the compiler enforces it):
//   COnsagerKernels, COnsagerTape   C: kernels and thread pool; the tape's per-thread switches
//   OnsagerCore                     tensors, the kernel bridge, ops, the tape, gradcheck
//   OnsagerLinearAlgebra  OnsagerNN  OnsagerData  OnsagerPlot     (each on OnsagerCore only)
//   OnsagerEnergy                   RBMs and free energies (on OnsagerCore, OnsagerLinearAlgebra, OnsagerNN)
//   Onsager                         the umbrella users import
//   OnsagerCommandLine              argument parsing, output folders, data lookup for the executables
let package = Package(
    name: "Onsager",
    // Linux needs no entry. On macOS the C kernels build without glibc's extensions (pool.c and
    // allocator.c guard them; `.ci/run` compiles that configuration with ONSAGER_PORTABLE_ONLY forced).
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Onsager", targets: ["Onsager"]),
        // For `onsager notebook`: the instrumented copy of a tutorial is built as its own package.
        .library(name: "OnsagerCommandLine", targets: ["OnsagerCommandLine"]),
        .executable(name: "onsager", targets: ["onsager"]),
        .executable(name: "onsager-bench", targets: ["onsager-bench"]),
    ],
    dependencies: [],
    targets: [
        .target(
            name: "COnsagerKernels",
            path: "Sources/COnsagerKernels",
            cSettings: [.define("_GNU_SOURCE")],
            // dl: dlopen/dlsym for allocator.c's check of which malloc the process uses (in libc
            // itself since glibc 2.34; a separate library before).
            linkerSettings: [.linkedLibrary("m"), .linkedLibrary("pthread"), .linkedLibrary("dl", .when(platforms: [.linux]))]
        ),
        .target(name: "COnsagerTape", path: "Sources/COnsagerTape"),
        // System zlib (allowed: no package dependency) for gzipped IDX files.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "OnsagerCore", dependencies: ["COnsagerKernels", "COnsagerTape"], path: "Sources/OnsagerCore"),
        .target(name: "OnsagerLinearAlgebra", dependencies: ["OnsagerCore"], path: "Sources/OnsagerLinearAlgebra"),
        .target(name: "OnsagerNN", dependencies: ["OnsagerCore"], path: "Sources/OnsagerNN"),
        .target(name: "OnsagerData", dependencies: ["OnsagerCore", "CZlib"], path: "Sources/OnsagerData"),
        .target(name: "OnsagerPlot", dependencies: ["OnsagerCore", "CZlib"], path: "Sources/OnsagerPlot"),
        .target(name: "OnsagerEnergy", dependencies: ["OnsagerCore", "OnsagerLinearAlgebra", "OnsagerNN"], path: "Sources/OnsagerEnergy"),
        .target(name: "Onsager",
                dependencies: ["OnsagerCore", "OnsagerLinearAlgebra", "OnsagerNN", "OnsagerData", "OnsagerPlot", "OnsagerEnergy"],
                path: "Sources/Onsager"),
        .target(name: "OnsagerCommandLine", dependencies: ["Onsager"], path: "Sources/OnsagerCommandLine"),
        .executableTarget(name: "onsager", dependencies: ["Onsager", "OnsagerCommandLine"], path: "Sources/onsager"),
        .executableTarget(name: "onsager-bench", dependencies: ["Onsager", "COnsagerKernels"], path: "Benchmarks/onsager-bench"),
        .executableTarget(name: "01-tensors-and-tape", dependencies: ["Onsager", "OnsagerCommandLine"], path: "Tutorials/01-tensors-and-tape"),
        .executableTarget(name: "02-rbm-mnist", dependencies: ["Onsager", "OnsagerCommandLine"], path: "Tutorials/02-rbm-mnist"),
        .executableTarget(name: "03-tap-training", dependencies: ["Onsager", "OnsagerCommandLine"], path: "Tutorials/03-tap-training"),
        .executableTarget(name: "04-free-energy-accuracy", dependencies: ["Onsager", "OnsagerCommandLine"],
                          path: "Tutorials/04-free-energy-accuracy"),
        .executableTarget(name: "05-ridge-danger-zone", dependencies: ["Onsager", "OnsagerCommandLine"], path: "Tutorials/05-ridge-danger-zone"),
        .executableTarget(name: "06-mlp-mnist", dependencies: ["Onsager", "OnsagerCommandLine"], path: "Tutorials/06-mlp-mnist"),
        .executableTarget(name: "07-custom-models", dependencies: ["Onsager", "OnsagerCommandLine"], path: "Tutorials/07-custom-models",
                          exclude: ["torch_equivalent.py"]),
        .executableTarget(name: "08-backprop-free-energy", dependencies: ["Onsager", "OnsagerCommandLine"], path: "Tutorials/08-backprop-free-energy"),
        .executableTarget(name: "09-temperature", dependencies: ["Onsager", "OnsagerCommandLine"], path: "Tutorials/09-temperature"),
        .executableTarget(name: "10-reproductions", dependencies: ["Onsager", "OnsagerCommandLine"], path: "Tutorials/10-reproductions"),
        .testTarget(name: "OnsagerTests", dependencies: ["Onsager", "OnsagerCommandLine", "COnsagerKernels"], path: "Tests/OnsagerTests",
                    resources: [.copy("Golden")]),
    ]
)
