import OnsagerCore
import Foundation

/// A learning rate as a function of the step (or epoch) count t = 0, 1, 2, …
public protocol LearningRateSchedule: Sendable {
    func rate(at t: Int) -> Double
}

/// lr·γ^⌊t / stepSize⌋ (`torch.optim.lr_scheduler.StepLR`).
public struct StepDecay: LearningRateSchedule {
    public var initial: Double, stepSize: Int, gamma: Double
    public init(initial: Double, stepSize: Int, gamma: Double = 0.1) { self.initial = initial; self.stepSize = stepSize; self.gamma = gamma }
    public func rate(at t: Int) -> Double { initial * Foundation.pow(gamma, Double(t / stepSize)) }
}

/// lr·γ^t (`ExponentialLR`).
public struct ExponentialDecay: LearningRateSchedule {
    public var initial: Double, gamma: Double
    public init(initial: Double, gamma: Double) { self.initial = initial; self.gamma = gamma }
    public func rate(at t: Int) -> Double { initial * Foundation.pow(gamma, Double(t)) }
}

/// lr / (1 + decay·t), the "1/t" decay.
public struct InverseTimeDecay: LearningRateSchedule {
    public var initial: Double, decay: Double
    public init(initial: Double, decay: Double) { self.initial = initial; self.decay = decay }
    public func rate(at t: Int) -> Double { initial / (1 + decay * Double(t)) }
}

/// η_min + (lr − η_min)(1 + cos(π t / T))/2 (`CosineAnnealingLR`): past t = T the rate follows
/// the cosine back up, as PyTorch's does; stop at T for a one-way schedule.
public struct CosineAnnealing: LearningRateSchedule {
    public var initial: Double, minimum: Double, period: Int
    public init(initial: Double, period: Int, minimum: Double = 0) { self.initial = initial; self.period = period; self.minimum = minimum }
    public func rate(at t: Int) -> Double {
        minimum + (initial - minimum) * (1 + Foundation.cos(Double.pi * Double(t) / Double(period))) / 2
    }
}

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
