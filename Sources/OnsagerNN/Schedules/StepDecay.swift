import OnsagerCore
import Foundation

/// lr·γ^⌊t / stepSize⌋ (`torch.optim.lr_scheduler.StepLR`).
public struct StepDecay: LearningRateSchedule {
    public var initial: Double, stepSize: Int, gamma: Double
    public init(initial: Double, stepSize: Int, gamma: Double = 0.1) { self.initial = initial; self.stepSize = stepSize; self.gamma = gamma }
    public func rate(at t: Int) -> Double { initial * Foundation.pow(gamma, Double(t / stepSize)) }
}
