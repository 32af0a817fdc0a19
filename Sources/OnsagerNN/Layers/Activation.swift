import OnsagerCore

/// An elementwise activation as a layer.
public struct Activation<Scalar: TensorScalar>: Layer {
    /// The function applied.
    public enum Kind: Sendable {
        /// max(x, 0).
        case relu
        /// 1 / (1 + e⁻ˣ).
        case sigmoid
        /// tanh x.
        case tanh
        /// ln(1 + eˣ).
        case softplus
        /// x for x > 0, slope·x otherwise.
        case leakyRelu(slope: Double)
        /// x·Φ(x), exact (`torch.nn.GELU()`).
        case gelu
        /// x·σ(x) (`torch.nn.SiLU()`).
        case silu
    }
    /// The function this layer applies.
    public let kind: Kind
    /// An activation layer applying `kind`.
    public init(_ kind: Kind) { self.kind = kind }
    /// The activation applied elementwise.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        switch kind {
        case .relu: return x.relu()
        case .sigmoid: return x.sigmoid()
        case .tanh: return x.tanh()
        case .softplus: return x.softplus()
        case let .leakyRelu(slope): return x.leakyRelu(slope: Scalar(slope))
        case .gelu: return x.gelu()
        case .silu: return x.silu()
        }
    }
    /// Nothing: an activation has no parameters.
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {}
    /// "Activation(relu)".
    public var summary: String { "Activation(\(kind))" }
}
