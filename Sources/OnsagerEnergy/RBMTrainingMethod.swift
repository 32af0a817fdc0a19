import OnsagerCore

/// A way to train an RBM, so experiments can compare methods under one loop:
/// CD-k, PCD-k, or EMF with a Plefka free energy of some order or any other approximation.
public enum RBMTrainingMethod: Sendable, CustomStringConvertible {
    /// Contrastive divergence with k Gibbs steps from the data.
    case cd(k: Int)
    /// Persistent contrastive divergence with k Gibbs steps on `chains` persistent chains.
    case pcd(k: Int, chains: Int)
    /// EMF with `iterations` damped sweeps; magnetizations are data-initialised until update
    /// `persistentAfter` (if any), then persistent.
    case emf(order: PlefkaOrder, iterations: Int, persistentAfter: Int?)
    /// EMF with any Gibbs free energy approximation (a ring resummation, your own expansion),
    /// its fixed point found by `TAPSolver` with fields from the tape where it has none.
    case emfApproximation(any GibbsFreeEnergyApproximation, iterations: Int, persistentAfter: Int?)

    /// "CD-k", "PCD-k", or the Plefka order's name.
    public var description: String {
        switch self {
        case let .cd(k): return "CD-\(k)"
        case let .pcd(k, _): return "PCD-\(k)"
        case let .emf(order, _, _): return "\(order)"
        case let .emfApproximation(approximation, _, _): return "EMF-\(approximation)"
        }
    }

    /// A fresh trainer for this method (its chains or particles start anew).
    public func makeTrainer<Scalar: TensorScalar>(visible: Int, l2: Double, generator: RandomGenerator,
                                                  as: Scalar.Type = Scalar.self) -> any RBMTrainer<Scalar> {
        switch self {
        case let .cd(k): return ContrastiveDivergence<Scalar>.cd(k: k, l2: l2, generator: generator)
        case let .pcd(k, chains): return ContrastiveDivergence<Scalar>.pcd(k: k, chains: chains, visible: visible, l2: l2, generator: generator)
        case let .emfApproximation(approximation, iterations, after):
            return EMFTrainer<Scalar>(solver: TAPSolver(approximation, iterations: iterations), l2: l2, persistentAfter: after)
        case let .emf(order, iterations, after):
            return EMFTrainer<Scalar>(solver: TAPSolver(order: order, iterations: iterations), l2: l2, persistentAfter: after)
        }
    }
}
