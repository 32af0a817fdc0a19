import OnsagerCore
import Foundation

/// η_min + (lr − η_min)(1 + cos(π t / T))/2 (`CosineAnnealingLR`): past t = T the rate follows
/// the cosine back up, as PyTorch's does; stop at T for a one-way schedule.
public struct CosineAnnealing: LearningRateSchedule {
    /// The rate at t = 0.
    public var initial: Double
    /// The rate at t = T.
    public var minimum: Double
    /// T, the steps from the initial rate to the minimum.
    public var period: Int
    /// A cosine schedule from `initial` down to `minimum` over `period` steps.
    public init(initial: Double, period: Int, minimum: Double = 0) { self.initial = initial; self.period = period; self.minimum = minimum }
    /// The rate at step t.
    public func rate(at t: Int) -> Double {
        minimum + (initial - minimum) * (1 + Foundation.cos(Double.pi * Double(t) / Double(period))) / 2
    }
}
