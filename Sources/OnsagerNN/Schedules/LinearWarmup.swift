import OnsagerCore

/// Linear warm-up from startFactor·lr to lr over `steps`, then `after` (`LinearLR`, chained).
public struct LinearWarmup: LearningRateSchedule {
    /// The schedule the warm-up scales (and that runs alone after it).
    public var after: any LearningRateSchedule
    /// Length of the warm-up in steps.
    public var steps: Int
    /// The factor at t = 0, rising linearly to 1 at t = steps.
    public var startFactor: Double
    /// A warm-up of `steps` steps in front of `after`.
    public init(steps: Int, startFactor: Double = 1.0 / 3, then after: any LearningRateSchedule) {
        self.steps = steps; self.startFactor = startFactor; self.after = after
    }
    /// The rate at step t.
    public func rate(at t: Int) -> Double {
        let f = t >= steps ? 1 : startFactor + (1 - startFactor) * Double(t) / Double(steps)
        return after.rate(at: t) * f
    }
}
