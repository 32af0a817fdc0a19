import OnsagerCore
/// Something with parameters registered explicitly, by stable names and in a stable order (no
/// reflection: a parameter that is not listed is not trained, and checkpoints load strictly).
public protocol ParameterContainer {
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

/// An update rule: reads each parameter's `grad` and changes the parameter in place.
public protocol Optimizer {
    associatedtype Scalar: TensorScalar
    /// The step size used by the next `step`.
    var learningRate: Double { get set }
    /// Updates `parameters` from their gradients. Parameters without a gradient are left alone.
    /// State is kept per position, so pass the same parameters in the same order every time.
    mutating func step(_ parameters: inout [Tensor<Scalar>])
    /// The optimizer's state (moment buffers, step counts) by name, for checkpoints. Names carry
    /// the parameter's position ("m.0", "step.2"); assigning restores it.
    var stateTensors: [String: Tensor<Scalar>] { get set }
}

/// Helpers for optimizers' per-position state.
enum OptimizerState {
    /// `values` extended with `fill` up to `count` entries (never shortened, so restored state survives).
    static func padded<T>(_ values: [T], to count: Int, with fill: T) -> [T] {
        values + Array(repeating: fill, count: Swift.max(0, count - values.count))
    }
    static func export<S>(_ prefix: String, _ values: [Tensor<S>?]) -> [String: Tensor<S>] {
        var out: [String: Tensor<S>] = [:]
        for (i, v) in values.enumerated() { if let v { out["\(prefix).\(i)"] = v } }
        return out
    }
    static func restore<S>(_ prefix: String, from dict: [String: Tensor<S>]) -> [Tensor<S>?] {
        let keys = dict.keys.filter { $0.hasPrefix(prefix + ".") }
        let indices = keys.compactMap { Int($0.dropFirst(prefix.count + 1)) }
        guard let n = indices.max() else { return [] }
        return (0...n).map { dict["\(prefix).\($0)"] }
    }
    static func counts<S>(_ prefix: String, _ values: [Int]) -> [String: Tensor<S>] {
        Dictionary(uniqueKeysWithValues: values.enumerated().map { ("\(prefix).\($0.offset)", Tensor<S>(S($0.element))) })
    }
    static func restoreCounts<S>(_ prefix: String, from dict: [String: Tensor<S>]) -> [Int] {
        restore(prefix, from: dict).map { $0.map { Int(Double($0.item)) } ?? 0 }
    }
}
