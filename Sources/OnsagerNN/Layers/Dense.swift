import OnsagerCore

/// y = x Wᵀ + b, with W stored [out, in] as `torch.nn.Linear` stores it, so checkpoints load
/// into the equivalent PyTorch module unchanged.
public struct Dense<Scalar: TensorScalar>: Layer {
    /// W, shape [outputSize, inputSize] ("weight").
    public var weight: Tensor<Scalar>
    /// b, shape [outputSize] ("bias"), or nil for a layer without bias.
    public var bias: Tensor<Scalar>?

    /// A dense layer with W from `initializer` (fan-in `inputSize`) and b = 0.
    public init(inputSize: Int, outputSize: Int, bias: Bool = true, initializer: Initializer = .glorotUniform,
                generator: RandomGenerator = .current) {
        check(inputSize > 0 && outputSize > 0, "Dense: sizes must be positive, got \(inputSize) → \(outputSize)")
        weight = initializer.make([outputSize, inputSize], fanIn: inputSize, fanOut: outputSize, generator: generator).requiringGrad()
        self.bias = bias ? Tensor<Scalar>.zeros([outputSize]).requiringGrad() : nil
    }

    /// A dense layer with the given weight [out, in] and bias [out] (leaves that require gradients).
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>?) {
        check(weight.rank == 2, "Dense: weight must be [out, in], got \(weight.shape)")
        if let bias { check(bias.shape == [weight.shape[0]], "Dense: bias \(bias.shape) for weight \(weight.shape)") }
        self.weight = weight.requiresGrad ? weight : weight.requiringGrad()
        self.bias = bias.map { $0.requiresGrad ? $0 : $0.requiringGrad() }
    }

    /// Number of input features.
    public var inputSize: Int { weight.shape[1] }
    /// Number of output features.
    public var outputSize: Int { weight.shape[0] }

    /// x Wᵀ + b for rows x.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { linear(x, weight: weight, bias: bias) }

    /// "weight" and, with a bias, "bias".
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {
        v.parameter("weight", &weight)
        v.parameter("bias", &bias)
    }
    /// "Dense(in → out)".
    public var summary: String { "Dense(\(inputSize) → \(outputSize)\(bias == nil ? ", no bias" : ""))" }
}
