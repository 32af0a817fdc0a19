import OnsagerCore

/// y = x W + b, with W of shape [in, out] (PyTorch stores Wᵀ; checkpoints name it "weight" as [in, out]).
public struct Dense<Scalar: TensorScalar>: Layer {
    /// W, shape [inputSize, outputSize].
    public var weight: Tensor<Scalar>
    /// b, shape [outputSize], or nil for a layer without bias.
    public var bias: Tensor<Scalar>?
    /// Unused (a dense layer behaves the same in both modes); kept for the `Layer` protocol.
    public var isTraining = true

    /// A dense layer with W from `initializer` and b = 0.
    public init(inputSize: Int, outputSize: Int, bias: Bool = true, initializer: Initializer = .glorotUniform,
                generator: RandomGenerator = .current) {
        weight = initializer.make([inputSize, outputSize], generator: generator).requiringGrad()
        self.bias = bias ? Tensor<Scalar>.zeros([outputSize]).requiringGrad() : nil
    }
    /// x W + b for rows x.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let y = matmul(x, weight)
        return bias.map { y + $0 } ?? y
    }
    /// Names of the parameters, as in checkpoints: "weight" and, with a bias, "bias".
    public var parameterNames: [String] { bias == nil ? ["weight"] : ["weight", "bias"] }
    /// The parameters: W and, with a bias, b (assigning replaces them in that order).
    public var parameters: [Tensor<Scalar>] {
        get { bias.map { [weight, $0] } ?? [weight] }
        set { weight = newValue[0]; if bias != nil { bias = newValue[1] } }
    }
}
