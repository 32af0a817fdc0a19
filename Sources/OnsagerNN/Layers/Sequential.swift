import OnsagerCore

/// Layers applied in order; their contents are named "<index>.<name>" ("0.weight"), as in
/// `torch.nn.Sequential`.
public struct Sequential<Scalar: TensorScalar>: Layer {
    /// The layers, applied first to last.
    public var layers: [any Layer<Scalar>]
    /// Layers applied in the given order.
    public init(_ layers: [any Layer<Scalar>]) { self.layers = layers }
    /// The output of the last layer.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { layers.reduce(x) { $1($0) } }
    /// Each layer as the child named by its index.
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {
        for i in layers.indices { layers[i].accept(as: String(i), by: &v) }
    }
}
