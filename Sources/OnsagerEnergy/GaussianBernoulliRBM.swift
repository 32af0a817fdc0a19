import OnsagerCore
import OnsagerNN
import Foundation

/// An RBM with real-valued (Gaussian) visible units and binary hidden units, in the
/// parametrisation of Cho, Raiko & Ilin (2011):
///
///     E(v, h) = Σᵢ (vᵢ − bᵢ)²/(2σᵢ²) − Σⱼ cⱼ hⱼ − Σᵢⱼ Wᵢⱼ hⱼ vᵢ/σᵢ²,   σᵢ² = exp(zᵢ),
///
/// so p(v | h) = N(b + W h, diag σ²), p(hⱼ = 1 | v) = σ(cⱼ + Σᵢ Wᵢⱼ vᵢ/σᵢ²), and the free energy
/// F(v) = Σᵢ (vᵢ − bᵢ)²/(2σᵢ²) − Σⱼ softplus(cⱼ + Σᵢ Wᵢⱼ vᵢ/σᵢ²). The integral over v is Gaussian,
/// so ln Z is exact by enumerating the hidden layer. The log-variances z are learned (a parameter)
/// or fixed (a buffer), as chosen at creation. Log-likelihoods are densities, in nats.
public struct GaussianBernoulliRBM<Scalar: TensorScalar>: Module {
    /// W, [visible, hidden].
    public var weights: Tensor<Scalar>
    /// Visible means b, [visible].
    public var visibleBias: Tensor<Scalar>
    /// Hidden biases c, [hidden].
    public var hiddenBias: Tensor<Scalar>
    /// Log-variances z of the visible units, [visible].
    public var logVariance: Tensor<Scalar>
    /// Whether z is trained (a parameter) or fixed (a buffer).
    public let learnsVariance: Bool

    /// A model with the given parameters (leaves of the tape).
    public init(weights: Tensor<Scalar>, visibleBias: Tensor<Scalar>, hiddenBias: Tensor<Scalar>, logVariance: Tensor<Scalar>,
                learnsVariance: Bool = true) {
        check(weights.rank == 2, "GaussianBernoulliRBM: weights must be [visible, hidden], got \(weights.shape)")
        let (nv, nh) = (weights.shape[0], weights.shape[1])
        check(visibleBias.shape == [nv] && logVariance.shape == [nv] && hiddenBias.shape == [nh],
              "GaussianBernoulliRBM: biases \(visibleBias.shape), \(hiddenBias.shape) and log-variances \(logVariance.shape) do not match weights \(weights.shape)")
        func leaf(_ t: Tensor<Scalar>) -> Tensor<Scalar> { t.requiresGrad ? t : t.requiringGrad() }
        self.weights = leaf(weights)
        self.visibleBias = leaf(visibleBias)
        self.hiddenBias = leaf(hiddenBias)
        self.logVariance = learnsVariance ? leaf(logVariance) : logVariance.detached()
        self.learnsVariance = learnsVariance
    }

    /// W ~ N(0, std²), hidden biases 0, visible means and variances from `data` (else 0 and 1).
    public init(visible: Int, hidden: Int, weightStd: Scalar = 0.01, data: Tensor<Scalar>? = nil, learnsVariance: Bool = true,
                generator: RandomGenerator = .current) {
        var mean = Tensor<Scalar>.zeros([visible]), logVar = Tensor<Scalar>.zeros([visible])
        if let data {
            check(data.rank == 2 && data.shape[1] == visible, "GaussianBernoulliRBM: data of shape \(data.shape) for \(visible) visible units")
            mean = withoutGrad { data.mean(axis: 0) }
            logVar = withoutGrad { data.variance(axes: [0]).clamped(min: 1e-4, max: 1e4).log() }
        }
        self.init(weights: Tensor.normal([visible, hidden], std: weightStd, generator: generator), visibleBias: mean,
                  hiddenBias: .zeros([hidden]), logVariance: logVar, learnsVariance: learnsVariance)
    }

    /// "weights", "visible_bias", "hidden_bias" and "log_variance" (a buffer when fixed).
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {
        v.parameter("weights", &weights)
        v.parameter("visible_bias", &visibleBias)
        v.parameter("hidden_bias", &hiddenBias)
        if learnsVariance { v.parameter("log_variance", &logVariance) } else { v.buffer("log_variance", &logVariance) }
    }
    /// "GaussianBernoulliRBM(visible ↔ hidden)".
    public var summary: String { "GaussianBernoulliRBM(\(visibleCount) ↔ \(hiddenCount)\(learnsVariance ? "" : ", fixed variances"))" }

    /// Number of visible units.
    public var visibleCount: Int { weights.shape[0] }
    /// Number of hidden units.
    public var hiddenCount: Int { weights.shape[1] }
    /// The visible variances σ² = exp(z).
    public var variance: Tensor<Scalar> { logVariance.exp() }

    /// The hidden pre-activations c + (v/σ²) W.
    public func hiddenField(_ v: Tensor<Scalar>) -> Tensor<Scalar> { matmul(v / variance, weights, adding: hiddenBias) }
    /// P(h = 1 | v).
    public func hiddenProbabilities(_ v: Tensor<Scalar>) -> Tensor<Scalar> { hiddenField(v).sigmoid() }
    /// The mean of p(v | h): b + W h.
    public func visibleMean(_ h: Tensor<Scalar>) -> Tensor<Scalar> { matmul(h, weights.T, adding: visibleBias) }

    /// F(v) = Σ (v − b)²/(2σ²) − Σ softplus(c + (v/σ²) W), per row.
    public func freeEnergy(_ v: Tensor<Scalar>) -> Tensor<Scalar> {
        check(v.rank == 2 && v.shape[1] == visibleCount, "GaussianBernoulliRBM.freeEnergy: input \(v.shape) for \(visibleCount) visible units")
        return ((v - visibleBias).squared() / (variance * 2)).sum(axis: 1) - hiddenField(v).softplus().sum(axis: 1)
    }

    /// A binary sample of h given v.
    public func sampleHidden(_ v: Tensor<Scalar>, generator: RandomGenerator = .current) -> Tensor<Scalar> {
        withoutGrad { Tensor.bernoulli(hiddenProbabilities(v), generator: generator) }
    }
    /// A Gaussian sample of v given h.
    public func sampleVisible(_ h: Tensor<Scalar>, generator: RandomGenerator = .current) -> Tensor<Scalar> {
        withoutGrad { visibleMean(h) + Tensor.normal([h.shape[0], visibleCount], generator: generator) * (logVariance * 0.5).exp() }
    }
    /// k steps of block Gibbs sampling from `v`.
    public func gibbs(from v: Tensor<Scalar>, steps k: Int, generator: RandomGenerator = .current) -> Tensor<Scalar> {
        var x = v.detached()
        for _ in 0..<k { x = sampleVisible(sampleHidden(x, generator: generator), generator: generator) }
        return x
    }

    /// ln Z as a tensor (differentiable in every parameter), by enumerating the hidden layer:
    /// ln Σ_h exp(c·h + Σᵢ [(bᵢ + (Wh)ᵢ)² − bᵢ²]/(2σᵢ²)) + Σᵢ ½ ln(2πσᵢ²).
    public func exactLogPartitionTensor() -> Tensor<Scalar> {
        let n = hiddenCount
        check(n <= 20, "GaussianBernoulliRBM: \(n) hidden units; enumerating 2^\(n) states is not practical (at most 20; use annealedLogPartition)")
        let states = Tensor<Scalar>.binaryStates(n)
        let mean = visibleMean(states)
        let terms = matmul(states, hiddenBias) + ((mean.squared() - visibleBias.squared()) / (variance * 2)).sum(axis: 1)
        return terms.logSumExp(axis: 0) + ((logVariance + Scalar(Foundation.log(2 * Double.pi))) * 0.5).sum()
    }

    /// Exact ln Z (Double).
    public func exactLogPartition() -> Double { Double(withoutGrad { exactLogPartitionTensor() }.item) }

    /// Mean log-density of the rows of `data`: −F(v) − ln Z with ln Z exact, or given (e.g. by AIS).
    public func logLikelihood(_ data: Tensor<Scalar>, logPartition: Double? = nil) -> Double {
        Double(withoutGrad { -freeEnergy(data) }.mean().item) - (logPartition ?? exactLogPartition())
    }

    /// ln Z by AIS from the model without couplings (Gaussian visible units N(b, σ²), uniform
    /// hidden units) to the model: f_β(v) = exp(−Σ (v − b)²/(2σ²) + Σⱼ softplus(β(cⱼ + (v/σ²)W)ⱼ)),
    /// Gibbs transitions h ~ σ(β(c + (v/σ²)W)), v ~ N(b + βWh, σ²). Same result type, band and
    /// diagnostics as `AnnealedImportanceSampling`.
    public func annealedLogPartition(_ ais: AnnealedImportanceSampling = AnnealedImportanceSampling(runs: 100),
                                     generator: RandomGenerator = .current) -> LogPartitionEstimate {
        let started = Date(), runs = ais.runs, betas = ais.betas
        return withoutGrad {
            let sd = (logVariance * 0.5).exp(), b = visibleBias
            let logZ0 = Double(((logVariance + Scalar(Foundation.log(2 * Double.pi))) * 0.5).sum().item) + Double(hiddenCount) * Foundation.log(2)
            var logw = [Double](repeating: 0, count: runs)
            func add(_ t: Tensor<Scalar>, _ sign: Double) { let s = t.scalars; for r in 0..<runs { logw[r] += sign * Double(s[r]) } }
            var v = b + Tensor.normal([runs, visibleCount], generator: generator) * sd
            var field = hiddenField(v)
            func logF(_ beta: Double) -> Tensor<Scalar> { (field * Scalar(beta)).softplus().sum(axis: 1) }   // the Gaussian part cancels in every ratio
            add(logF(0), -1)
            for k in 1..<(betas.count - 1) {
                add(logF(betas[k]), 1)
                let h = Tensor<Scalar>.bernoulli(logits: field * Scalar(betas[k]), generator: generator)
                v = b + matmul(h, weights.T) * Scalar(betas[k]) + Tensor.normal([runs, visibleCount], generator: generator) * sd
                field = hiddenField(v)
                add(logF(betas[k]), -1)
            }
            add(logF(1), 1)
            return ais.estimate(logWeights: logw, offset: logZ0, intervals: betas.count - 1, seconds: Date().timeIntervalSince(started))
        }
    }

    /// The CD-k loss mean F(batch) − mean F(stopgrad(v⁻)), v⁻ after k Gibbs steps from the batch
    /// (CD) or from `chains` (PCD: pass persistent chains, they are advanced in place). Its
    /// gradient is the CD update for W, b, c and, when learned, the log-variances.
    public func contrastiveDivergenceLoss(_ batch: Tensor<Scalar>, k: Int = 1, chains: inout Tensor<Scalar>?,
                                          generator: RandomGenerator = .current) -> Tensor<Scalar> {
        check(k >= 1, "GaussianBernoulliRBM: k must be at least 1, got \(k)")
        let negatives = gibbs(from: chains ?? batch, steps: k, generator: generator)
        if chains != nil { chains = negatives }
        return freeEnergy(batch).mean() - freeEnergy(negatives.detached()).mean()
    }
}
