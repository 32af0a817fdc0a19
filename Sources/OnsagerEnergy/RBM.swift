import OnsagerCore
import OnsagerNN
import Foundation

/// A Bernoulli–Bernoulli restricted Boltzmann machine with an explicit inverse temperature β.
///
/// Energy E(v, h) = −a·v − b·h − vᵀWh and p(v, h) = exp(−βE)/Z: every weight and bias enters
/// multiplied by β, in the energy, the conditionals, the free energy and sampling. All methods are
/// tensor ops, so free energies are differentiable graphs (training uses the tape, not hand
/// gradients).
public struct RBM<Scalar: TensorScalar>: Module {
    /// W, shape [visible, hidden].
    public var weights: Tensor<Scalar>
    /// a, shape [visible].
    public var visibleBias: Tensor<Scalar>
    /// b, shape [hidden].
    public var hiddenBias: Tensor<Scalar>
    /// Inverse temperature β (1 for ordinary training).
    public var beta: Scalar

    /// Number of visible units.
    public var visibleCount: Int { weights.shape[0] }
    /// Number of hidden units.
    public var hiddenCount: Int { weights.shape[1] }

    /// An RBM with the given parameters. Tensors that do not yet require gradients become leaves;
    /// ones that do are kept as they are (so an RBM can be built inside a differentiated function).
    public init(weights: Tensor<Scalar>, visibleBias: Tensor<Scalar>, hiddenBias: Tensor<Scalar>, beta: Scalar = 1) {
        check(weights.rank == 2, "RBM: weights must be [visible, hidden], got \(weights.shape)")
        check(visibleBias.shape == [weights.shape[0]], "RBM: visible bias \(visibleBias.shape) does not match weights \(weights.shape)")
        check(hiddenBias.shape == [weights.shape[1]], "RBM: hidden bias \(hiddenBias.shape) does not match weights \(weights.shape)")
        func leaf(_ t: Tensor<Scalar>) -> Tensor<Scalar> { t.requiresGrad ? t : t.requiringGrad() }
        self.weights = leaf(weights)
        self.visibleBias = leaf(visibleBias)
        self.hiddenBias = leaf(hiddenBias)
        self.beta = beta
    }

    /// The literature's initialisation (Hinton's practical guide): W ~ N(0, std²), hidden bias 0,
    /// visible bias logit(pᵢ) of the data marginals pᵢ clipped to [clip, 1 − clip] (0 without data).
    public init(visible: Int, hidden: Int, weightStd: Scalar = 0.01, data: Tensor<Scalar>? = nil,
                clip: Scalar = 0.001, generator: RandomGenerator = .current) {
        let w = Tensor<Scalar>.normal([visible, hidden], std: weightStd, generator: generator)
        var a = Tensor<Scalar>.zeros([visible])
        if let data {
            check(data.rank == 2 && data.shape[1] == visible, "RBM: data of shape \(data.shape) for \(visible) visible units")
            let p = data.mean(axis: 0).clamped(min: clip, max: 1 - clip)
            a = (p / (1 - p)).log()
        }
        self.init(weights: w, visibleBias: a, hiddenBias: .zeros([hidden]))
    }

    /// "weights", "visible_bias" and "hidden_bias", as in checkpoints.
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {
        v.parameter("weights", &weights)
        v.parameter("visible_bias", &visibleBias)
        v.parameter("hidden_bias", &hiddenBias)
    }
    /// "RBM(visible ↔ hidden, β)".
    public var summary: String { "RBM(\(visibleCount) ↔ \(hiddenCount)\(beta == 1 ? "" : ", β = \(beta)"))" }

    // β-scaled parameters: the only place β enters.
    var w: Tensor<Scalar> { beta == 1 ? weights : weights * beta }
    var a: Tensor<Scalar> { beta == 1 ? visibleBias : visibleBias * beta }
    var b: Tensor<Scalar> { beta == 1 ? hiddenBias : hiddenBias * beta }

    /// β(b + vW), the hidden pre-activations of visible rows v [n, visible].
    public func hiddenField(_ v: Tensor<Scalar>) -> Tensor<Scalar> { matmul(v, w, adding: b) }
    /// β(a + Wh), the visible pre-activations of hidden rows h [n, hidden].
    public func visibleField(_ h: Tensor<Scalar>) -> Tensor<Scalar> { matmul(h, w.T, adding: a) }

    /// β·E(v, h) per row.
    public func energy(_ v: Tensor<Scalar>, _ h: Tensor<Scalar>) -> Tensor<Scalar> {
        -(matmul(v, a) + matmul(h, b) + (matmul(v, w) * h).sum(axis: 1))
    }

    /// P(h = 1 | v), also the features `transform` returns.
    public func hiddenProbabilities(_ v: Tensor<Scalar>) -> Tensor<Scalar> { hiddenField(v).sigmoid() }
    /// P(v = 1 | h).
    public func visibleProbabilities(_ h: Tensor<Scalar>) -> Tensor<Scalar> { visibleField(h).sigmoid() }
    /// Hidden probabilities as features (scikit-learn's `transform`).
    public func transform(_ v: Tensor<Scalar>) -> Tensor<Scalar> { withoutGrad { hiddenProbabilities(v) } }

    /// Mean-field reconstruction P(v | h = P(h|v)).
    public func reconstruct(_ v: Tensor<Scalar>) -> Tensor<Scalar> {
        withoutGrad { visibleProbabilities(hiddenProbabilities(v)) }
    }

    /// Samples h ~ P(h | v).
    public func sampleHidden(_ v: Tensor<Scalar>, generator: RandomGenerator = .current) -> Tensor<Scalar> {
        withoutGrad { Tensor.bernoulli(logits: hiddenField(v), generator: generator) }
    }
    /// Samples v ~ P(v | h).
    public func sampleVisible(_ h: Tensor<Scalar>, generator: RandomGenerator = .current) -> Tensor<Scalar> {
        withoutGrad { Tensor.bernoulli(logits: visibleField(h), generator: generator) }
    }

    /// k steps of block Gibbs sampling v → h → v from `v`; returns the final visible sample.
    public func gibbs(from v: Tensor<Scalar>, steps k: Int, generator: RandomGenerator = .current) -> Tensor<Scalar> {
        check(k >= 0, "gibbs: steps must be non-negative, got \(k)")
        var x = v.detached()
        for _ in 0..<k { x = sampleVisible(sampleHidden(x, generator: generator), generator: generator) }
        return x
    }

    /// Fantasy samples: `chains` chains from uniform noise, `steps` Gibbs steps; returns the last
    /// visible probabilities (smoother to look at than binary samples).
    public func fantasies(chains: Int, steps: Int, generator: RandomGenerator = .current) -> Tensor<Scalar> {
        let start = Tensor<Scalar>.bernoulli(Tensor(repeating: 0.5, shape: [chains, visibleCount]), generator: generator)
        let v = gibbs(from: start, steps: steps, generator: generator)
        return withoutGrad { visibleProbabilities(sampleHidden(v, generator: generator)) }
    }

    /// A copy with every parameter converted to another precision (e.g. Double for exact log Z).
    public func converted<T: TensorScalar>(to: T.Type) -> RBM<T> {
        func cv(_ t: Tensor<Scalar>) -> Tensor<T> { Tensor<T>(shape: t.shape, scalars: t.scalars.map { T(Double($0)) }) }
        return RBM<T>(weights: cv(weights), visibleBias: cv(visibleBias), hiddenBias: cv(hiddenBias), beta: T(Double(beta)))
    }
}
