import OnsagerCore
import OnsagerNN
/// A way to train an RBM, so experiments can compare methods under one loop:
/// CD-k, PCD-k, or EMF with a Plefka free energy of some order.
public enum RBMTrainingMethod: Sendable, CustomStringConvertible {
    case cd(k: Int)
    case pcd(k: Int, chains: Int)
    /// EMF with `iterations` damped sweeps; magnetizations are data-initialised until update
    /// `persistentAfter` (if any), then persistent.
    case emf(order: PlefkaOrder, iterations: Int, persistentAfter: Int?)

    public var description: String {
        switch self {
        case let .cd(k): return "CD-\(k)"
        case let .pcd(k, _): return "PCD-\(k)"
        case let .emf(order, _, _): return "\(order)"
        }
    }
}

/// The state of one training method for one model: chains, magnetizations, update count.
public struct RBMMethodTrainer<Scalar: TensorScalar>: RBMTrainer {
    public let method: RBMTrainingMethod
    var cd: ContrastiveDivergence<Scalar>?
    var emf: EMFTrainer<Scalar>?
    public private(set) var updates = 0

    public init(_ method: RBMTrainingMethod, visible: Int, l2: Double, generator: RandomGenerator) {
        self.method = method
        switch method {
        case let .cd(k): cd = .cd(k: k, l2: l2, generator: generator)
        case let .pcd(k, chains): cd = .pcd(k: k, chains: chains, visible: visible, l2: l2, generator: generator)
        case let .emf(order, iterations, _): emf = EMFTrainer(solver: TAPSolver(order: order, iterations: iterations), l2: l2)
        }
    }

    /// The loss of the chosen method (switching EMF to persistent magnetizations when due).
    public mutating func loss(_ model: RBM<Scalar>, batch: Tensor<Scalar>) -> Tensor<Scalar> {
        updates += 1
        if cd != nil { return cd!.loss(model, batch: batch) }
        if case let .emf(_, _, after?) = method, updates == after + 1 { emf!.makePersistent(from: batch, model: model) }
        return emf!.loss(model, batch: batch)
    }
}
