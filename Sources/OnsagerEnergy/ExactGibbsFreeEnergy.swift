import OnsagerCore
import OnsagerLinearAlgebra
import Foundation

/// The exact Gibbs free energy of a small RBM, the function every Plefka order approximates.
extension RBM {
    /// The exact −G(m) per row of `m`: the Legendre transform
    ///
    ///     −G(m) = min_λ [ ln Σ_x exp(−βE(x) + λ·x) − λ·m ],   x = (v, h),
    ///
    /// found by Newton's method on the fields λ (gradient ⟨x⟩_λ − m, Hessian Cov_λ(x)) with every
    /// one of the 2^(Nv+Nh) states enumerated, in Double. For checking expansions on systems of
    /// a few units (at most 20 in all); not differentiable.
    public func exactNegativeGibbsFreeEnergy(_ m: Magnetizations<Scalar>) -> [Double] {
        let nv = visibleCount, nh = hiddenCount, n = nv + nh
        check(n <= 20, "exactNegativeGibbsFreeEnergy: \(nv)+\(nh) units; enumerating 2^\(n) joint states is not practical (at most 20 units)")
        let (w, a, b) = withoutGrad { (self.w.scalars.map(Double.init), self.a.scalars.map(Double.init), self.b.scalars.map(Double.init)) }
        let states = (0..<(1 << n)).map { s in (0..<n).map { Double((s >> $0) & 1) } }
        let negativeEnergy = states.map { x -> Double in
            var e = 0.0
            for i in 0..<nv where x[i] != 0 {
                e += a[i]
                for j in 0..<nh where x[nv + j] != 0 { e += w[i * nh + j] }
            }
            for j in 0..<nh where x[nv + j] != 0 { e += b[j] }
            return e
        }
        let mv = m.visible.scalars.map(Double.init), mh = m.hidden.scalars.map(Double.init)
        return (0..<m.visible.shape[0]).map { row in
            let target = Array(mv[(row * nv)..<((row + 1) * nv)]) + Array(mh[(row * nh)..<((row + 1) * nh)])
            // Start from the fields of the uncoupled model (exact when W = 0).
            var lambda = (0..<n).map { u in Foundation.log(target[u] / (1 - target[u])) - (u < nv ? a[u] : b[u - nv]) }
            func moments() -> (logZ: Double, mean: [Double], covariance: [Double]) {
                let logits = zip(states, negativeEnergy).map { x, e in e + zip(lambda, x).map(*).reduce(0, +) }
                let top = logits.max()!, weights = logits.map { Foundation.exp($0 - top) }, z = weights.reduce(0, +)
                var mean = [Double](repeating: 0, count: n), second = [Double](repeating: 0, count: n * n)
                for (x, weight) in zip(states, weights) {
                    let p = weight / z
                    for u in 0..<n where x[u] != 0 {
                        mean[u] += p
                        for v in 0..<n where x[v] != 0 { second[u * n + v] += p }
                    }
                }
                return (top + Foundation.log(z), mean, (0..<(n * n)).map { second[$0] - mean[$0 / n] * mean[$0 % n] })
            }
            for _ in 0..<100 {
                let (_, mean, covariance) = moments()
                let step = (try? Linalg.solve(Tensor<Double>(shape: [n, n], scalars: covariance), Tensor(zip(mean, target).map { $0 - $1 })))?.scalars
                guard let step else { return .nan }
                lambda = zip(lambda, step).map { $0 - $1 }
                if step.map(Swift.abs).max()! < 1e-14 { break }
            }
            return moments().logZ - zip(lambda, target).map(*).reduce(0, +)
        }
    }
}
