import OnsagerCore

/// Layers applied in order; parameters and state are named "<index>.<name>".
public struct Sequential<Scalar: TensorScalar>: Layer {
    /// The layers, applied first to last.
    public var layers: [any Layer<Scalar>]
    /// Layers applied in the given order.
    public init(_ layers: [any Layer<Scalar>]) { self.layers = layers }
    /// The output of the last layer.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { layers.reduce(x) { $1($0) } }
    /// The first layer's mode; setting it sets every layer's.
    public var isTraining: Bool {
        get { layers.first?.isTraining ?? true }
        set { for i in layers.indices { layers[i].isTraining = newValue } }
    }
    /// Names of the parameters, as in checkpoints: each layer's, prefixed with its index ("0.weight").
    public var parameterNames: [String] { layers.enumerated().flatMap { i, l in l.parameterNames.map { "\(i).\($0)" } } }
    /// The parameters: every layer's, in order (assigning replaces them in that order).
    public var parameters: [Tensor<Scalar>] {
        get { layers.flatMap { $0.parameters } }
        set { distribute(newValue, count: { $0.parameters.count }, assign: { $0.parameters = $1 }) }
    }
    /// Every layer's state names, prefixed with its index ("1.running_mean").
    public var stateNames: [String] { layers.enumerated().flatMap { i, l in l.stateNames.map { "\(i).\($0)" } } }
    /// Every layer's state, in order (assigning hands each layer its slice).
    public var state: [Tensor<Scalar>] {
        get { layers.flatMap { $0.state } }
        set { distribute(newValue, count: { $0.state.count }, assign: { $0.state = $1 }) }
    }

    /// Hands each layer its consecutive slice of a flat list (parameters or state).
    private mutating func distribute(_ values: [Tensor<Scalar>], count: (any Layer<Scalar>) -> Int,
                                     assign: (inout any Layer<Scalar>, [Tensor<Scalar>]) -> Void) {
        var k = 0
        for i in layers.indices {
            let c = count(layers[i])
            assign(&layers[i], Array(values[k..<(k + c)]))
            k += c
        }
        check(k == values.count, "Sequential: \(values.count) tensors for \(k) slots")
    }
}
