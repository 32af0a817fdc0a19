import OnsagerCore
import Foundation

/// lr·γ^⌊t / stepSize⌋ (`torch.optim.lr_scheduler.StepLR`).
public struct StepDecay: LearningRateSchedule {
    /// The rate at t = 0.
    public var initial: Double
    /// Steps between two reductions.
    public var stepSize: Int
    /// γ, the factor of each reduction.
    public var gamma: Double
    /// lr·γ^⌊t / stepSize⌋.
    public init(initial: Double, stepSize: Int, gamma: Double = 0.1) { self.initial = initial; self.stepSize = stepSize; self.gamma = gamma }
    /// The rate at step t.
    public func rate(at t: Int) -> Double { initial * Foundation.pow(gamma, Double(t / stepSize)) }
}
