import OnsagerCore
import Foundation

/// lr·γ^t (`ExponentialLR`).
public struct ExponentialDecay: LearningRateSchedule {
    /// The rate at t = 0.
    public var initial: Double
    /// γ, the factor per step.
    public var gamma: Double
    /// lr·γ^t.
    public init(initial: Double, gamma: Double) { self.initial = initial; self.gamma = gamma }
    /// The rate at step t.
    public func rate(at t: Int) -> Double { initial * Foundation.pow(gamma, Double(t)) }
}
