import OnsagerCore
import Foundation

/// Exact log-partition function and log-likelihoods of small RBMs by enumeration.
extension RBM {
    /// ln Z by summing over every state of the smaller layer (in Double, batched through GEMM):
    /// ln Z = logsumexp over h of [β b·h + Σᵢ softplus(β(aᵢ + (Wh)ᵢ))], or the same over v with
    /// −F(v). Up to 2^24 states is practical; more than 2^30 is refused.
    public func exactLogPartition() -> Double {
        let m = converted(to: Double.self)
        let enumerateHidden = hiddenCount <= visibleCount
        let n = enumerateHidden ? hiddenCount : visibleCount
        check(n <= 30, "exactLogPartition: the smaller layer has \(n) units; enumerating 2^\(n) states is not feasible (use AIS)")
        return withoutGrad {
            let total = 1 << n
            let chunk = Swift.min(total, 1 << 14)
            var runningMax = -Double.infinity, runningSum = 0.0
            var states = [Double](repeating: 0, count: chunk * n)
            for start in stride(from: 0, to: total, by: chunk) {
                let count = Swift.min(chunk, total - start)
                for s in 0..<count {
                    let code = start + s
                    for j in 0..<n { states[s * n + j] = Double((code >> j) & 1) }
                }
                let x = Tensor<Double>(shape: [count, n], scalars: Array(states[0..<(count * n)]))
                let terms: Tensor<Double> = enumerateHidden
                    ? -RBM<Double>.clampedFreeEnergy(linear: matmul(x, m.b), field: m.visibleField(x))
                    : -m.freeEnergy(x)
                let t = terms.scalars
                let cmax = t.max()!
                if cmax > runningMax {
                    runningSum = runningSum * Foundation.exp(runningMax - cmax)
                    runningMax = cmax
                }
                for v in t { runningSum += Foundation.exp(v - runningMax) }
            }
            return runningMax + Foundation.log(runningSum)
        }
    }

    /// Exact mean log-likelihood of the rows of `data` (needs `exactLogPartition`'s enumeration),
    /// or with a given ln Z (e.g. from AIS).
    public func logLikelihood(_ data: Tensor<Scalar>, logPartition: Double? = nil) -> Double {
        let lz = logPartition ?? exactLogPartition()
        let f = withoutGrad { converted(to: Double.self).freeEnergy(Tensor<Double>(shape: data.shape, scalars: data.scalars.map { Double($0) })) }
        return -f.mean().item - lz
    }
}
