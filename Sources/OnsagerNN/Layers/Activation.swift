import OnsagerCore

/// An elementwise activation as a layer.
public struct Activation<Scalar: TensorScalar>: Layer {
    public enum Kind: Sendable { case relu, sigmoid, tanh, softplus, leakyRelu(slope: Double) }
    public let kind: Kind
    public var isTraining = true
    public init(_ kind: Kind) { self.kind = kind }
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        switch kind {
        case .relu: return x.relu()
        case .sigmoid: return x.sigmoid()
        case .tanh: return x.tanh()
        case .softplus: return x.softplus()
        case let .leakyRelu(slope): return x.leakyRelu(slope: Scalar(slope))
        }
    }
    public var parameterNames: [String] { [] }
    public var parameters: [Tensor<Scalar>] { get { [] } set {} }
}
