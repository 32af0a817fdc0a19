import OnsagerCore

/// AdaGrad with PyTorch's rule (`torch.optim.Adagrad`): s ← s + g², θ ← θ − lr_t·g/(√s + ε),
/// lr_t = lr / (1 + (t − 1)·learningRateDecay).
public struct AdaGrad<Scalar: TensorScalar>: Optimizer {
    /// The base step size lr.
    public var learningRate: Double
    /// The decay of the step size per step.
    public var learningRateDecay: Double
    /// L2 penalty added to the gradient (λθ).
    public var weightDecay: Double
    /// ε in the denominator.
    public var epsilon: Double
    /// The starting value of the squared-gradient sum.
    public var initialAccumulator: Double
    private var sums: [Tensor<Scalar>?] = []
    private var steps: [Int] = []

    /// AdaGrad with PyTorch's defaults.
    public init(learningRate: Double = 0.01, learningRateDecay: Double = 0, weightDecay: Double = 0,
                initialAccumulator: Double = 0, epsilon: Double = 1e-10) {
        check(learningRate >= 0, "AdaGrad: learning rate must be non-negative")
        self.learningRate = learningRate; self.learningRateDecay = learningRateDecay; self.weightDecay = weightDecay
        self.initialAccumulator = initialAccumulator; self.epsilon = epsilon
    }

    /// The state by name: "sum.i" and "step.i" per parameter position i (PyTorch's names); assigning restores it.
    public var stateTensors: [String: Tensor<Scalar>] {
        get { OptimizerState.export("sum", sums).merging(OptimizerState.counts("step", steps)) { a, _ in a } }
        set {
            sums = OptimizerState.restore("sum", from: newValue)
            steps = OptimizerState.restoreCounts("step", from: newValue)
            steps = OptimizerState.padded(steps, to: sums.count, with: 0)
        }
    }

    /// One AdaGrad update of every parameter that has a gradient (others are left alone).
    public mutating func step(_ parameters: inout [Tensor<Scalar>]) {
        sums = OptimizerState.padded(sums, to: parameters.count, with: nil)
        steps = OptimizerState.padded(steps, to: parameters.count, with: 0)
        withoutGrad {
            for i in parameters.indices {
                guard let grad = parameters[i].grad else { continue }
                var g = grad.detached()
                if weightDecay != 0 { g = g + parameters[i].detached() * Scalar(weightDecay) }
                steps[i] += 1
                let lr = learningRate / (1 + Double(steps[i] - 1) * learningRateDecay)
                let s = (sums[i] ?? Tensor(repeating: Scalar(initialAccumulator), shape: g.shape)) + g * g
                sums[i] = s
                parameters[i].addInPlace(g / (s.sqrt() + Scalar(epsilon)), alpha: Scalar(-lr))
            }
        }
    }
}
