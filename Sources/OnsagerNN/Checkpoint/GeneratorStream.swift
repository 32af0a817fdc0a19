import OnsagerCore

/// How checkpoints record a random generator: "seed:position". One place writes and reads it for
/// every kind of checkpoint (training loops, RBM runs).
extension RandomGenerator {
    /// "seed:position", as checkpoints store it.
    package var checkpointStream: String { "\(seed):\(position)" }

    /// The position recorded in `stream` (written by `checkpointStream`) for this generator, named
    /// `what` in errors about the file at `path`; throws when the stream is unreadable or was
    /// written by a generator with another seed.
    package func checkpointPosition(from stream: String, what: String, path: String) throws -> UInt64 {
        let parts = stream.split(separator: ":").compactMap { UInt64($0) }
        guard parts.count == 2 else { throw CheckpointError.malformed(path: path, offset: 8, reason: "unreadable stream '\(stream)' for \(what)") }
        guard parts[0] == seed else {
            throw CheckpointError.incompatible(path: path, reason: "\(what) was seeded with \(parts[0]) in the checkpointed run, here with \(seed)")
        }
        return parts[1]
    }
}
