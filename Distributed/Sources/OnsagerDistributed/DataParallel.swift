import Foundation
import Onsager

/// Data-parallel training over a `Communicator`: set it as a `TrainingLoop`'s `dataParallel`
/// (or pass it to an RBM trainer's `trainEpoch`). Every process runs the same program on the same
/// global batches (same seeds); rank r trains on rows [r·n/size, (r+1)·n/size) of each batch.
///
/// - Parameters start identical: rank 0's are broadcast when `fit` starts.
/// - Gradients are combined with all-reduce in buckets of about `bucketBytes`, always in the
///   parameters' order (the module tree's), so the combined gradient — and every bit of the
///   parameters — is the same on every process and does not depend on timing. Each process
///   weights its gradient by its share of the batch's rows, so uneven shards (a last partial
///   batch) still give the gradient of the global batch's mean loss.
/// - Every `checkEvery` steps the parameters' hashes are compared across processes; a
///   difference stops training with `DistributedError.parametersDiverged`.
/// - Only rank 0 writes checkpoints and metrics.
///
/// Against one process on the same batches the result agrees up to floating-point association:
/// the one-process gradient sums all rows in one GEMM, the distributed one adds per-shard sums.
public final class DataParallel<Scalar: TensorScalar>: DataParallelism {
    /// The processes taking part.
    public let communicator: Communicator
    /// Approximate size of one all-reduce message (default 25 MB, PyTorch DDP's default).
    public var bucketBytes: Int
    /// Steps between parameter-agreement checks (0: never).
    public var checkEvery: Int

    /// Data parallelism over `communicator` (default: all processes of the job).
    public init(_ communicator: Communicator, bucketBytes: Int = 25 << 20, checkEvery: Int = 100) {
        self.communicator = communicator
        self.bucketBytes = bucketBytes
        self.checkEvery = checkEvery
    }

    public var isWriter: Bool { communicator.rank == 0 }

    public func shard(ofBatchWith count: Int) -> Range<Int> {
        let r = communicator.rank, n = communicator.size
        return (count * r / n)..<(count * (r + 1) / n)
    }

    public func broadcast(_ tensors: inout [Tensor<Scalar>]) throws {
        try forEachBucket(&tensors) { try communicator.broadcast(&$0, root: 0) }
    }

    public func reduce(gradients: inout [Tensor<Scalar>], rows: Int, totalRows: Int) throws {
        // Scaled by the tensor kernels, not an element loop (generic code here is not specialised).
        let weight = Scalar(Double(rows) / Double(Swift.max(totalRows, 1)))
        if rows != totalRows { gradients = withoutGrad { gradients.map { $0 * weight } } }
        try forEachBucket(&gradients) { try communicator.allReduce(&$0, .sum) }
    }

    public func reduce(sum value: Double) throws -> Double { try communicator.allReduce(value, .sum) }

    public func afterStep(_ step: Int, parameters: [Tensor<Scalar>]) throws {
        if checkEvery > 0 && step % checkEvery == 0 { try checkIdentical(parameters, step: step) }
    }

    public func checkAgreement(_ values: [Int], names: [String]) throws {
        let all = try communicator.allGather(values.map { Int64($0) })
        for r in all.indices where all[r] != all[0] {
            let differing = values.indices.filter { all[r][$0] != all[0][$0] }
                .map { "\(names.indices.contains($0) ? names[$0] : "value \($0)") \(all[0][$0]) on rank 0, \(all[r][$0]) on rank \(r)" }
            throw DistributedError.mismatch(call: "data-parallel fit", rank: communicator.rank,
                                            detail: "the processes disagree on " + differing.joined(separator: "; ") + " (every process must load the whole dataset with the same seeds and settings)")
        }
    }

    /// Throws `.parametersDiverged` unless every process holds bit-identical `parameters`.
    public func checkIdentical(_ parameters: [Tensor<Scalar>], step: Int) throws {
        var hash: UInt64 = 0xcbf29ce484222325
        for p in parameters {
            p.scalars.withUnsafeBytes { for b in $0 { hash = (hash ^ UInt64(b)) &* 0x100000001b3 } }
        }
        let all = try communicator.allGather([Int64(bitPattern: hash)])
        let differing = all.indices.filter { all[$0] != all[0] }
        if !differing.isEmpty { throw DistributedError.parametersDiverged(step: step, rank: communicator.rank, differingRanks: differing) }
    }

    /// Packs consecutive tensors into flat buckets of about `bucketBytes`, applies `body` to each
    /// bucket, and unpacks the results (shapes kept).
    func forEachBucket(_ tensors: inout [Tensor<Scalar>], _ body: (inout [Scalar]) throws -> Void) throws {
        let limit = Swift.max(1, bucketBytes / MemoryLayout<Scalar>.size)
        var start = 0
        while start < tensors.count {
            var end = start, count = 0
            repeat { count += tensors[end].scalarCount; end += 1 } while end < tensors.count && count + tensors[end].scalarCount <= limit
            var flat = end - start == 1 ? tensors[start].scalars : []
            if end - start > 1 {
                flat.reserveCapacity(count)
                for t in tensors[start..<end] { flat.append(contentsOf: t.scalars) }
            }
            try body(&flat)
            if end - start == 1 {
                tensors[start] = Tensor(shape: tensors[start].shape, scalars: flat)
            } else {
                let whole = Tensor<Scalar>(shape: [count], scalars: flat)
                var offset = 0
                for i in start..<end {
                    let n = tensors[i].scalarCount
                    tensors[i] = whole.sliced(axis: 0, offset..<(offset + n)).reshaped(tensors[i].shape)
                    offset += n
                }
            }
            start = end
        }
    }
}
