import OnsagerCore
import OnsagerNN
/// A training rule for RBMs given by its loss on a batch (CD-k, PCD, EMF, …); updates and
/// epochs are the same for all of them.
public protocol RBMTrainer<Scalar> {
    /// The models' element type.
    associatedtype Scalar: TensorScalar
    /// The loss whose gradient is this rule's update (it may advance chains or particles).
    mutating func loss(_ model: RBM<Scalar>, batch: Tensor<Scalar>) -> Tensor<Scalar>
}

extension RBMTrainer {
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
    /// (a last partial batch is kept). Returns the mean loss.
    @discardableResult
    public mutating func trainEpoch<O: Optimizer>(_ model: inout RBM<Scalar>, data: Tensor<Scalar>, batchSize: Int,
                                                 optimizer: inout O, generator: RandomGenerator) -> Double where O.Scalar == Scalar {
        check(batchSize > 0, "trainEpoch: batch size must be positive, got \(batchSize)")
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
