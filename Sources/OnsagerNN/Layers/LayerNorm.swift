import OnsagerCore

/// Layer normalisation over the last dimension with a learned scale and shift.
public struct LayerNorm<Scalar: TensorScalar>: Layer {
    /// γ, the learned scale per feature ("weight" in checkpoints).
    public var scale: Tensor<Scalar>
    /// β, the learned shift per feature ("bias" in checkpoints).
    public var shift: Tensor<Scalar>
    /// Added to the variance before the square root.
    public let epsilon: Double
    /// Layer normalisation of the last dimension, of length `size`: γ = 1, β = 0.
    public init(size: Int, epsilon: Double = 1e-5) {
        scale = Tensor<Scalar>.ones([size]).requiringGrad()
        shift = Tensor<Scalar>.zeros([size]).requiringGrad()
        self.epsilon = epsilon
    }
    /// (x − mean) / √(variance + ε) · γ + β over the last dimension (normalisation and affine map
    /// one kernel per row forward; backward one to x and one pass for γ's and β's gradients).
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        check(x.rank >= 1 && x.shape[x.rank - 1] == scale.shape[0],
              "LayerNorm: input \(x.shape) does not end in \(scale.shape[0]) features")
        return x.layerNormalized(scale: scale, shift: shift, epsilon: epsilon)
    }
    /// "weight" (γ) and "bias" (β), as PyTorch names them.
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {
        v.parameter("weight", &scale)
        v.parameter("bias", &shift)
    }
    /// "LayerNorm(size)".
    public var summary: String { "LayerNorm(\(scale.shape[0]))" }
}
