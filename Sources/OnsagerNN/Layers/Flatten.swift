import OnsagerCore

/// [N, d1, d2, …] → [N, d1·d2·…] (`torch.nn.Flatten()`), or back with `Unflatten`.
public struct Flatten<Scalar: TensorScalar>: Layer {
    /// A flattening layer.
    public init() {}
    /// Each row flattened.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.reshaped([x.shape[0], -1]) }
    /// Nothing: no parameters.
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {}
}

/// [N, d] → [N] + `shape` (`torch.nn.Unflatten(1, shape)`).
public struct Unflatten<Scalar: TensorScalar>: Layer {
    /// The shape each row takes.
    public let shape: [Int]
    /// Rows reshaped to `shape`.
    public init(_ shape: [Int]) { self.shape = shape }
    /// Each row reshaped.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.reshaped([x.shape[0]] + shape) }
    /// Nothing: no parameters.
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {}
    /// "Unflatten([1, 28, 28])".
    public var summary: String { "Unflatten(\(shape))" }
}
