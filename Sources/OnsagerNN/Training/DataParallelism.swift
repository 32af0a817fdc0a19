import OnsagerCore

/// How a `TrainingLoop` trains as one of several processes (data parallelism): every process
/// holds the same model and sees the same global batches; each computes the loss and gradients on
/// its own shard of every batch, the gradients are combined so that every process holds the
/// gradient of the global batch, and all take the same optimizer step.
///
/// The main package defines only this contract; the `OnsagerDistributed` package (in
/// `Distributed/`) implements it over MPI. The loop calls, in order: `checkAgreement` and
/// `broadcast` once at the start of `fit` (the writer's parameters win), then per batch
/// `shard(ofBatchWith:)`, backward on the shard, `reduce(sum:)` of the loss summed over the shard
/// (NaN from a process that saw a non-finite loss or gradient, so that every process stops),
/// `reduce(gradients:rows:totalRows:)`, the update, and `afterStep(_:parameters:)`; at the end of
/// every epoch `average` of the buffers; only the writer writes checkpoints and metrics.
///
/// At the end of every epoch the processes' buffers (BatchNorm's running statistics) are
/// averaged (`average`), so every process, evaluation and the checkpoint see statistics gathered
/// over all shards — for the running means exactly the mean over shards, for the running
/// variances the mean of per-shard variances (SyncBatchNorm would add the spread between shards).
/// Every process loads the whole dataset with the same seeds (unlike PyTorch's
/// DistributedSampler), and dropout masks follow the shared seeds, so they repeat across
/// processes: models with dropout or BatchNorm are not exactly equivalent to one process.
public protocol DataParallelism<Scalar>: AnyObject {
    /// The element type of the tensors it combines.
    associatedtype Scalar: TensorScalar
    /// Whether this process writes files (checkpoints, metrics): exactly one process does.
    var isWriter: Bool { get }
    /// The rows of a global batch of `count` rows this process trains on (may be empty).
    func shard(ofBatchWith count: Int) -> Range<Int>
    /// Replaces every process's tensors with the writer's (same shapes everywhere).
    func broadcast(_ tensors: inout [Tensor<Scalar>]) throws
    /// Combines per-process gradients, each the gradient of the mean loss over `rows` of the
    /// batch's `totalRows`, into the gradient of the mean over the whole batch; on return every
    /// process holds the same values, in the same order as given.
    func reduce(gradients: inout [Tensor<Scalar>], rows: Int, totalRows: Int) throws
    /// The sum of `value` over processes.
    func reduce(sum value: Double) throws -> Double
    /// Called after every optimizer step with the parameters (e.g. to check that they have not
    /// drifted apart).
    func afterStep(_ step: Int, parameters: [Tensor<Scalar>]) throws
    /// Throws unless every process passes the same `values` (the loop passes its data's rows,
    /// batch size, batches per epoch, epochs and shuffling seed when `fit` starts: processes that
    /// disagree would combine gradients of different batches), naming each value in `names`.
    func checkAgreement(_ values: [Int], names: [String]) throws
}

extension DataParallelism {
    /// Replaces every process's tensors with their mean over processes (same shapes everywhere):
    /// a `reduce(gradients:)` with each process weighted by 1/processes.
    public func average(_ tensors: inout [Tensor<Scalar>]) throws {
        let processes = try reduce(sum: 1)
        try reduce(gradients: &tensors, rows: 1, totalRows: Int(processes.rounded()))
    }
}
