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
public struct RBMMethodTrainer<Scalar: TensorScalar> {
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

    /// One update on `batch`. Returns the loss.
    @discardableResult
    public mutating func step<O: Optimizer>(_ model: inout RBM<Scalar>, batch: Tensor<Scalar>, optimizer: inout O) -> Scalar
    where O.Scalar == Scalar {
        updates += 1
        if cd != nil { return cd!.step(&model, batch: batch, optimizer: &optimizer) }
        if case let .emf(_, _, after?) = method, updates == after + 1 { emf!.makePersistent(from: batch, model: model) }
        return emf!.step(&model, batch: batch, optimizer: &optimizer)
    }

    /// One shuffled pass over `data`. Returns the mean loss.
    @discardableResult
    public mutating func trainEpoch<O: Optimizer>(_ model: inout RBM<Scalar>, data: Tensor<Scalar>, batchSize: Int,
                                                 optimizer: inout O, generator: RandomGenerator) -> Double where O.Scalar == Scalar {
        let n = data.shape[0]
        let order = generator.permutation(n)
        var total = 0.0, batches = 0
        for start in stride(from: 0, to: n, by: batchSize) {
            let batch = data.indexSelect(axis: 0, indices: Array(order[start..<Swift.min(n, start + batchSize)]))
            total += Double(step(&model, batch: batch, optimizer: &optimizer))
            batches += 1
        }
        return total / Double(Swift.max(batches, 1))
    }
}
