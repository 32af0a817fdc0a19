import CMPI
import Foundation
import Onsager

/// A group of processes started by `mpirun`: rank, size, barrier, and collectives on tensors
/// (Float and Double): all-reduce (sum, mean, max, min), broadcast, all-gather.
///
/// Every collective is started nonblocking and waited for with a deadline (`timeout`), so a dead
/// or stuck peer becomes a `DistributedError.timeout` naming the call and the rank instead of a
/// hang; MPI errors become `DistributedError.mpi` (the communicator returns error codes rather
/// than aborting). To stop every process after an error, call `abort(_:)`.
public final class Communicator: @unchecked Sendable {
    /// This process's rank, 0..<size.
    public let rank: Int
    /// The number of processes.
    public let size: Int
    /// Seconds a collective may take before it fails with `.timeout` (default 120, or
    /// `ONSAGER_MPI_TIMEOUT`).
    public var timeout: Double
    /// The timeout that made this communicator unusable, if one did.
    public private(set) var failure: DistributedError?
    let comm: MPI_Comm?

    init(comm: MPI_Comm?) throws {
        self.comm = comm
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_set_errhandler(comm, onsager_mpi_errors_return())
        try Self.check(MPI_Comm_rank(comm, &r), "MPI_Comm_rank", rank: -1)
        try Self.check(MPI_Comm_size(comm, &s), "MPI_Comm_size", rank: Int(r))
        rank = Int(r)
        size = Int(s)
        timeout = ProcessInfo.processInfo.environment["ONSAGER_MPI_TIMEOUT"].flatMap(Double.init) ?? 120
    }

    nonisolated(unsafe) private static var worldCommunicator: Communicator?
    private static let lock = NSLock()

    /// All processes of the job (MPI is initialised on first use and finalised at exit). A
    /// program started without `mpirun` is a job of one process.
    public static func world() throws -> Communicator {
        lock.lock()
        defer { lock.unlock() }
        if let w = worldCommunicator { return w }
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            try check(MPI_Init_thread(nil, nil, onsager_mpi_thread_funneled(), &provided), "MPI_Init_thread", rank: -1)
            atexit {
                var finalized: Int32 = 0
                MPI_Finalized(&finalized)
                if finalized == 0 { MPI_Finalize() }
            }
        }
        let w = try Communicator(comm: onsager_mpi_comm_world())
        worldCommunicator = w
        return w
    }

    /// Sub-groups: processes passing the same `color` form one communicator, ranked by `key`;
    /// `nil` color (MPI_UNDEFINED) leaves this process out (returns nil).
    public func split(color: Int?, key: Int = 0) throws -> Communicator? {
        var out: MPI_Comm? = onsager_mpi_comm_null()
        try check(MPI_Comm_split(comm, Int32(color ?? Int(onsager_mpi_undefined())), Int32(key), &out), "MPI_Comm_split")
        return color == nil ? nil : try Communicator(comm: out)
    }

    /// Waits until every process has reached this call.
    public func barrier() throws {
        try ensureUsable("MPI_Ibarrier")
        var request: MPI_Request? = onsager_mpi_request_null()
        try check(MPI_Ibarrier(comm, &request), "MPI_Ibarrier")
        try wait(&request, "MPI_Ibarrier")
    }

    /// Ends every process of the job (after an error that the others cannot see, such as a
    /// timeout: a communicator that timed out refuses further calls).
    public func abort(_ code: Int32 = 1) -> Never {
        MPI_Abort(comm, code)
        exit(code)
    }

    // MARK: collectives

    /// Reductions of `allReduce`.
    public enum Reduction: Sendable {
        case sum, mean, max, min
    }

    /// Combines `values` elementwise over all processes; every process gets the result. The
    /// counts must agree (checked: a difference throws `.mismatch` naming both).
    public func allReduce<S: TensorScalar>(_ values: inout [S], _ op: Reduction = .sum) throws {
        try checkSameShape([values.count], "allReduce")
        try reduceValues(&values, op, "MPI_Iallreduce")
    }

    /// `allReduce` on Double values (losses, counts, log-weights).
    public func allReduce(_ value: Double, _ op: Reduction = .sum) throws -> Double {
        var v = [value]
        try reduceValues(&v, op, "MPI_Iallreduce")
        return v[0]
    }

    /// The tensor combined elementwise over all processes (same shape on every process).
    public func allReduce<S: TensorScalar>(_ tensor: Tensor<S>, _ op: Reduction = .sum) throws -> Tensor<S> {
        try checkSameShape(tensor.shape, "allReduce")
        var values = tensor.scalars
        try reduceValues(&values, op, "MPI_Iallreduce")
        return Tensor(shape: tensor.shape, scalars: values)
    }

    /// Replaces `values` on every process with the values of `root` (the counts must agree:
    /// checked).
    public func broadcast<S: TensorScalar>(_ values: inout [S], root: Int = 0) throws {
        try checkSameShape([values.count], "broadcast")
        try broadcastValues(&values, root: root)
    }

    /// `root`'s tensor, on every process (the shapes must agree: checked).
    public func broadcast<S: TensorScalar>(_ tensor: Tensor<S>, root: Int = 0) throws -> Tensor<S> {
        try checkSameShape(tensor.shape, "broadcast")
        var values = tensor.scalars
        try broadcastValues(&values, root: root)
        return Tensor(shape: tensor.shape, scalars: values)
    }

    /// Every process's tensor, concatenated along the first axis in rank order (the shapes must
    /// agree: checked).
    public func allGather<S: TensorScalar>(_ tensor: Tensor<S>) throws -> Tensor<S> {
        try checkSameShape(tensor.shape, "allGather")
        let all = try gatherValues(tensor.scalars, Self.datatype(S.self), "MPI_Iallgather")
        let shape = tensor.shape.isEmpty ? [size] : [tensor.shape[0] * size] + tensor.shape.dropFirst()
        return Tensor(shape: shape, scalars: all)
    }

    /// Every process's values, in rank order (the counts must agree: checked).
    public func allGather(_ values: [Int64]) throws -> [[Int64]] {
        try checkSameShape([values.count], "allGather")
        return try gather(values, "MPI_Iallgather")
    }

    // MARK: plumbing

    /// The all-reduce itself, counts unchecked.
    func reduceValues<S: TensorScalar>(_ values: inout [S], _ op: Reduction, _ call: String) throws {
        try ensureUsable(call)
        let mpiOp = op == .max ? onsager_mpi_max() : op == .min ? onsager_mpi_min() : onsager_mpi_sum()
        let count = try count32(values.count, call)
        try values.withUnsafeMutableBytes { buffer in
            var request: MPI_Request? = onsager_mpi_request_null()
            try check(onsager_mpi_iallreduce_in_place(buffer.baseAddress, count, Self.datatype(S.self), mpiOp, comm, &request), call)
            try wait(&request, call)
        }
        if op == .mean {
            let n = S(Double(size))
            values = withoutGrad { (Tensor(shape: [values.count], scalars: values) / n).scalars }
        }
    }

    /// The broadcast itself, counts unchecked.
    func broadcastValues<S: TensorScalar>(_ values: inout [S], root: Int) throws {
        try ensureUsable("MPI_Ibcast")
        let count = try count32(values.count, "MPI_Ibcast")
        try values.withUnsafeMutableBytes { buffer in
            var request: MPI_Request? = onsager_mpi_request_null()
            try check(MPI_Ibcast(buffer.baseAddress, count, Self.datatype(S.self), Int32(root), comm, &request), "MPI_Ibcast")
            try wait(&request, "MPI_Ibcast")
        }
    }

    /// The all-gather of Int64 values, one array per rank, counts unchecked.
    func gather(_ values: [Int64], _ call: String) throws -> [[Int64]] {
        let all = try gatherValues(values, onsager_mpi_int64(), call)
        return (0..<size).map { Array(all[($0 * values.count)..<(($0 + 1) * values.count)]) }
    }

    /// The all-gather itself: every rank's `values` (of MPI type `type`) concatenated in rank
    /// order, counts unchecked.
    func gatherValues<T: Numeric>(_ values: [T], _ type: MPI_Datatype?, _ call: String) throws -> [T] {
        try ensureUsable(call)
        var all = [T](repeating: 0, count: values.count * size)
        let count = try count32(values.count, call)
        try values.withUnsafeBytes { send in
            try all.withUnsafeMutableBytes { receive in
                var request: MPI_Request? = onsager_mpi_request_null()
                try check(MPI_Iallgather(send.baseAddress, count, type, receive.baseAddress, count, type, comm, &request), call)
                try wait(&request, call)
            }
        }
        return all
    }

    /// Throws `.mismatch` when the processes pass arguments of different shapes (or counts) to
    /// the collective `call`.
    func checkSameShape(_ shape: [Int], _ call: String) throws {
        let mine = [Int64(shape.count)] + shape.map(Int64.init) + [Int64](repeating: -1, count: 8 - Swift.min(shape.count, 8))
        let all = try gather(Array(mine.prefix(9)), "\(call) (checking that every rank passes the same shape)")
        if let other = all.firstIndex(where: { $0 != all[0] }) {
            func text(_ v: [Int64]) -> String { "[" + v.dropFirst().prefix(Int(v[0])).map(String.init).joined(separator: ", ") + "]" }
            throw DistributedError.mismatch(call: call, rank: rank, detail: "rank 0 passes shape (or count) \(text(all[0])), rank \(other) \(text(all[other]))")
        }
    }

    /// After a timeout the unfinished collective cannot be cancelled, and later calls would pair
    /// with it: the communicator refuses them.
    func ensureUsable(_ call: String) throws {
        if let failure { throw DistributedError.unusable(call: call, rank: rank, after: failure.description) }
    }

    /// Polls `request` until it completes or `timeout` passes; spins briefly, then sleeps between
    /// polls so that waiting processes leave the CPU to the ones still computing.
    func wait(_ request: inout MPI_Request?, _ call: String) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var polls = 0
        while true {
            var done: Int32 = 0
            try check(onsager_mpi_test(&request, &done), call)
            if done != 0 { return }
            polls += 1
            if polls > 2000 {
                if Date() > deadline {
                    let error = DistributedError.timeout(call: call, rank: rank, seconds: timeout)
                    failure = error
                    throw error
                }
                usleep(polls > 20000 ? 1000 : 50)
            }
        }
    }

    func check(_ code: Int32, _ call: String) throws { try Self.check(code, call, rank: rank) }

    static func check(_ code: Int32, _ call: String, rank: Int) throws {
        guard code != onsager_mpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(onsager_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        throw DistributedError.mpi(call: call, rank: rank, code: code, message: String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    func count32(_ n: Int, _ call: String) throws -> Int32 {
        guard n <= Int(Int32.max) else { throw DistributedError.mismatch(call: call, rank: rank, detail: "\(n) elements exceed MPI's count limit (2³¹ − 1); split the buffer") }
        return Int32(n)
    }

    static func datatype<S: TensorScalar>(_: S.Type) -> MPI_Datatype? {
        S.self == Float.self ? onsager_mpi_float() : onsager_mpi_double()
    }
}
