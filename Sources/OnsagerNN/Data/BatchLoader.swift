import OnsagerCore
import Foundation

/// Minibatches of a dataset held in tensors (`torch.utils.data.DataLoader` over a
/// `TensorDataset`): a seeded shuffle per epoch, an optional drop of the last partial batch, a
/// transform hook (augmentation, noise), and, when there is a transform, the next batch prepared
/// on a background thread while the current step runs.
///
/// Deterministic for a seed whatever the thread count or timing: each epoch's order is drawn from
/// `generator` on the calling thread (a `TrainingLoop` checkpoint records its position), and the
/// transform of batch b of epoch e gets its own generator seeded from (seed, e, b), never a
/// shared stream that the prefetching thread could advance out of turn.
public struct BatchLoader<Scalar: TensorScalar>: @unchecked Sendable {
    /// The transform applied to each batch: the batch and a generator private to it.
    public typealias Transform = @Sendable (Batch<Scalar>, RandomGenerator) -> Batch<Scalar>

    /// All input rows [N, …].
    public let inputs: Tensor<Scalar>
    /// All target rows [N, …], if any.
    public let targets: Tensor<Scalar>?
    /// All labels, if any.
    public let labels: [Int]?
    /// Rows per batch.
    public var batchSize: Int
    /// Whether each epoch visits the rows in a new random order.
    public var shuffle: Bool
    /// Whether to skip a last batch smaller than `batchSize`.
    public var dropLast: Bool
    /// Applied to each batch (on the prefetching thread when prefetching).
    public var transform: Transform?
    /// Whether to prepare the next batch in the background; nil (the default) does so when a
    /// `transform` is set. Without one a batch is a gather of rows, about as cheap as handing it to
    /// another thread: an RBM epoch of 100 batches of 100 × 784 gathering on the calling thread ran
    /// 1.02×, 1.02× and 0.95× the speed of prefetching at one thread and 1.04×, 0.98× and 1.00× at
    /// two (Zen 4, `Benchmarks/ab.py`, a noisy host), while the process used 2.40–2.50 s of CPU
    /// against 2.55–2.87 s; waking the worker had taken 2.2 % of the epoch by perf.
    public var prefetch: Bool?
    /// Whether batches are prepared in the background: `prefetch`, or by default whether there is
    /// a transform.
    public var prefetches: Bool { prefetch ?? (transform != nil) }
    /// The generator that shuffles: each epoch draws one permutation from it. Its seed, with the
    /// epoch and batch numbers, also seeds the transforms.
    public let generator: RandomGenerator
    /// Epochs started so far (the next epoch is number `epochsStarted + 1`).
    public internal(set) var epochsStarted = 0

    /// A loader over rows of `inputs` with optional `targets` rows or class `labels`.
    public init(inputs: Tensor<Scalar>, targets: Tensor<Scalar>? = nil, labels: [Int]? = nil, batchSize: Int,
                shuffle: Bool = true, dropLast: Bool = false, prefetch: Bool? = nil, generator: RandomGenerator = .current,
                transform: Transform? = nil) {
        check(inputs.rank >= 1, "BatchLoader: inputs must have a row dimension, got shape \(inputs.shape)")
        let n = inputs.shape[0]
        check(batchSize > 0, "BatchLoader: batch size must be positive, got \(batchSize)")
        if let targets { check(targets.rank >= 1 && targets.shape[0] == n, "BatchLoader: \(n) input rows but targets of shape \(targets.shape)") }
        if let labels { check(labels.count == n, "BatchLoader: \(n) input rows but \(labels.count) labels") }
        self.inputs = inputs; self.targets = targets; self.labels = labels
        self.batchSize = batchSize; self.shuffle = shuffle; self.dropLast = dropLast; self.prefetch = prefetch
        self.generator = generator; self.transform = transform
    }

    /// Number of rows.
    public var rowCount: Int { inputs.shape[0] }
    /// Batches per epoch.
    public var batchesPerEpoch: Int { dropLast ? rowCount / batchSize : (rowCount + batchSize - 1) / batchSize }

    /// The batch made of `rows`, transformed with the generator of (epoch, position).
    public func batch(rows: [Int], epoch: Int, position: Int) -> Batch<Scalar> {
        var b = Batch(inputs: inputs.indexSelect(axis: 0, indices: rows), targets: targets?.indexSelect(axis: 0, indices: rows),
                      labels: labels.map { l in rows.map { l[$0] } }, indices: rows)
        if let transform { b = transform(b, RandomGenerator(seed: Self.mix(generator.seed, UInt64(epoch), UInt64(position)))) }
        return b
    }

    /// The next epoch's batches, in order (draws the shuffle now).
    public mutating func epoch() -> Epoch {
        epochsStarted += 1
        let order = shuffle ? generator.permutation(rowCount) : Array(0..<rowCount)
        let rows = (0..<batchesPerEpoch).map { b in Array(order[(b * batchSize)..<Swift.min(rowCount, (b + 1) * batchSize)]) }
        return Epoch(loader: self, epoch: epochsStarted, rows: rows)
    }

    /// One epoch's batches; iterating prepares batch b + 1 in the background while b is used
    /// (when the loader `prefetches`).
    public struct Epoch: Sequence, IteratorProtocol {
        let loader: BatchLoader
        let epoch: Int
        let rows: [[Int]]
        var position = 0
        var pending: Pending?

        /// The next batch, or nil at the end of the epoch.
        public mutating func next() -> Batch<Scalar>? {
            guard position < rows.count else { return nil }
            let current = pending.map { $0.wait() } ?? loader.batch(rows: rows[position], epoch: epoch, position: position)
            position += 1
            pending = nil
            if loader.prefetches && position < rows.count {
                pending = Pending { [loader, epoch, rows, position] in loader.batch(rows: rows[position], epoch: epoch, position: position) }
            }
            return current
        }
    }

    /// A batch being prepared on a background thread. Dispatch's worker threads are reused from
    /// batch to batch; with a new thread per batch (`Thread.detachNewThread`) an RBM epoch of 100
    /// batches ran 1.06–1.14× slower at one thread and 1.29× at two (Zen 4), its process using
    /// 3.1–3.3 s of CPU against 2.5–2.8 s.
    final class Pending: @unchecked Sendable {
        private var result: Batch<Scalar>?
        private let done = DispatchSemaphore(value: 0)
        init(_ work: @escaping @Sendable () -> Batch<Scalar>) {
            DispatchQueue.global(qos: .userInitiated).async { [self] in
                result = work()
                done.signal()
            }
        }
        func wait() -> Batch<Scalar> {
            done.wait()
            return result!
        }
    }

    /// A 64-bit seed from three numbers (SplitMix64 finaliser of a combination).
    static func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var z = a &+ 0x9E37_79B9_7F4A_7C15 &* (b &+ 1) &+ 0xBF58_476D_1CE4_E5B9 &* (c &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
