import OnsagerCore
import Foundation

// The Plefka expansion for Gaussian visible units. Constraining the means ⟨v⟩ = mv, ⟨h⟩ = mh of
// the uncoupled model (Gaussians N(b, σ²) and Bernoulli units with biases c), the tilting fields
// move a Gaussian's mean but not its variance, so ⟨(v − mv)²⟩₀ = σ² whatever mv, and its third
// central moment is zero. With W̃ = W/σ² (per visible row):
//
//   −G = Σᵢ [½ ln(2πσᵢ²) − (mvᵢ − bᵢ)²/(2σᵢ²)] + Σⱼ [S(mhⱼ) + cⱼ mhⱼ] + Σᵢⱼ W̃ᵢⱼ mvᵢ mhⱼ     (order 1)
//        + ½ Σᵢⱼ W̃ᵢⱼ² σᵢ² κ(mhⱼ) = ½ Σᵢⱼ (Wᵢⱼ²/σᵢ²) κ(mhⱼ)                                    (order 2)
//        + 0                                                                              (order 3: ⟨ṽ³⟩ = 0)
//
// so TAP2 is already exact through W³ and its error falls like W⁴ (mean field: W²). The
// stationarity equations: mv = b + W mh exactly (the conditional mean), and mh = σ(∂Φ/∂mh), the
// hidden field taken from the tape.

extension GaussianBernoulliRBM {
    /// −G(mv, mh) at Plefka order 1 (mean field) or 2 (TAP), one value per row (see above).
    public func negativeGibbsFreeEnergy(visible mv: Tensor<Scalar>, hidden mh: Tensor<Scalar>, order: Int) -> Tensor<Scalar> {
        check(order == 1 || order == 2, "GaussianBernoulliRBM: Plefka order \(order) (1 or 2; order 3 vanishes for Gaussian units)")
        let sigma2 = variance
        let gaussian = ((logVariance + Scalar(Foundation.log(2 * Double.pi))) * 0.5).sum() - ((mv - visibleBias).squared() / (sigma2 * 2)).sum(axis: 1)
        let c = mh.clamped(min: 1e-6, max: 1 - 1e-6)
        let entropy = -(c * c.log() + (1 - c) * (1 - c).log()).sum(axis: 1)
        var g = gaussian + entropy + matmul(mh, hiddenBias) + (matmul(mv / sigma2, weights) * mh).sum(axis: 1)
        if order == 2 { g = g + (matmul(mh - mh * mh, (weights.squared() / sigma2.unsqueezed(1)).T).sum(axis: 1)) * 0.5 }
        return g
    }

    /// ln Z ≈ −G(m*) at order 1 or 2, one value per start row: damped fixed-point iteration of
    /// mv = b + W mh and mh = σ(hidden field), the field ∂Φ/∂mh derived by the tape.
    public func meanFieldLogPartition(order: Int, from startHidden: Tensor<Scalar>, iterations: Int = 1000, damping: Double = 0.5,
                                      tolerance: Double = 1e-12) -> Tensor<Scalar> {
        let frozen = GaussianBernoulliRBM(weights: weights.detached(), visibleBias: visibleBias.detached(), hiddenBias: hiddenBias.detached(),
                                          logVariance: logVariance.detached(), learnsVariance: false)
        var mh = startHidden.detached(), mv = withoutGrad { frozen.visibleMean(mh) }
        let d = Scalar(damping)
        for _ in 0..<iterations {
            let leaf = mh.requiringGrad()
            let field = withGradEnabled(true) { () -> Tensor<Scalar> in
                let g = frozen.negativeGibbsFreeEnergy(visible: mv, hidden: leaf, order: order).sum()
                // ∂(−G)/∂mh = field − logit(mh): add the logit back to get the field.
                return gradients(of: g, wrt: [leaf])[0] + (leaf / (1 - leaf)).log().detached()
            }
            let next = withoutGrad { field.sigmoid() * (1 - d) + mh * d }
            let change = withoutGrad { Double((next - mh).abs().max().item) }
            mh = next.detached()
            mv = withoutGrad { frozen.visibleMean(mh) }
            if change < tolerance { break }
        }
        return withoutGrad { frozen.negativeGibbsFreeEnergy(visible: mv, hidden: mh, order: order) }
    }
}
