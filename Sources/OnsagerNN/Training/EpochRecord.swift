import OnsagerCore

/// One epoch's record.
public struct EpochRecord: Sendable {
    /// The epoch's number, from 1.
    public var epoch: Int
    /// Optimizer steps taken since the loop started, at the end of this epoch.
    public var steps: Int
    /// Mean training loss over the epoch's minibatches.
    public var loss: Double
    /// The learning rate at the end of the epoch.
    public var learningRate: Double
    /// Training time of the epoch (evaluation excluded).
    public var seconds: Double
    /// Training rows per second.
    public var samplesPerSecond: Double
    /// The named metrics `evaluate` returned after the epoch.
    public var metrics: [(String, Double)]
}
