import OnsagerCore
import OnsagerNN

/// A training rule for RBMs given by its loss on a batch (CD-k, PCD, EMF, …); updates and
/// epochs are the same for all of them.
public protocol RBMTrainer<Scalar> {
    /// The models' element type.
    associatedtype Scalar: TensorScalar
    /// The loss whose gradient is this rule's update (it may advance chains or particles).
    mutating func loss(_ model: RBM<Scalar>, batch: Tensor<Scalar>) -> Tensor<Scalar>
    /// The generator `trainEpoch` shuffles with when none is given: the trainer's own where it
    /// has one (CD/PCD's sampling generator), else `RandomGenerator.current`.
    var defaultGenerator: RandomGenerator { get }
    /// The state a resumed run needs besides the model and optimizer (persistent chains,
    /// particles, counters), as named tensors for `RBMTrainingCheckpoint`; assigning restores it.
    /// Empty for stateless rules (CD-k).
    var stateTensors: [String: Tensor<Scalar>] { get set }
    /// What kind of rule this is, as `RBMTrainingCheckpoint` records it, so that a checkpoint is
    /// not resumed into another kind (CD into PCD, PCD with other chains, EMF of another order).
    /// Settings that may change during a run (CD's k, the L2 weight) are not part of it.
    var checkpointSignature: String { get }
}

extension RBMTrainer {
    /// `RandomGenerator.current`.
    public var defaultGenerator: RandomGenerator { .current }

    /// The rule's type name.
    public var checkpointSignature: String { "\(Self.self)" }

    /// No state: a stateless rule resumes from the model and optimizer alone.
    public var stateTensors: [String: Tensor<Scalar>] {
        get { [:] }
        set {}
    }

    /// One update: loss, backward, optimizer step. Returns the loss value.
    @discardableResult
    public mutating func step<O: Optimizer>(_ model: inout RBM<Scalar>, batch: Tensor<Scalar>, optimizer: inout O) -> Scalar
    where O.Scalar == Scalar {
        model.zeroGradients()
        let l = loss(model, batch: batch)
        l.backward()
        model.update(with: &optimizer)
        return l.item
    }

    /// One pass over the rows of `data` in minibatches of `batchSize`, shuffled by `generator`
    /// (default: `defaultGenerator`; a last partial batch is kept): one epoch of `TrainingLoop`,
    /// so a NaN/Inf loss or gradient stops it with the op that made it. Progress goes to
    /// `ProgressReporter` (a bar on a terminal). Returns the mean loss.
    ///
    /// With `dataParallel`, this process trains on its shard of every batch and the gradients
    /// are combined across processes before each update (see `DataParallelism`); chains and
    /// particles a trainer keeps are then this process's own.
    @discardableResult
    public mutating func trainEpoch<O: Optimizer>(_ model: inout RBM<Scalar>, data: Tensor<Scalar>, batchSize: Int,
                                                 optimizer: inout O, generator: RandomGenerator? = nil,
                                                 dataParallel: (any DataParallelism<Scalar>)? = nil) throws -> Double
    where O.Scalar == Scalar {
        let generator = generator ?? defaultGenerator
        // The loop takes the model and optimizer over (consumed, not copied), so the optimizer
        // keeps updating uniquely held parameter storage in place.
        var loop = TrainingLoop(model: consume model, optimizer: consume optimizer, batchSize: batchSize, generator: generator)
        defer {
            model = loop.model
            optimizer = loop.optimizer
        }
        loop.showProgress = false
        loop.dataParallel = dataParallel
        try loop.fit(inputs: data, epochs: 1) { m, batch in loss(m, batch: batch) }
        return loop.history[0].loss
    }
}
