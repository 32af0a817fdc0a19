import OnsagerCore
/// A differentiable function with registered parameters (`callAsFunction`), S4TF-style.
///
/// Parameters are listed explicitly with stable names (`parameterNames`), never discovered by
/// reflection; non-trainable state (BatchNorm's running statistics) is listed in `stateNames`.
/// Nested layers prefix their children's names ("0.weight", "1.running_mean").
public protocol Layer<Scalar>: ParameterContainer {
    associatedtype Scalar: TensorScalar
    func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar>
    /// Training mode (Dropout drops, BatchNorm uses batch statistics) or evaluation mode.
    var isTraining: Bool { get set }
    /// Names of non-trainable state tensors, saved in checkpoints.
    var stateNames: [String] { get }
    /// Non-trainable state, in the order of `stateNames`.
    var state: [Tensor<Scalar>] { get set }
}

extension Layer {
    public var stateNames: [String] { [] }
    public var state: [Tensor<Scalar>] {
        get { [] }
        set { check(newValue.isEmpty, "\(Self.self) has no state, got \(newValue.count) tensors") }
    }
    /// Switches to evaluation mode (Dropout off, BatchNorm running statistics).
    public mutating func evaluationMode() { isTraining = false }
    /// Switches to training mode.
    public mutating func trainingMode() { isTraining = true }
}

/// Weight initialisers (for a weight of shape [fanIn, fanOut]).
public enum Initializer: Sendable {
    /// Xavier/Glorot uniform: U(−a, a), a = √(6 / (fanIn + fanOut)).
    case glorotUniform
    /// He (Kaiming) normal for ReLU: N(0, 2 / fanIn).
    case heNormal
    /// N(0, std²).
    case normal(std: Double)
    case zeros

    public func make<S: TensorScalar>(_ shape: [Int], generator: RandomGenerator) -> Tensor<S> {
        let fanIn = shape.count > 1 ? shape[0] : 1, fanOut = shape.last ?? 1
        switch self {
        case .glorotUniform:
            let a = S((6.0 / Double(fanIn + fanOut)).squareRoot())
            return Tensor.uniform(shape, low: -a, high: a, generator: generator)
        case .heNormal: return Tensor.normal(shape, std: S((2.0 / Double(fanIn)).squareRoot()), generator: generator)
        case let .normal(std): return Tensor.normal(shape, std: S(std), generator: generator)
        case .zeros: return Tensor.zeros(shape)
        }
    }
}

/// y = x W + b, with W of shape [in, out] (PyTorch stores Wᵀ; checkpoints name it "weight" as [in, out]).
public struct Dense<Scalar: TensorScalar>: Layer {
    public var weight: Tensor<Scalar>
    public var bias: Tensor<Scalar>?
    public var isTraining = true

    public init(inputSize: Int, outputSize: Int, bias: Bool = true, initializer: Initializer = .glorotUniform,
                generator: RandomGenerator = .current) {
        weight = initializer.make([inputSize, outputSize], generator: generator).requiringGrad()
        self.bias = bias ? Tensor<Scalar>.zeros([outputSize]).requiringGrad() : nil
    }
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let y = matmul(x, weight)
        return bias.map { y + $0 } ?? y
    }
    public var parameterNames: [String] { bias == nil ? ["weight"] : ["weight", "bias"] }
    public var parameters: [Tensor<Scalar>] {
        get { bias.map { [weight, $0] } ?? [weight] }
        set { weight = newValue[0]; if bias != nil { bias = newValue[1] } }
    }
}

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

/// Inverted dropout: in training, zeroes each element with probability p and scales the rest by
/// 1/(1 − p), so evaluation needs no rescaling; identity in evaluation mode.
public struct Dropout<Scalar: TensorScalar>: Layer {
    public let probability: Double
    public var isTraining = true
    public let generator: RandomGenerator
    public init(probability: Double, generator: RandomGenerator = .current) {
        check((0..<1).contains(probability), "Dropout: probability must lie in [0, 1), got \(probability)")
        self.probability = probability
        self.generator = generator
    }
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        guard isTraining && probability > 0 else { return x }
        let keep = Tensor<Scalar>.bernoulli(Tensor(repeating: Scalar(1 - probability), shape: x.shape), generator: generator)
        return x * (keep * Scalar(1 / (1 - probability)))
    }
    public var parameterNames: [String] { [] }
    public var parameters: [Tensor<Scalar>] { get { [] } set {} }
}

/// Layer normalisation over the last dimension with a learned scale and shift.
public struct LayerNorm<Scalar: TensorScalar>: Layer {
    public var scale: Tensor<Scalar>, shift: Tensor<Scalar>
    public let epsilon: Double
    public var isTraining = true
    public init(size: Int, epsilon: Double = 1e-5) {
        scale = Tensor<Scalar>.ones([size]).requiringGrad()
        shift = Tensor<Scalar>.zeros([size]).requiringGrad()
        self.epsilon = epsilon
    }
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let mean = x.mean(axis: -1, keepDims: true)
        let v = x.variance(axes: [-1], keepDims: true)
        return (x - mean) / (v + Scalar(epsilon)).sqrt() * scale + shift
    }
    public var parameterNames: [String] { ["weight", "bias"] }
    public var parameters: [Tensor<Scalar>] {
        get { [scale, shift] }
        set { scale = newValue[0]; shift = newValue[1] }
    }
}

/// Batch normalisation over the batch dimension of [n, features] input. In training mode each
/// call normalises with the batch's statistics and updates the running ones (momentum 0.1,
/// unbiased running variance, as PyTorch); evaluation mode uses the running statistics.
///
/// The running statistics live in a shared box so that the (non-mutating) call can update them,
/// also inside `Sequential`; copies of a BatchNorm value share them until `state` is assigned.
public struct BatchNorm<Scalar: TensorScalar>: Layer {
    final class Running: @unchecked Sendable {
        var mean: Tensor<Scalar>, variance: Tensor<Scalar>
        init(mean: Tensor<Scalar>, variance: Tensor<Scalar>) { self.mean = mean; self.variance = variance }
    }
    public var scale: Tensor<Scalar>, shift: Tensor<Scalar>
    let running: Running
    public let momentum: Double, epsilon: Double
    public var isTraining = true
    public init(features: Int, momentum: Double = 0.1, epsilon: Double = 1e-5) {
        scale = Tensor<Scalar>.ones([features]).requiringGrad()
        shift = Tensor<Scalar>.zeros([features]).requiringGrad()
        running = Running(mean: .zeros([features]), variance: .ones([features]))
        self.momentum = momentum
        self.epsilon = epsilon
    }
    public var runningMean: Tensor<Scalar> { running.mean }
    public var runningVariance: Tensor<Scalar> { running.variance }

    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        check(x.rank == 2 && x.shape[1] == scale.shape[0], "BatchNorm: input \(x.shape) for \(scale.shape[0]) features")
        guard isTraining else {
            return (x - running.mean) / (running.variance + Scalar(epsilon)).sqrt() * scale + shift
        }
        let n = x.shape[0]
        let mean = x.mean(axis: 0), v = x.variance(axes: [0])
        let m = Scalar(momentum)
        withoutGrad {
            running.mean = running.mean * (1 - m) + mean.detached() * m
            running.variance = running.variance * (1 - m) + v.detached() * Scalar(Double(n) / Double(Swift.max(n - 1, 1))) * m
        }
        return (x - mean) / (v + Scalar(epsilon)).sqrt() * scale + shift
    }
    public var parameterNames: [String] { ["weight", "bias"] }
    public var parameters: [Tensor<Scalar>] {
        get { [scale, shift] }
        set { scale = newValue[0]; shift = newValue[1] }
    }
    public var stateNames: [String] { ["running_mean", "running_var"] }
    public var state: [Tensor<Scalar>] {
        get { [running.mean, running.variance] }
        set { running.mean = newValue[0]; running.variance = newValue[1] }
    }
}

/// Layers applied in order; parameters and state are named "<index>.<name>".
public struct Sequential<Scalar: TensorScalar>: Layer {
    public var layers: [any Layer<Scalar>]
    public init(_ layers: [any Layer<Scalar>]) { self.layers = layers }
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { layers.reduce(x) { $1($0) } }
    public var isTraining: Bool {
        get { layers.first?.isTraining ?? true }
        set { for i in layers.indices { layers[i].isTraining = newValue } }
    }
    public var parameterNames: [String] { layers.enumerated().flatMap { i, l in l.parameterNames.map { "\(i).\($0)" } } }
    public var parameters: [Tensor<Scalar>] {
        get { layers.flatMap { $0.parameters } }
        set { distribute(newValue, count: { $0.parameters.count }, assign: { $0.parameters = $1 }) }
    }
    public var stateNames: [String] { layers.enumerated().flatMap { i, l in l.stateNames.map { "\(i).\($0)" } } }
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
