import OnsagerCore
import Foundation

/// lr·γ^t (`ExponentialLR`).
public struct ExponentialDecay: LearningRateSchedule {
    public var initial: Double, gamma: Double
    public init(initial: Double, gamma: Double) { self.initial = initial; self.gamma = gamma }
    public func rate(at t: Int) -> Double { initial * Foundation.pow(gamma, Double(t)) }
}
