import OnsagerCore

/// Order of the Plefka expansion of the Gibbs free energy of an RBM: the series in W truncated
/// after the given power (see `PlefkaExpansion.swift` for the terms). Each order carries
/// hand-written stationarity fields, checked against the tape's in the tests.
///
/// The orders are `.meanField`, `.tap2`, `.tap3` and `.tap4`, written so wherever a
/// `PlefkaOrder` or any `GibbsFreeEnergyApproximation` is expected.
public struct PlefkaOrder: Hashable, Sendable, CaseIterable, GibbsFreeEnergyApproximation {
    /// The highest power of W kept, 1…4.
    public let rawValue: Int

    /// The order with `rawValue` 1…4, or nil.
    public init?(rawValue: Int) {
        guard (1...4).contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Orders 1 through 4.
    public static var allCases: [PlefkaOrder] { (1...4).map { PlefkaOrder(rawValue: $0)! } }

    /// "MF", "TAP2", "TAP3" or "TAP4".
    public var description: String { rawValue == 1 ? "MF" : "TAP\(rawValue)" }

    /// The series up to this order, less the entropies.
    public func interaction<S: TensorScalar>(_ model: RBM<S>, _ m: Magnetizations<S>, couplings: CouplingPowers<S>) -> Tensor<S> {
        model.plefkaInteraction(m, order: rawValue, couplings: couplings)
    }

    /// The fields written out (orders 1–3: one GEMM per power of W; order 4 adds the 4-cycle
    /// products, see `PlefkaExpansion.swift`).
    public func handWrittenField<S: TensorScalar>(of layer: RBMLayer, _ model: RBM<S>, _ m: Magnetizations<S>,
                                                  couplings: CouplingPowers<S>) -> Tensor<S>? {
        model.plefkaField(of: layer, m, order: rawValue, couplings: couplings)
    }
}

// The orders live here rather than as statics of the struct so that `.tap2` also reads where any
// approximation is expected (`negativeGibbsFreeEnergy(m, approximation: .tap2)`).
extension GibbsFreeEnergyApproximation where Self == PlefkaOrder {
    /// Naive mean field (order 1).
    public static var meanField: PlefkaOrder { PlefkaOrder(rawValue: 1)! }
    /// TAP: order 2, the Onsager reaction term.
    public static var tap2: PlefkaOrder { PlefkaOrder(rawValue: 2)! }
    /// Order 3.
    public static var tap3: PlefkaOrder { PlefkaOrder(rawValue: 3)! }
    /// Order 4: a single-edge W⁴ term and the 4-cycles of the bipartite graph.
    public static var tap4: PlefkaOrder { PlefkaOrder(rawValue: 4)! }
}
