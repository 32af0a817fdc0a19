import OnsagerCore

/// x + body(x): a skip connection around any layer whose output has the input's shape. The
/// body's contents are named "body.…".
public struct Residual<Body: Layer>: Layer {
    /// The element type.
    public typealias Scalar = Body.Scalar
    /// The layer the skip connection goes around.
    public var body: Body
    /// A skip connection around `body`.
    public init(_ body: Body) { self.body = body }
    /// x + body(x); stops naming both shapes if they differ.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let y = body(x)
        check(y.shape == x.shape, "Residual: the body maps \(x.shape) to \(y.shape); a skip connection needs the same shape")
        return x + y
    }
    /// The body, as the child "body".
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar { v.child("body", &body) }
}
