import OnsagerCore

/// A learning rate as a function of the step (or epoch) count t = 0, 1, 2, …
public protocol LearningRateSchedule: Sendable {
    /// The learning rate at step (or epoch) t.
    func rate(at t: Int) -> Double
}
