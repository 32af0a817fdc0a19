// swift-tools-version:6.0
// Onsager over MPI: collectives on tensors, data-parallel training and sharded AIS. A package of its
// own so that the main package (and its README's two commands) need nothing but the toolchain;
// this one needs OpenMPI (Debian: libopenmpi-dev, openmpi-bin).
import PackageDescription

let package = Package(
    name: "OnsagerDistributed",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "OnsagerDistributed", targets: ["OnsagerDistributed"]),
        .executable(name: "onsager-mpi", targets: ["onsager-mpi"]),
    ],
    dependencies: [.package(name: "Onsager", path: "..")],
    targets: [
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"]), .brew(["open-mpi"])]),
        .target(name: "OnsagerDistributed", dependencies: ["CMPI", .product(name: "Onsager", package: "Onsager")]),
        .executableTarget(name: "onsager-mpi", dependencies: ["OnsagerDistributed", .product(name: "Onsager", package: "Onsager")]),
        .testTarget(name: "OnsagerDistributedTests", dependencies: ["OnsagerDistributed", .product(name: "Onsager", package: "Onsager")]),
    ]
)
