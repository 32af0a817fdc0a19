import OnsagerCore

// The Plefka expansion of −G(mv, mh) for the bipartite RBM (β = 1 shown; every W, a, b is
// multiplied by β), with κ(m) = m − m² and τ(m) = κ(m)(½ − m):
//
//   −G = S(mv) + S(mh) + a·mv + b·mh + mvᵀ W mh                        (order 1)
//        + ½ Σᵢⱼ Wᵢⱼ² κ(mvᵢ) κ(mhⱼ)                                   (order 2)
//        + (2/3) Σᵢⱼ Wᵢⱼ³ τ(mvᵢ) τ(mhⱼ)                                (order 3)
//
// ln Z ≈ −G(m*) at a stationary point. Everything is built from tape ops, so gradients in W, a,
// b and m come from the tape.

/// βW and its elementwise powers W² and W³ (computed once per solve and reused by every sweep).
struct PlefkaWeights<Scalar: TensorScalar> {
    let w: Tensor<Scalar>, w2: Tensor<Scalar>?, w3: Tensor<Scalar>?
    init(_ w: Tensor<Scalar>, order: PlefkaOrder) {
        self.w = w
        w2 = order.rawValue >= 2 ? w * w : nil
        w3 = order.rawValue >= 3 ? w * w * w : nil
    }
}

/// One of the two layers of an RBM: the stationarity equations are written once and applied to
/// either layer by swapping the roles of the two.
enum RBMLayer { case visible, hidden }

extension RBM {
    /// Binary entropy Σ −[m ln m + (1 − m) ln(1 − m)] per row, with m clipped to [1e−6, 1 − 1e−6].
    static func entropy(_ m: Tensor<Scalar>) -> Tensor<Scalar> {
        let c = m.clamped(min: 1e-6, max: 1 - 1e-6)
        return -(c * c.log() + (1 - c) * (1 - c).log()).sum(axis: 1)
    }

    /// −G(mv, mh) at the given order, one value per row of the magnetizations.
    public func negativeGibbsFreeEnergy(_ m: Magnetizations<Scalar>, order: PlefkaOrder) -> Tensor<Scalar> {
        check(m.visible.shape[1] == visibleCount && m.hidden.shape[1] == hiddenCount,
              "negativeGibbsFreeEnergy: magnetizations \(m.visible.shape), \(m.hidden.shape) for a \(visibleCount)×\(hiddenCount) RBM")
        return negativeGibbsFreeEnergy(m, order: order, weights: PlefkaWeights(w, order: order))
    }

    func negativeGibbsFreeEnergy(_ m: Magnetizations<Scalar>, order: PlefkaOrder, weights pw: PlefkaWeights<Scalar>) -> Tensor<Scalar> {
        let mv = m.visible, mh = m.hidden
        var g = Self.entropy(mv) + Self.entropy(mh) + matmul(mv, a) + matmul(mh, b) + (matmul(mv, pw.w) * mh).sum(axis: 1)
        if order.rawValue >= 2 {
            let kv = mv - mv * mv, kh = mh - mh * mh
            g = g + (matmul(kv, pw.w2!) * kh).sum(axis: 1) * 0.5
            if order.rawValue >= 3 {
                let tv = kv * (0.5 - mv), th = kh * (0.5 - mh)
                g = g + (matmul(tv, pw.w3!) * th).sum(axis: 1) * Scalar(2.0 / 3.0)
            }
        }
        return g
    }

    /// The Gibbs free energy G = −(−G), per row.
    public func gibbsFreeEnergy(_ m: Magnetizations<Scalar>, order: PlefkaOrder) -> Tensor<Scalar> {
        -negativeGibbsFreeEnergy(m, order: order)
    }

    /// Right-hand side of the stationarity equation ∂G/∂m = 0 of one layer x, before the sigmoid,
    /// given its own magnetizations mx and those of the other layer y:
    ///
    ///     biasₓ + Σ_y W m_y + (½ − mx) Σ_y W² κ(m_y) + (⅓ − 2κ(mx)) Σ_y W³ τ(m_y)
    ///
    /// The couplings are W seen from x: Wᵀ for the visible layer, W for the hidden one.
    func stationarityField(of layer: RBMLayer, own mx: Tensor<Scalar>, other my: Tensor<Scalar>, order: PlefkaOrder,
                           weights pw: PlefkaWeights<Scalar>) -> Tensor<Scalar> {
        let fromOther: (Tensor<Scalar>) -> Tensor<Scalar> = layer == .visible ? { $0.T } : { $0 }
        var f = matmul(my, fromOther(pw.w)) + (layer == .visible ? a : b)
        if order.rawValue >= 2 {
            let ky = my - my * my
            f = f + (0.5 - mx) * matmul(ky, fromOther(pw.w2!))
            if order.rawValue >= 3 {
                let kx = mx - mx * mx
                f = f + (Scalar(1.0 / 3.0) - kx * 2) * matmul(ky * (0.5 - my), fromOther(pw.w3!))
            }
        }
        return f
    }
}
