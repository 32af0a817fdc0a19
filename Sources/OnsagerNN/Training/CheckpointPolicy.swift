import Foundation

/// Where and how often `TrainingLoop` writes a resumable checkpoint: after every `every`-th
/// epoch, after the last one, and when early stopping ends training.
///
/// The directory gets `training.safetensors` (model, optimizer state, step count, history and
/// random-stream positions, in one atomically written file: what `resume(from:)` reads) and
/// `model.safetensors` (the model alone, in PyTorch's names and layouts).
public struct CheckpointPolicy: Sendable {
    /// The directory written to (created if absent).
    public var directory: URL
    /// Epochs between checkpoints.
    public var every: Int
    /// Checkpoints in `directory` after every `every` epochs.
    public init(directory: URL, every: Int = 1) {
        precondition(every > 0, "CheckpointPolicy: every must be positive, got \(every)")
        self.directory = directory
        self.every = every
    }
}
