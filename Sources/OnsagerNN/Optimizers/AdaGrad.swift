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
    /// Parameter groups with their own learning-rate factor or weight decay.
    public var groups: [ParameterGroup] = []
    /// The squared-gradient sums ("sum"), by parameter name.
    public var state = OptimizerState<Scalar>()

    /// AdaGrad with PyTorch's defaults.
    public init(learningRate: Double = 0.01, learningRateDecay: Double = 0, weightDecay: Double = 0,
                initialAccumulator: Double = 0, epsilon: Double = 1e-10) {
        check(learningRate >= 0, "AdaGrad: learning rate must be non-negative")
        self.learningRate = learningRate; self.learningRateDecay = learningRateDecay; self.weightDecay = weightDecay
        self.initialAccumulator = initialAccumulator; self.epsilon = epsilon
    }

    /// One AdaGrad update of one parameter, in one pass over it, its gradient and its sum.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func update(_ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, slots: inout [String: Tensor<Scalar>],
                       settings: StepSettings) {
        let lr = settings.learningRate / (1 + Double(settings.step - 1) * learningRateDecay)
        let rule = UpdateRule.adagrad(learningRate: lr, weightDecay: settings.weightDecay, epsilon: epsilon)
        apply(rule, to: &parameter, gradient: gradient, slots: &slots, names: ["sum"], initial: Scalar(initialAccumulator))
    }
}
