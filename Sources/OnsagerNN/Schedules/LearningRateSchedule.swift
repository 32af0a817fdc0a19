import OnsagerCore

/// A learning rate as a function of the step (or epoch) count t = 0, 1, 2, …
public protocol LearningRateSchedule: Sendable {
    func rate(at t: Int) -> Double
}
