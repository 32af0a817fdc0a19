import OnsagerCore

/// Plefka's order 4 with the ring ("circle", RPA-like) diagrams summed to all orders, in one of
/// two ways.
///
/// **All closed walks** (`.ring`): with A = Dv^½ W Dh Wᵀ Dv^½, D = diag κ(m) (see `RingMatrix`),
///
///     Φ_ring = Φ₄ − ½ tr A − ¼ tr A² − ½ ln det(I − A) = Φ₄ + Σ_{k≥3} tr Aᵏ/(2k).
///
/// The order-2 term is ½ tr A and the 4-cycles are ¼ tr A² less its repeated-index walks; those
/// corrections stay with order 4, where the expansion puts them, so the series of Φ_ring in W
/// reproduces orders 2–4 exactly and adds tr A³/6 at W⁶, tr A⁴/8 at W⁸, … Those later terms
/// still count walks that backtrack (which the true expansion cancels, as it does at order 4).
/// Defined while the largest eigenvalue of A is below 1.
///
/// **Non-backtracking walks** (`.nonBacktrackingRing`): the 4-cycle term of order 4 replaced by
/// the sum over closed non-backtracking walks of every length (`NonBacktrackingRings`):
///
///     Φ_nb = Φ₄ − C₄ − ½ ln det(I − B),
///
/// B the Hashimoto matrix of the bipartite graph with edge weights Wᵢⱼ √(κvᵢ κhⱼ), C₄ Plefka's
/// 4-cycle term. Its W⁴ term is C₄ itself, and every longer simple cycle enters once with the
/// weight the loop series gives it at leading order, with no backtracking walks.
///
/// Outside its domain (strong couplings) either one is NaN and the solver reports no
/// convergence. No hand-written fields: the tape derives them through the differentiable
/// `slogdet`, one Nmin × Nmin determinant per particle (small models only).
public struct RingResummation: GibbsFreeEnergyApproximation {
    /// Which closed walks the resummed rings count.
    public enum Walks: String, Sendable {
        /// Every closed walk (powers of A): the plain ring, or RPA, resummation.
        case all
        /// Closed walks that never step straight back (powers of the Hashimoto matrix).
        case nonBacktracking
    }
    /// The walks summed.
    public var walks: Walks

    /// The resummation over the given walks.
    public init(walks: Walks = .all) { self.walks = walks }

    /// Φ₄ with the ring diagrams resummed.
    public func interaction<S: TensorScalar>(_ model: RBM<S>, _ m: Magnetizations<S>, couplings: CouplingPowers<S>) -> Tensor<S> {
        switch walks {
        case .all: return model.plefkaInteraction(m, order: 4, couplings: couplings, resumming: .allWalks)
        case .nonBacktracking: return model.plefkaInteraction(m, order: 4, couplings: couplings, resumming: .nonBacktrackingWalks)
        }
    }

    /// "Ring" or "NB ring".
    public var description: String { walks == .all ? "Ring" : "NB ring" }
}

extension GibbsFreeEnergyApproximation where Self == RingResummation {
    /// Order 4 with the rings of all closed walks resummed (`RingResummation(walks: .all)`).
    public static var ring: RingResummation { RingResummation(walks: .all) }
    /// Order 4 with the non-backtracking rings resummed (`RingResummation(walks: .nonBacktracking)`).
    public static var nonBacktrackingRing: RingResummation { RingResummation(walks: .nonBacktracking) }
}
