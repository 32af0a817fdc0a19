// The umbrella module: `import Onsager` brings every layer of the library into scope.
@_exported import OnsagerCore
@_exported import OnsagerLinearAlgebra
@_exported import OnsagerNN
@_exported import OnsagerData
@_exported import OnsagerPlot
@_exported import OnsagerEnergy

/// The library's version (semantic versioning; the same string as the package's release tag).
public enum OnsagerVersion {
    /// "major.minor.patch".
    public static let string = "0.4.0"
}
