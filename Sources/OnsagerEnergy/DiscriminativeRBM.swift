import OnsagerCore
import OnsagerNN

/// The classification RBM of Larochelle & Bengio (2008): one hidden layer h over inputs x and a
/// one-hot class y, with energy
///
///     E(x, y, h) = −c·x − d·y − b·h − xᵀWh − yᵀUh,
///
/// so that the class posterior is exact and cheap, a softmax of free energies:
///
///     p(y | x) = softmax_y(−F(x, y)),   −F(x, y) = c·x + d_y + Σⱼ softplus(bⱼ + (xW)ⱼ + U_yj).
///
/// Every quantity is a tensor graph, so the discriminative objective (conditional
/// log-likelihood), the generative one (contrastive divergence on the joint, with the class
/// sampled from its softmax conditional) and their hybrid are losses for any optimizer.
public struct DiscriminativeRBM<Scalar: TensorScalar>: Module {
    /// W, shape [inputs, hidden] ("weights").
    public var weights: Tensor<Scalar>
    /// U, shape [classes, hidden] ("class_weights").
    public var classWeights: Tensor<Scalar>
    /// b, shape [hidden] ("hidden_bias").
    public var hiddenBias: Tensor<Scalar>
    /// c, shape [inputs] ("visible_bias").
    public var visibleBias: Tensor<Scalar>
    /// d, shape [classes] ("class_bias").
    public var classBias: Tensor<Scalar>

    /// A model with W, U ~ N(0, weightStd²) and zero biases.
    public init(inputs: Int, hidden: Int, classes: Int, weightStd: Scalar = 0.01, generator: RandomGenerator = .current) {
        check(inputs > 0 && hidden > 0 && classes > 1, "DiscriminativeRBM: needs inputs, hidden > 0 and at least 2 classes")
        weights = Tensor<Scalar>.normal([inputs, hidden], std: weightStd, generator: generator).requiringGrad()
        classWeights = Tensor<Scalar>.normal([classes, hidden], std: weightStd, generator: generator).requiringGrad()
        hiddenBias = Tensor<Scalar>.zeros([hidden]).requiringGrad()
        visibleBias = Tensor<Scalar>.zeros([inputs]).requiringGrad()
        classBias = Tensor<Scalar>.zeros([classes]).requiringGrad()
    }

    /// A model with the given parameters (kept as they are when they already require gradients).
    public init(weights: Tensor<Scalar>, classWeights: Tensor<Scalar>, hiddenBias: Tensor<Scalar>,
                visibleBias: Tensor<Scalar>, classBias: Tensor<Scalar>) {
        check(weights.rank == 2 && classWeights.rank == 2 && classWeights.shape[1] == weights.shape[1],
              "DiscriminativeRBM: weights \(weights.shape) and class weights \(classWeights.shape) must share the hidden size")
        check(hiddenBias.shape == [weights.shape[1]] && visibleBias.shape == [weights.shape[0]] && classBias.shape == [classWeights.shape[0]],
              "DiscriminativeRBM: biases \(visibleBias.shape), \(hiddenBias.shape), \(classBias.shape) do not fit weights \(weights.shape), \(classWeights.shape)")
        func leaf(_ t: Tensor<Scalar>) -> Tensor<Scalar> { t.requiresGrad ? t : t.requiringGrad() }
        self.weights = leaf(weights); self.classWeights = leaf(classWeights); self.hiddenBias = leaf(hiddenBias)
        self.visibleBias = leaf(visibleBias); self.classBias = leaf(classBias)
    }

    /// Number of input units.
    public var inputCount: Int { weights.shape[0] }
    /// Number of hidden units.
    public var hiddenCount: Int { weights.shape[1] }
    /// Number of classes.
    public var classCount: Int { classWeights.shape[0] }

    /// "weights", "class_weights", "hidden_bias", "visible_bias", "class_bias".
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {
        v.parameter("weights", &weights)
        v.parameter("class_weights", &classWeights)
        v.parameter("hidden_bias", &hiddenBias)
        v.parameter("visible_bias", &visibleBias)
        v.parameter("class_bias", &classBias)
    }
    /// "DiscriminativeRBM(inputs ↔ hidden ↔ classes)".
    public var summary: String { "DiscriminativeRBM(\(inputCount) ↔ \(hiddenCount) ↔ \(classCount))" }

    /// −F(x, y) − c·x for every class: d_y + Σⱼ softplus(bⱼ + (xW)ⱼ + U_yj), shape [n, classes].
    /// The term c·x is the same for every class, so these are the logits of p(y | x).
    public func classLogits(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        check(x.rank == 2 && x.shape[1] == inputCount, "DiscriminativeRBM: input \(x.shape) for \(inputCount) inputs")
        let field = matmul(x, weights, adding: hiddenBias)                            // [n, hidden]
        let perClass = field.unsqueezed(1) + classWeights.unsqueezed(0)               // [n, classes, hidden]
        return perClass.softplus().sum(axis: -1) + classBias
    }

    /// log p(y | x) for every class, shape [n, classes].
    public func logClassProbabilities(_ x: Tensor<Scalar>) -> Tensor<Scalar> { classLogits(x).logSoftmax(axis: 1) }

    /// The most probable class of each row.
    public func predict(_ x: Tensor<Scalar>) -> [Int] { withoutGrad { classLogits(x).argmax(axis: 1) } }

    /// F(x, y) per row for one-hot (or soft) class rows y [n, classes].
    public func freeEnergy(_ x: Tensor<Scalar>, _ y: Tensor<Scalar>) -> Tensor<Scalar> {
        let field = matmul(x, weights) + matmul(y, classWeights) + hiddenBias
        return -(matmul(x, visibleBias) + matmul(y, classBias)) - field.softplus().sum(axis: -1)
    }

    /// The discriminative objective: mean −log p(y | x) (Larochelle & Bengio's conditional likelihood).
    public func discriminativeLoss(_ x: Tensor<Scalar>, labels: [Int]) -> Tensor<Scalar> {
        Loss.softmaxCrossEntropy(logits: classLogits(x), labels: labels)
    }

    /// The generative objective as a CD-k loss on the joint (x, y): mean F(x, y) over the data
    /// minus mean F over the negative particles after k Gibbs steps (x ~ Bernoulli, y ~ softmax),
    /// which are cut from the tape. Its gradient is the CD update of −log p(x, y).
    public func generativeLoss(_ x: Tensor<Scalar>, labels: [Int], k: Int = 1, generator: RandomGenerator = .current) -> Tensor<Scalar> {
        check(k >= 1, "DiscriminativeRBM: k must be at least 1, got \(k)")
        let y = Tensor<Scalar>.oneHot(labels, classes: classCount)
        let (xn, yn) = withoutGrad { () -> (Tensor<Scalar>, Tensor<Scalar>) in
            var xs = x.detached(), ys = y
            for _ in 0..<k {
                let h = Tensor<Scalar>.bernoulli(logits: matmul(xs, weights) + matmul(ys, classWeights) + hiddenBias, generator: generator)
                xs = Tensor<Scalar>.bernoulli(logits: matmul(h, weights.T) + visibleBias, generator: generator)
                ys = Self.sampleCategorical((matmul(h, classWeights.T) + classBias).softmax(axis: 1), generator: generator)
            }
            return (xs, ys)
        }
        return freeEnergy(x, y).mean() - freeEnergy(xn, yn).mean()
    }

    /// The hybrid objective: discriminative + α · generative (Larochelle & Bengio's α).
    public func hybridLoss(_ x: Tensor<Scalar>, labels: [Int], alpha: Double, k: Int = 1, generator: RandomGenerator = .current) -> Tensor<Scalar> {
        let d = discriminativeLoss(x, labels: labels)
        return alpha == 0 ? d : d + generativeLoss(x, labels: labels, k: k, generator: generator) * Scalar(alpha)
    }

    /// One-hot rows drawn from the categorical distributions in the rows of `p`.
    static func sampleCategorical(_ p: Tensor<Scalar>, generator: RandomGenerator) -> Tensor<Scalar> {
        let (n, c) = (p.shape[0], p.shape[1])
        let u = Tensor<Double>.uniform([n], generator: generator).scalars
        let probs = p.scalars
        var labels = [Int](repeating: c - 1, count: n)
        for r in 0..<n {
            var acc = 0.0
            for j in 0..<c {
                acc += Double(probs[r * c + j])
                if u[r] < acc { labels[r] = j; break }
            }
        }
        return Tensor.oneHot(labels, classes: c)
    }
}
