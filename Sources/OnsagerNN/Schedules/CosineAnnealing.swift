import OnsagerCore
import Foundation

/// η_min + (lr − η_min)(1 + cos(π t / T))/2 (`CosineAnnealingLR`): past t = T the rate follows
/// the cosine back up, as PyTorch's does; stop at T for a one-way schedule.
public struct CosineAnnealing: LearningRateSchedule {
    public var initial: Double, minimum: Double, period: Int
    public init(initial: Double, period: Int, minimum: Double = 0) { self.initial = initial; self.period = period; self.minimum = minimum }
    public func rate(at t: Int) -> Double {
        minimum + (initial - minimum) * (1 + Foundation.cos(Double.pi * Double(t) / Double(period))) / 2
    }
}
