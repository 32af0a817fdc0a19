import OnsagerCore

/// Magnetizations: mean visible and hidden activations, one row per particle.
public struct Magnetizations<Scalar: TensorScalar> {
    /// Visible magnetizations mv, shape [particles, visible].
    public var visible: Tensor<Scalar>
    /// Hidden magnetizations mh, shape [particles, hidden].
    public var hidden: Tensor<Scalar>

    /// Magnetizations from their two layers (same number of rows).
    public init(visible: Tensor<Scalar>, hidden: Tensor<Scalar>) {
        check(visible.rank == 2 && hidden.rank == 2 && visible.shape[0] == hidden.shape[0],
              "Magnetizations: visible \(visible.shape) and hidden \(hidden.shape) must be [n, ·] with the same n")
        self.visible = visible
        self.hidden = hidden
    }

    /// The same values cut from the tape (the envelope-theorem gradient treats m* as constant).
    public func detached() -> Magnetizations { Magnetizations(visible: visible.detached(), hidden: hidden.detached()) }
}
