import OnsagerCore

/// lr / (1 + decay·t), the "1/t" decay.
public struct InverseTimeDecay: LearningRateSchedule {
    /// The rate at t = 0.
    public var initial: Double
    /// The decay per step.
    public var decay: Double
    /// lr / (1 + decay·t).
    public init(initial: Double, decay: Double) { self.initial = initial; self.decay = decay }
    /// The rate at step t.
    public func rate(at t: Int) -> Double { initial / (1 + decay * Double(t)) }
}
