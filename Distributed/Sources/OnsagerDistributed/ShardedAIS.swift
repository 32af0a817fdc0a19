import Foundation
import Onsager

/// Annealed importance sampling with its runs spread over processes. The runs are cut into
/// chunks of `chunkRuns` (the last one shorter when it does not divide the runs), chunk c
/// drawing from `RandomGenerator(seed: seed + c)`; chunks go to
/// ranks round-robin, and the log-weights are assembled in chunk order on every process (an
/// all-reduce of zero-padded slots, which adds only zeros) and combined by log-mean-exp. The
/// estimate, band and diagnostics therefore do not depend on the number of processes: one
/// process computing every chunk gets the same bits.
public struct ShardedAIS {
    /// The AIS settings (schedule, total runs).
    public var ais: AnnealedImportanceSampling
    /// Runs per chunk, the unit of work and of seeding (at least 1; capped at the runs).
    public var chunkRuns: Int

    /// Sharded AIS with `ais`'s schedule and runs, in chunks of `chunkRuns` (values below 1 count
    /// as 1).
    public init(_ ais: AnnealedImportanceSampling, chunkRuns: Int = 10) {
        self.ais = ais
        self.chunkRuns = Swift.max(1, Swift.min(chunkRuns, ais.runs))
    }

    /// ln Z of `model`, computed by the processes of `communicator` together (nil: this process
    /// alone, every chunk).
    public func logPartition<S: TensorScalar>(of model: RBM<S>, baseBiases: Tensor<S>? = nil, seed: UInt64,
                                              communicator: Communicator? = nil) throws -> LogPartitionEstimate {
        let started = Date()
        let per = Swift.max(1, Swift.min(chunkRuns, ais.runs))
        let chunks = (ais.runs + per - 1) / per
        let rank = communicator?.rank ?? 0, size = communicator?.size ?? 1
        var logWeights = [Double](repeating: 0, count: ais.runs)
        var baseLogZ = 0.0
        for c in stride(from: rank, to: chunks, by: size) {
            var chunkAIS = ais
            chunkAIS.runs = Swift.min(per, ais.runs - c * per)
            let e = withoutGrad { chunkAIS.logPartition(of: model, baseBiases: baseBiases, generator: RandomGenerator(seed: seed &+ UInt64(c))) }
            for (i, w) in e.logWeights.enumerated() { logWeights[c * per + i] = w }
            baseLogZ = e.logZBase
        }
        if let communicator {
            try communicator.allReduce(&logWeights, .sum)
            baseLogZ = try communicator.allReduce(rank == 0 ? baseLogZ : 0, .sum)
        }
        return ais.estimate(fromLogWeights: logWeights, baseLogZ: baseLogZ, seconds: Date().timeIntervalSince(started))
    }
}
