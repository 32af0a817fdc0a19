import OnsagerCore
import Foundation

/// RAISE, reverse annealed importance sampling (Burda, Grosse & Salakhutdinov 2015): a
/// conservative estimate of an RBM's test log-likelihood, to pair with AIS's optimistic one.
///
/// AIS run forward defines a generative model of its own, q(v): draw v₀ from the base, then apply
/// the transitions T₁ … T_K of the annealing path. RAISE estimates q(v) at a test example without
/// bias by running the path backwards from it: v_K = v, v_{k−1} ~ T_k(· | v_k), and
///
///     q̂(v) = p₀(v₀) Πₖ f_k(v_k) / f_k(v_{k−1}),
///
/// (the transitions are Gibbs sweeps, reversible for f_k). The log of the average over chains is a
/// stochastic lower bound on ln q(v), and q approaches p as the path is refined from below in
/// practice: RAISE tends to underestimate log p(v), AIS (through its underestimate of ln Z) to
/// overestimate it, and the two bracket the truth. Same path as `AnnealedImportanceSampling`:
/// base model with visible biases b^A, f_k(v) = exp((1−β_k) b^A·v + β_k a·v) Πⱼ(1 + e^{β_k(bⱼ + (vW)ⱼ)}).
public struct ReverseAnnealedImportanceSampling {
    /// Inverse temperatures β_0 = 0 < … < β_K = 1 (walked from 1 down to 0).
    public var betas: [Double]
    /// Reverse chains per test example.
    public var chains: Int

    /// The standard schedule of `AnnealedImportanceSampling` (14,500 intervals) with `chains`
    /// reverse chains per example.
    public init(chains: Int = 10) {
        self.init(betas: AnnealedImportanceSampling.standardSchedule, chains: chains)
    }

    /// A custom schedule (from 0 to 1, increasing).
    public init(betas: [Double], chains: Int) {
        AnnealedImportanceSampling.checkSchedule(betas, "RAISE")
        check(chains >= 1, "RAISE: needs at least one chain per example, got \(chains)")
        self.betas = betas
        self.chains = chains
    }

    /// The estimate for a set of test examples.
    public struct Result: Sendable, CustomStringConvertible {
        /// ln q̂(v) of every example (log-mean-exp over its chains).
        public let perExample: [Double]
        /// Their mean: the conservative test log-likelihood per example.
        public let meanLogLikelihood: Double
        /// Standard error of that mean over the examples.
        public let standardError: Double
        /// The ln Z this implies, mean(−F(v)) − mean ln q̂(v): an estimate from above, to set beside AIS's.
        public let impliedLogZ: Double
        /// Chains per example and intervals of the path.
        public let chains: Int, intervals: Int
        /// Wall time, in seconds.
        public let seconds: Double
        /// "RAISE log-likelihood … ± … (implied ln Z …)".
        public var description: String {
            String(format: "RAISE test log-likelihood %.4f ± %.4f per example (implied ln Z %.4f; %d examples × %d chains, %d intervals, %.2g s)",
                   meanLogLikelihood, standardError, impliedLogZ, perExample.count, chains, intervals, seconds)
        }
    }

    /// RAISE estimates of log p(v) for the rows of `data`. Without `baseBiases` the base model is
    /// uniform; use AIS's (`AnnealedImportanceSampling.baseRateBiases`) for the same path.
    public func logLikelihood<S: TensorScalar>(of model: RBM<S>, data: Tensor<S>, baseBiases: Tensor<S>? = nil,
                                              generator: RandomGenerator = .current) -> Result {
        let nv = model.visibleCount, n = data.shape[0], rows = n * chains
        check(data.rank == 2 && data.shape[1] == nv, "RAISE: data of shape \(data.shape) for \(nv) visible units")
        let bA = baseBiases ?? Tensor<S>.zeros([nv])
        check(bA.shape == [nv], "RAISE: base biases \(bA.shape) for \(nv) visible units")
        let started = Date(), progress = ProgressReporter("RAISE", total: betas.count - 1)
        return withoutGrad {
            let w = model.w, a = model.a, b = model.b
            var logq = [Double](repeating: 0, count: rows)
            func add(_ t: Tensor<S>, _ sign: Double) {
                let s = t.scalars
                for r in 0..<rows { logq[r] += sign * Double(s[r]) }
            }
            let logF = AnnealedImportanceSampling.logIntermediate(_:_:_:_:) as (Double, Tensor<S>, Tensor<S>, Tensor<S>) -> Tensor<S>
            var v = data.detached().indexSelect(axis: 0, indices: (0..<rows).map { $0 / chains })
            var vbA = matmul(v, bA), va = matmul(v, a), field = matmul(v, w, adding: b)
            let negativeF = logF(1, vbA, va, field).scalars.map { Double($0) }
            add(logF(1, vbA, va, field), 1)                                   // + ln f_K(v_K)
            let k0 = betas.count - 1
            for k in stride(from: k0, to: 0, by: -1) {
                if (k0 - k) % 64 == 0 { progress.update(k0 - k, note: "\(rows) chains") }
                let bk = S(betas[k])
                let h = Tensor<S>.bernoulli(logits: field * bk, generator: generator)      // v_{k−1} ~ T_k(· | v_k)
                v = Tensor<S>.bernoulli(logits: bA * (1 - bk) + (matmul(h, w.T) + a) * bk, generator: generator)
                vbA = matmul(v, bA); va = matmul(v, a); field = matmul(v, w, adding: b)
                add(logF(betas[k], vbA, va, field), -1)                           // − ln f_k(v_{k−1})
                if k > 1 { add(logF(betas[k - 1], vbA, va, field), 1) }            // + ln f_{k−1}(v_{k−1})
            }
            add(vbA - bA.softplus().sum(), 1)                                     // + ln p₀(v₀)
            progress.finish()
            let perExample = (0..<n).map { i -> Double in
                let chunk = logq[(i * chains)..<((i + 1) * chains)], top = chunk.max()!
                return top + Foundation.log(chunk.map { Foundation.exp($0 - top) }.reduce(0, +) / Double(chains))
            }
            let mean = perExample.reduce(0, +) / Double(n)
            let se = n > 1 ? (perExample.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1) / Double(n)).squareRoot() : .nan
            let meanNegF = stride(from: 0, to: rows, by: chains).map { negativeF[$0] }.reduce(0, +) / Double(n)
            return Result(perExample: perExample, meanLogLikelihood: mean, standardError: se, impliedLogZ: meanNegF - mean,
                          chains: chains, intervals: betas.count - 1, seconds: Date().timeIntervalSince(started))
        }
    }
}
