import OnsagerCore

/// Something with parameters registered explicitly, by stable names and in a stable order (no
/// reflection: a parameter that is not listed is not trained, and checkpoints load strictly).
public protocol ParameterContainer {
    /// The element type of the parameters.
    associatedtype Scalar: TensorScalar
    /// Names of the parameters, in the order of `parameters`.
    var parameterNames: [String] { get }
    /// The parameter tensors (leaves that require gradients while training).
    var parameters: [Tensor<Scalar>] { get set }
}

extension ParameterContainer {
    /// Clears every parameter's gradient.
    public func zeroGradients() { for p in parameters { p.zeroGrad() } }

    /// Applies one optimizer step to the parameters, in place. The container's own references are
    /// dropped for the duration, so the optimizer writes into uniquely held storage (no copy).
    public mutating func update<O: Optimizer>(with optimizer: inout O) where O.Scalar == Scalar {
        var ps = parameters
        parameters = ps.map { _ in Tensor<Scalar>.zeros([0]) }
        optimizer.step(&ps)
        parameters = ps
    }
}
