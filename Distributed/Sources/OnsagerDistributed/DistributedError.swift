/// Why a distributed operation failed. Every case names the MPI call (or check) and the rank
/// that saw it, so that a log line from any process says what happened where.
public enum DistributedError: Error, Equatable, CustomStringConvertible {
    /// An MPI call returned an error code.
    case mpi(call: String, rank: Int, code: Int32, message: String)
    /// A collective did not complete within the communicator's timeout: a peer died, hangs, or
    /// is not calling the same collective.
    case timeout(call: String, rank: Int, seconds: Double)
    /// Processes passed incompatible arguments to a collective (shapes, counts).
    case mismatch(call: String, rank: Int, detail: String)
    /// A call on a communicator whose earlier collective timed out (its peers' calls would pair
    /// with the unfinished one): abort the job.
    case unusable(call: String, rank: Int, after: String)
    /// The processes' parameters are no longer identical (checked every K steps).
    case parametersDiverged(step: Int, rank: Int, differingRanks: [Int])

    public var description: String {
        switch self {
        case let .mpi(call, rank, code, message): return "\(call) failed on rank \(rank): MPI error \(code) (\(message))"
        case let .timeout(call, rank, seconds):
            return "\(call) on rank \(rank) did not complete within \(seconds) s: a peer process may have died or be waiting in another call (ONSAGER_MPI_TIMEOUT sets the limit)"
        case let .mismatch(call, rank, detail): return "\(call) on rank \(rank): \(detail)"
        case let .unusable(call, rank, after):
            return "\(call) on rank \(rank): this communicator is unusable after an earlier failure (\(after)); call abort() to end the job"
        case let .parametersDiverged(step, rank, ranks):
            return "data-parallel training: after step \(step) the parameters of rank(s) \(ranks.map(String.init).joined(separator: ", ")) differ from rank 0's (seen on rank \(rank)); every process must run the same code on the same global batches"
        }
    }
}
