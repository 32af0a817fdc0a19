import OnsagerCore

/// Inverted dropout: in training, zeroes each element with probability p and scales the rest by
/// 1/(1 − p), so evaluation needs no rescaling; identity in evaluation mode.
public struct Dropout<Scalar: TensorScalar>: Layer {
    /// p, the probability of zeroing an element in training.
    public let probability: Double
    /// Training mode drops; evaluation mode is the identity.
    public var isTraining = true
    /// The generator of the dropout masks, fixed when the layer is made (`RandomGenerator.manualSeed`
    /// called later does not reach it: seed before building the model, or pass a generator).
    public let generator: RandomGenerator
    /// Dropout with probability p in [0, 1).
    public init(probability: Double, generator: RandomGenerator = .current) {
        check((0..<1).contains(probability), "Dropout: probability must lie in [0, 1), got \(probability)")
        self.probability = probability
        self.generator = generator
    }
    /// x with elements dropped and the rest scaled by 1/(1 − p) in training; x in evaluation.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        guard isTraining && probability > 0 else { return x }
        let keep = Tensor<Scalar>.bernoulli(Tensor(repeating: Scalar(1 - probability), shape: x.shape), generator: generator)
        return x * (keep * Scalar(1 / (1 - probability)))
    }
    /// The mode flag and the mask generator.
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {
        v.mode(&isTraining)
        v.randomGenerator("generator", generator)
    }
    /// "Dropout(p: 0.2)".
    public var summary: String { "Dropout(p: \(probability))" }
}
