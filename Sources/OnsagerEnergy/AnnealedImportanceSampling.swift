import OnsagerCore
import Foundation

/// Annealed importance sampling of an RBM's log-partition function (Salakhutdinov & Murray 2008).
///
/// The base model A has no weights and visible biases b^A (from data marginals, see
/// `baseRateBiases`); intermediate models interpolate ln p*_k(v) = (1−β_k) b^A·v + β_k a·v +
/// Σⱼ softplus(β_k(bⱼ + (vW)ⱼ)). All runs advance together (two GEMMs per step); importance
/// weights are accumulated in Double.
public struct AnnealedImportanceSampling {
    /// The estimate and its ±3σ̂ band, σ̂ = std(w)/√M (the one result type of every ln Z estimator).
    public typealias Result = LogPartitionEstimate

    /// Inverse temperatures β_0 = 0 < … < β_K = 1.
    public var betas: [Double]
    /// Number of independent runs M.
    public var runs: Int

    /// The standard schedule: steps of 1e-3 on [0, 0.5], 1e-4 on [0.5, 0.9], 1e-5 on [0.9, 1]
    /// (14,500 intervals), 100 runs.
    public init(runs: Int = 100) {
        self.init(betas: Self.standardSchedule, runs: runs)
    }

    /// A custom schedule (must start at 0, end at 1 and increase).
    public init(betas: [Double], runs: Int) {
        Self.checkSchedule(betas, "AIS")
        check(runs >= 2, "AIS: needs at least 2 runs, got \(runs)")
        self.betas = betas
        self.runs = runs
    }

    /// Salakhutdinov & Murray's schedule: steps of 1e-3, 1e-4 and 1e-5 (14,500 intervals).
    public static let standardSchedule = schedule(coarse: 1e-3, middle: 1e-4, fine: 1e-5)

    /// Stops unless `betas` runs from 0 to 1 and increases (`op` names the caller).
    static func checkSchedule(_ betas: [Double], _ op: String) {
        check(betas.count >= 2 && betas.first == 0 && betas.last == 1, "\(op): the schedule must run from 0 to 1")
        check(zip(betas, betas.dropFirst()).allSatisfy { $0 < $1 }, "\(op): the schedule must increase")
    }

    /// ln f_β(v) of the path's model at β, the visible marginal with the hidden layer summed out,
    /// from v·b^A, v·a and the hidden field vW + b: (1 − β) b^A·v + β a·v + Σⱼ softplus(β(bⱼ + (vW)ⱼ)).
    static func logIntermediate<S: TensorScalar>(_ beta: Double, _ vbA: Tensor<S>, _ va: Tensor<S>, _ field: Tensor<S>) -> Tensor<S> {
        let bk = S(beta)
        return -RBM.clampedFreeEnergy(linear: vbA * (1 - bk) + va * bk, field: field * bk)
    }

    /// Piecewise-uniform schedule with the given step on [0, .5], [.5, .9] and [.9, 1].
    public static func schedule(coarse: Double, middle: Double, fine: Double) -> [Double] {
        var b: [Double] = []
        let n1 = Int((0.5 / coarse).rounded()), n2 = Int((0.4 / middle).rounded()), n3 = Int((0.1 / fine).rounded())
        for i in 0..<n1 { b.append(Double(i) * coarse) }
        for i in 0..<n2 { b.append(0.5 + Double(i) * middle) }
        for i in 0...n3 { b.append(0.9 + Double(i) * fine) }
        b[b.count - 1] = 1
        return b
    }

    /// Base-rate visible biases logit(pᵢ), pᵢ = (countᵢ + α)/(N + 2α): the data marginals smoothed
    /// towards ½ by α pseudo-counts on each side (default 5 × the number of minibatches of 100, the
    /// original code's amount). The original divides by N + α only, which gives p = 1 and an
    /// infinite bias for a pixel that is on in every image (Caltech silhouettes' background).
    public static func baseRateBiases<S: TensorScalar>(data: Tensor<S>, pseudoCount: Double? = nil) -> Tensor<S> {
        let n = Double(data.shape[0])
        let alpha = pseudoCount ?? 5 * Swift.max(1, (n / 100).rounded(.up))
        let counts = withoutGrad { data.sum(axis: 0) }.scalars
        return Tensor<S>(counts.map { c in
            let p = (Double(c) + alpha) / (n + 2 * alpha)
            return S(Foundation.log(p / (1 - p)))
        })
    }

    /// AIS that refines its own schedule: estimates with `betas`, and while the estimate carries a
    /// warning (ESS below `LogPartitionEstimate.minimumEffectiveSampleFraction` of the runs, or an
    /// unbounded band) halves every step — twice the intervals, twice the cost — until it is
    /// reliable or would exceed `maxIntervals`. Returns the last estimate (check its diagnostics:
    /// at the cap it may still warn). The default schedule suits a 784×500 MNIST RBM
    /// (Salakhutdinov & Murray 2008); larger or sharper models need more, and this finds how many.
    public func logPartitionUntilReliable<S: TensorScalar>(of model: RBM<S>, baseBiases: Tensor<S>? = nil, maxIntervals: Int = 1 << 20,
                                                           generator: RandomGenerator = .current) -> Result {
        var ais = self
        var estimate = ais.logPartition(of: model, baseBiases: baseBiases, generator: generator)
        while !(estimate.diagnostics?.isReliable ?? true) && 2 * (ais.betas.count - 1) <= maxIntervals {
            ais.betas = Self.refined(ais.betas)
            estimate = ais.logPartition(of: model, baseBiases: baseBiases, generator: generator)
        }
        return estimate
    }

    /// The schedule with a midpoint inserted in every interval.
    public static func refined(_ betas: [Double]) -> [Double] {
        zip(betas, betas.dropFirst()).flatMap { [$0, ($0 + $1) / 2] } + [betas.last!]
    }

    /// Base visible biases logit(mv*) from a mean-field or TAP fixed point of `model` (solved from
    /// m = ½ by `solver`): a base model that already sits where the model's own mean field puts
    /// the visible units, a third choice beside the data's marginals (`baseRateBiases`) and the
    /// uniform base (no biases: the plain tempered path). Magnetizations are clipped to
    /// [1e−4, 1 − 1e−4] so the biases stay finite.
    public static func meanFieldBaseBiases<S: TensorScalar>(of model: RBM<S>, solver: TAPSolver) -> Tensor<S> {
        let half = Magnetizations(visible: Tensor<S>(repeating: 0.5, shape: [1, model.visibleCount]),
                                  hidden: Tensor<S>(repeating: 0.5, shape: [1, model.hiddenCount]))
        let m = withoutGrad { solver.solve(model, from: half).0 }.visible.squeezed(0).clamped(min: 1e-4, max: 1 - 1e-4)
        return withoutGrad { (m / (1 - m)).log() }
    }

    /// Estimates ln Z of `model`. Without `baseBiases` the base model is uniform (b^A = 0).
    /// Progress is reported through `ProgressReporter` (a bar on a terminal).
    public func logPartition<S: TensorScalar>(of model: RBM<S>, baseBiases: Tensor<S>? = nil,
                                             generator: RandomGenerator = .current) -> Result {
        let started = Date()
        let (logw, logZA) = anneal(model, baseBiases: baseBiases, generator: generator) { _, _, _, _ in }
        return estimate(logWeights: logw, offset: logZA, intervals: betas.count - 1, seconds: Date().timeIntervalSince(started))
    }

    /// The estimate from runs made elsewhere — other processes (sharded AIS), earlier sessions —
    /// given their log-weights and the base model's ln Z: ln Ẑ = `baseLogZ` + ln mean(exp(ln w)),
    /// with the band and diagnostics `logPartition` gives for the same weights (bit for bit).
    public func estimate(fromLogWeights logWeights: [Double], baseLogZ: Double, seconds: Double = 0) -> Result {
        estimate(logWeights: logWeights, offset: baseLogZ, intervals: betas.count - 1, seconds: seconds)
    }

    /// ln Ẑ = `offset` + ln mean(exp(logWeights)) with its ±3σ̂ band and diagnostics.
    func estimate(logWeights logw: [Double], offset logZA: Double, intervals: Int, seconds: Double) -> Result {
        estimate(ImportanceWeights(logw), offset: logZA, intervals: intervals, seconds: seconds)
    }

    func estimate(_ w: ImportanceWeights, offset logZA: Double, intervals: Int, seconds: Double) -> Result {
        let logw = w.logWeights
        let logZ = logZA + w.top + Foundation.log(w.mean)
        let upper = logZA + w.top + Foundation.log(w.mean + 3 * w.standardError)
        let lower = w.mean - 3 * w.standardError > 0 ? logZA + w.top + Foundation.log(w.mean - 3 * w.standardError) : -Double.infinity
        return Result(method: .annealedImportanceSampling(runs: logw.count, intervals: intervals), logZ: logZ, band: lower...upper,
                      samples: logw, baseLogZ: logZA, diagnostics: .importanceSampling(w, offset: logZA), seconds: seconds)
    }

    /// The annealing itself: returns every run's ln w and the base's ln Z. After the weight of
    /// step k is complete (ln w now estimates ln Z(β_k)/Z_A, the particles v_{k−1} with those
    /// weights target p_k), `observe(k, logw, v, vW + b)` sees them.
    func anneal<S: TensorScalar>(_ model: RBM<S>, baseBiases: Tensor<S>?, generator: RandomGenerator,
                                 observe: (Int, [Double], Tensor<S>, Tensor<S>) -> Void) -> (logWeights: [Double], logZBase: Double) {
        let nv = model.visibleCount, nh = model.hiddenCount
        let bA = baseBiases ?? Tensor<S>.zeros([nv])
        check(bA.shape == [nv], "AIS: base biases \(bA.shape) for \(nv) visible units")
        let progress = ProgressReporter("AIS", total: betas.count - 1)
        return withoutGrad {
            let w = model.w, a = model.a, b = model.b
            let logZA = bA.softplus().sum().scalars.map(Double.init)[0] + Double(nh) * Foundation.log(2)
            var logw = [Double](repeating: 0, count: runs)
            func add(_ t: Tensor<S>, _ sign: Double) {
                let s = t.scalars
                for r in 0..<runs { logw[r] += sign * Double(s[r]) }
            }
            let logPStar = Self.logIntermediate(_:_:_:_:) as (Double, Tensor<S>, Tensor<S>, Tensor<S>) -> Tensor<S>
            var v = Tensor<S>.bernoulli(bA.sigmoid().expanded(to: [runs, nv]).contiguous(), generator: generator)
            var vbA = matmul(v, bA), va = matmul(v, a), field = matmul(v, w, adding: b)
            add(vbA, -1)
            for r in 0..<runs { logw[r] -= Double(nh) * Foundation.log(2) }
            for k in 1..<(betas.count - 1) {
                if k % 64 == 0 { progress.update(k, note: "\(runs) runs") }
                let bk = S(betas[k])
                add(logPStar(betas[k], vbA, va, field), 1)
                observe(k, logw, v, field)
                let h = Tensor<S>.bernoulli(logits: field * bk, generator: generator)
                let vField = bA * (1 - bk) + (matmul(h, w.T) + a) * bk
                v = Tensor<S>.bernoulli(logits: vField, generator: generator)
                vbA = matmul(v, bA); va = matmul(v, a); field = matmul(v, w, adding: b)
                add(logPStar(betas[k], vbA, va, field), -1)
            }
            add(logPStar(1, vbA, va, field), 1)
            observe(betas.count - 1, logw, v, field)
            progress.finish()
            return (logw, logZA)
        }
    }

    /// One point of the tempered curve: the estimate of ln Z(β) with its band and diagnostics, and
    /// U and C from the weighted particles (self-normalised importance sampling).
    public struct TemperedPoint: Sendable {
        /// The estimate of ln Z at this β (AIS's, with band and diagnostics).
        public let estimate: LogPartitionEstimate
        /// F, U, S and C at this β (U and C from the weighted particles; S from U and ln Ẑ).
        public let thermodynamics: Thermodynamics
    }

    /// ln Z(β), U(β) and C(β) along the whole tempered path in one AIS run — thermodynamic
    /// integration for free. The path starts at β = 0, where the model is independent uniform
    /// units (the base is uniform: no base biases), and ends at β = 1, the model itself; every
    /// intermediate AIS distribution is the model at inverse temperature β_k, so the running
    /// weights estimate ln Z(β_k) and, self-normalised, weight the particles as samples of it.
    /// Returns a point at each schedule β nearest to a requested one (the model's own `beta` is
    /// the scale: β here multiplies βW, βa, βb).
    public func temperedCurve<S: TensorScalar>(of model: RBM<S>, at requested: [Double], generator: RandomGenerator = .current) -> [TemperedPoint] {
        let started = Date()
        let indices = Set(requested.map { r in betas.indices.min { Swift.abs(betas[$0] - r) < Swift.abs(betas[$1] - r) }! }.filter { $0 > 0 })
        var points: [TemperedPoint] = []
        let a = withoutGrad { model.a }
        _ = anneal(model, baseBiases: nil, generator: generator) { k, logw, v, field in
            guard indices.contains(k) else { return }
            let beta = betas[k]
            let w = ImportanceWeights(logw)
            let lz = estimate(w, offset: Double(model.visibleCount + model.hiddenCount) * Foundation.log(2),
                              intervals: k, seconds: Date().timeIntervalSince(started))
            // g(β, v) = β a·v + Σⱼ softplus(β xⱼ), x = b + vW: ∂g/∂β = a·v + Σ x σ(βx), ∂²g/∂β² = Σ x² σ(βx)(1 − σ(βx)).
            let x = field, s = (x * S(beta)).sigmoid()
            let g1 = (matmul(v, a) + (x * s).sum(axis: 1)).scalars.map { Double($0) }
            let g2 = (x * x * s * (1 - s)).sum(axis: 1).scalars.map { Double($0) }
            let total = w.weights.reduce(0, +), p = w.weights.map { $0 / total }
            let m1 = zip(p, g1).map(*).reduce(0, +)
            let variance = zip(p, g1).map { $0 * ($1 - m1) * ($1 - m1) }.reduce(0, +)
            let m2 = zip(p, g2).map(*).reduce(0, +)
            points.append(TemperedPoint(estimate: lz, thermodynamics: Thermodynamics(beta: beta, logZ: lz.logZ, meanEnergy: -m1,
                                                                                     heatCapacity: beta * beta * (variance + m2))))
        }
        return points
    }
}
