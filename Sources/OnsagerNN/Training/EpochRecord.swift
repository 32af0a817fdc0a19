import OnsagerCore

/// One epoch's record.
public struct EpochRecord: Sendable {
    public var epoch: Int, steps: Int, loss: Double, learningRate: Double, seconds: Double, samplesPerSecond: Double
    public var metrics: [(String, Double)]
}
