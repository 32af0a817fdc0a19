import OnsagerCore
import OnsagerNN
/// Order of the Plefka expansion of the Gibbs free energy.
public enum PlefkaOrder: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// Naive mean field.
    case meanField = 1
    /// Onsager reaction term (TAP).
    case tap2 = 2
    /// Third order.
    case tap3 = 3
    public var description: String { self == .meanField ? "MF" : "TAP\(rawValue)" }
}

/// Magnetizations: mean visible and hidden activations, one row per particle.
public struct Magnetizations<Scalar: TensorScalar> {
    public var visible: Tensor<Scalar>
    public var hidden: Tensor<Scalar>
    public init(visible: Tensor<Scalar>, hidden: Tensor<Scalar>) {
        check(visible.rank == 2 && hidden.rank == 2 && visible.shape[0] == hidden.shape[0],
              "Magnetizations: visible \(visible.shape) and hidden \(hidden.shape) must be [n, ·] with the same n")
        self.visible = visible
        self.hidden = hidden
    }
    /// The same values cut from the tape (the envelope-theorem gradient treats m* as constant).
    public func detached() -> Magnetizations { Magnetizations(visible: visible.detached(), hidden: hidden.detached()) }
}

/// Precomputed powers of βW for the expansion terms (W² and W³ are reused by every iteration).
struct PlefkaWeights<Scalar: TensorScalar> {
    let w: Tensor<Scalar>, w2: Tensor<Scalar>?, w3: Tensor<Scalar>?
    init(_ w: Tensor<Scalar>, order: PlefkaOrder) {
        self.w = w
        w2 = order.rawValue >= 2 ? w * w : nil
        w3 = order.rawValue >= 3 ? w * w * w : nil
    }
}

// The Plefka expansion of −G(mv, mh) for the bipartite RBM (β = 1 shown; every W, a, b is
// multiplied by β), with κ(m) = m − m² and τ(m) = κ(m)(½ − m):
//
//   −G = S(mv) + S(mh) + a·mv + b·mh + mvᵀ W mh                        (order 1)
//        + ½ Σᵢⱼ Wᵢⱼ² κ(mvᵢ) κ(mhⱼ)                                   (order 2)
//        + (2/3) Σᵢⱼ Wᵢⱼ³ τ(mvᵢ) τ(mhⱼ)                                (order 3)
//
// ln Z ≈ −G(m*) at a stationary point. Everything is built from tape ops, so gradients in W, a,
// b and m come from the tape.
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
        let pw = PlefkaWeights(w, order: order)
        return negativeGibbsFreeEnergy(m, order: order, weights: pw)
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

    /// Right-hand side of the visible stationarity equation (before the sigmoid):
    /// aᵢ + Σⱼ Wᵢⱼ mhⱼ + (½ − mvᵢ) Σⱼ Wᵢⱼ² κ(mhⱼ) + (⅓ − 2κ(mvᵢ)) Σⱼ Wᵢⱼ³ τ(mhⱼ).
    func visibleUpdateField(_ mv: Tensor<Scalar>, _ mh: Tensor<Scalar>, order: PlefkaOrder, weights pw: PlefkaWeights<Scalar>) -> Tensor<Scalar> {
        var f = matmul(mh, pw.w.T) + a
        if order.rawValue >= 2 {
            let kh = mh - mh * mh
            f = f + (0.5 - mv) * matmul(kh, pw.w2!.T)
            if order.rawValue >= 3 {
                let kv = mv - mv * mv
                f = f + (Scalar(1.0 / 3.0) - kv * 2) * matmul(kh * (0.5 - mh), pw.w3!.T)
            }
        }
        return f
    }

    /// The hidden counterpart: bⱼ + Σᵢ Wᵢⱼ mvᵢ + (½ − mhⱼ) Σᵢ Wᵢⱼ² κ(mvᵢ) + (⅓ − 2κ(mhⱼ)) Σᵢ Wᵢⱼ³ τ(mvᵢ).
    func hiddenUpdateField(_ mv: Tensor<Scalar>, _ mh: Tensor<Scalar>, order: PlefkaOrder, weights pw: PlefkaWeights<Scalar>) -> Tensor<Scalar> {
        var f = matmul(mv, pw.w) + b
        if order.rawValue >= 2 {
            let kv = mv - mv * mv
            f = f + (0.5 - mh) * matmul(kv, pw.w2!)
            if order.rawValue >= 3 {
                let kh = mh - mh * mh
                f = f + (Scalar(1.0 / 3.0) - kh * 2) * matmul(kv * (0.5 - mv), pw.w3!)
            }
        }
        return f
    }
}
