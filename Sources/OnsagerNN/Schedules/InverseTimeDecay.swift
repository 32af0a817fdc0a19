import OnsagerCore

/// lr / (1 + decay·t), the "1/t" decay.
public struct InverseTimeDecay: LearningRateSchedule {
    public var initial: Double, decay: Double
    public init(initial: Double, decay: Double) { self.initial = initial; self.decay = decay }
    public func rate(at t: Int) -> Double { initial / (1 + decay * Double(t)) }
}
