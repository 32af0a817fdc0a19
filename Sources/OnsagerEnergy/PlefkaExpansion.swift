import OnsagerCore

// The Plefka expansion of −G(mv, mh) for the bipartite RBM (β = 1 shown; every W, a, b is
// multiplied by β), with κ(m) = m − m² and τ(m) = κ(m)(½ − m):
//
//   −G = S(mv) + S(mh) + a·mv + b·mh + mvᵀ W mh                        (order 1)
//        + ½ Σᵢⱼ Wᵢⱼ² κvᵢ κhⱼ                                          (order 2)
//        + (2/3) Σᵢⱼ Wᵢⱼ³ τvᵢ τhⱼ                                       (order 3)
//        + Σᵢⱼ Wᵢⱼ⁴ κvᵢ κhⱼ (1/24 − κvᵢ/4 − κhⱼ/4 + 3/2 κvᵢ κhⱼ)          (order 4: edges, …
//        + ¼ tr A² − ¼ Σᵢ κvᵢ² sᵢ² − ¼ Σⱼ κhⱼ² qⱼ²                           … and 4-cycles)
//
// with s = (W∘W) κh, q = (W∘W)ᵀ κv and A = Dv^½ W Dh Wᵀ Dv^½ (D = diag κ): ¼ tr A² counts every
// 4-cycle i–j–k–l once plus the walks that repeat an index, which the two sums remove (and the
// ¼ Σ W⁴ κv² κh² they remove twice is folded into the edge term). Derivation and numpy oracle:
// shared/reference/plefka-order4.md and plefka4.py. ln Z ≈ −G(m*) at a stationary point.
// Everything is built from tape ops, so gradients in W, a, b and m come from the tape.

extension RBM {
    /// Binary entropy Σ −[m ln m + (1 − m) ln(1 − m)] per row, with m clipped to [1e−6, 1 − 1e−6].
    static func entropy(_ m: Tensor<Scalar>) -> Tensor<Scalar> {
        let c = m.clamped(min: 1e-6, max: 1 - 1e-6)
        return -(c * c.log() + (1 - c) * (1 - c).log()).sum(axis: 1)
    }

    /// −G(mv, mh) = S(mv) + S(mh) + Φ(mv, mh) under `approximation` (a `PlefkaOrder` such as
    /// `.tap2`, a `RingResummation`, or one of your own), one value per row.
    public func negativeGibbsFreeEnergy(_ m: Magnetizations<Scalar>, approximation: some GibbsFreeEnergyApproximation) -> Tensor<Scalar> {
        negativeGibbsFreeEnergy(m, approximation: approximation, couplings: CouplingPowers(w))
    }

    func negativeGibbsFreeEnergy(_ m: Magnetizations<Scalar>, approximation: some GibbsFreeEnergyApproximation,
                                 couplings: CouplingPowers<Scalar>) -> Tensor<Scalar> {
        check(m.visible.shape[1] == visibleCount && m.hidden.shape[1] == hiddenCount,
              "negativeGibbsFreeEnergy: magnetizations \(m.visible.shape), \(m.hidden.shape) for a \(visibleCount)×\(hiddenCount) RBM")
        return Self.entropy(m.visible) + Self.entropy(m.hidden) + approximation.interaction(self, m, couplings: couplings)
    }

    /// The Gibbs free energy G = −(−G), per row.
    public func gibbsFreeEnergy(_ m: Magnetizations<Scalar>, approximation: some GibbsFreeEnergyApproximation) -> Tensor<Scalar> {
        -negativeGibbsFreeEnergy(m, approximation: approximation)
    }

    /// Which rings `plefkaInteraction` resums (`RingResummation`).
    enum RingSum { case none, allWalks, nonBacktrackingWalks }

    /// Φ of Plefka's series through `order`, optionally with rings resummed: `.allWalks` replaces
    /// ½ tr A + ¼ tr A² + … by −½ ln det(I − A); `.nonBacktrackingWalks` replaces the 4-cycle
    /// term by the sum over non-backtracking closed walks (`NonBacktrackingRings`).
    func plefkaInteraction(_ m: Magnetizations<Scalar>, order: Int, couplings cp: CouplingPowers<Scalar>,
                           resumming rings: RingSum = .none) -> Tensor<Scalar> {
        let mv = m.visible, mh = m.hidden
        var phi = matmul(mv, a) + matmul(mh, b) + (matmul(mv, cp.w) * mh).sum(axis: 1)
        guard order >= 2 else { return phi }
        let kv = mv - mv * mv, kh = mh - mh * mh
        if rings != .allWalks { phi = phi + (matmul(kv, cp.power(2)) * kh).sum(axis: 1) * 0.5 }
        guard order >= 3 else { return phi }
        let tv = kv * (0.5 - mv), th = kh * (0.5 - mh)
        phi = phi + (matmul(tv, cp.power(3)) * th).sum(axis: 1) * Scalar(2.0 / 3.0)
        guard order >= 4 else { return phi }
        let w4 = cp.power(4)
        if rings == .nonBacktrackingWalks {
            // The single-edge term alone (1/24 Σ W⁴ κv κh (1 − 6κv − 6κh + 30κv κh)); the cycles come from the walks.
            let edge = (matmul(kv, w4) * kh * (1 - kh * 6)).sum(axis: 1) - (matmul(kv * kv, w4) * kh * (6 - kh * 30)).sum(axis: 1)
            return phi + edge / 24 + NonBacktrackingRings.sum(kv: kv, kh: kh, w: cp.w)
        }
        let s = matmul(kh, cp.power(2).T), q = matmul(kv, cp.power(2))
        let edges = (matmul(kv, w4) * kh * (Scalar(1.0 / 24) - kh * 0.25)).sum(axis: 1)
            + (matmul(kv * kv, w4) * kh * (kh * 1.5 - 0.25)).sum(axis: 1)
        phi = phi + edges - (kv * kv * s * s).sum(axis: 1) * 0.25 - (kh * kh * q * q).sum(axis: 1) * 0.25
        if rings == .allWalks { return phi + RingMatrix(kv: kv, kh: kh, w: cp.w).negativeHalfLogDeterminant() }
        return phi + RingMatrix.traceOfSquare(kv: kv, kh: kh, w: cp.w) * 0.25
    }

    /// The stationarity field ∂Φ/∂m of one layer x (other layer y), written out:
    ///
    ///     biasₓ + Σ_y W m_y + (½ − mx) Σ_y W² κ_y + (⅓ − 2κx) Σ_y W³ τ_y + (1 − 2mx) ∂F₄/∂κx
    ///
    /// The couplings are W seen from x (Wᵀ for the visible layer, W for the hidden one). Order 4
    /// costs the 4-cycle products of `RingMatrix.cycleField` plus four small GEMMs.
    func plefkaField(of layer: RBMLayer, _ m: Magnetizations<Scalar>, order: Int, couplings cp: CouplingPowers<Scalar>) -> Tensor<Scalar> {
        let (mx, my) = layer == .visible ? (m.visible, m.hidden) : (m.hidden, m.visible)
        let seenFromX: (Tensor<Scalar>) -> Tensor<Scalar> = layer == .visible ? { $0.T } : { $0 }
        let wx = seenFromX(cp.w)
        var f = matmul(my, wx) + (layer == .visible ? a : b)
        guard order >= 2 else { return f }
        let ky = my - my * my, wx2 = seenFromX(cp.power(2))
        let sx = matmul(ky, wx2)
        f = f + (0.5 - mx) * sx
        guard order >= 3 else { return f }
        let kx = mx - mx * mx
        f = f + (Scalar(1.0 / 3.0) - kx * 2) * matmul(ky * (0.5 - my), seenFromX(cp.power(3)))
        guard order >= 4 else { return f }
        let wx4 = seenFromX(cp.power(4)), sy = matmul(kx, wx2.T), kyy = ky * ky
        let d = RingMatrix.cycleField(kx: kx, ky: ky, wx: wx) - kx * sx * sx * 0.5 - matmul(kyy * sy, wx2) * 0.5
            + matmul(ky, wx4) * (Scalar(1.0 / 24) - kx * 0.5) + matmul(kyy, wx4) * (kx * 3 - 0.25)
        return f + (1 - mx * 2) * d
    }
}
