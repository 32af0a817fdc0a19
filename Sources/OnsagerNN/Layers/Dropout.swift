import OnsagerCore

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
