import OnsagerCore

/// Linear warm-up from startFactor·lr to lr over `steps`, then `after` (`LinearLR`, chained).
public struct LinearWarmup: LearningRateSchedule {
    public var after: any LearningRateSchedule
    public var steps: Int, startFactor: Double
    public init(steps: Int, startFactor: Double = 1.0 / 3, then after: any LearningRateSchedule) {
        self.steps = steps; self.startFactor = startFactor; self.after = after
    }
    public func rate(at t: Int) -> Double {
        let f = t >= steps ? 1 : startFactor + (1 - startFactor) * Double(t) / Double(steps)
        return after.rate(at: t) * f
    }
}
