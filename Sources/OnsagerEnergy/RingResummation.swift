import OnsagerCore

/// Plefka's order 4 with the ring ("circle", RPA-like) diagrams summed to all orders:
///
///     Φ_ring = Φ₄ − ½ tr A − ¼ tr A² − ½ ln det(I − A) = Φ₄ + Σ_{k≥3} tr Aᵏ / (2k),
///
/// A = Dv^½ W Dh Wᵀ Dv^½, D = diag κ(m) (see `RingMatrix`). The order-2 term is ½ tr A and the
/// 4-cycles are ¼ tr A² less its repeated-index walks; those corrections stay with order 4,
/// where the expansion puts them, so the series of Φ_ring in W reproduces orders 2–4 exactly
/// and adds tr A³/6 at W⁶, tr A⁴/8 at W⁸, … Those later terms still contain walks that repeat
/// an index (which the true expansion cancels against other diagrams): this is the plain ring
/// resummation, and tutorial 04 measures whether it helps.
///
/// Defined while the largest eigenvalue of A is below 1; beyond it (strong couplings) −G is NaN
/// and the solver reports no convergence. No hand-written fields: the tape derives them through
/// the differentiable `slogdet`, one Nmin × Nmin determinant per particle (small models only).
public struct RingResummation: GibbsFreeEnergyApproximation {
    /// The resummation (no options: the base is order 4).
    public init() {}

    /// Φ₄ with the ring diagrams resummed.
    public func interaction<S: TensorScalar>(_ model: RBM<S>, _ m: Magnetizations<S>, couplings: CouplingPowers<S>) -> Tensor<S> {
        model.plefkaInteraction(m, order: 4, couplings: couplings, resummingRings: true)
    }

    /// "Ring".
    public var description: String { "Ring" }
}

extension GibbsFreeEnergyApproximation where Self == RingResummation {
    /// Order 4 with the ring diagrams resummed (`RingResummation`).
    public static var ring: RingResummation { RingResummation() }
}
