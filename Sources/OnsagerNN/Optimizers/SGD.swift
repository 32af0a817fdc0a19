import OnsagerCore

/// Stochastic gradient descent with momentum, Nesterov momentum, dampening and L2 weight decay,
/// with PyTorch's update rule (`torch.optim.SGD`):
///
///     g ← ∇ + weightDecay·θ
///     b ← momentum·b + (1 − dampening)·g      (b ← g on the first step)
///     g ← nesterov ? g + momentum·b : b
///     θ ← θ − lr·g
public struct SGD<Scalar: TensorScalar>: Optimizer {
    /// The step size lr.
    public var learningRate: Double
    /// Momentum μ (0: plain SGD).
    public var momentum: Double
    /// Dampening of the gradient added to the momentum buffer.
    public var dampening: Double
    /// Nesterov momentum (needs momentum > 0 and no dampening).
    public var nesterov: Bool
    /// L2 penalty added to the gradient (λθ).
    public var weightDecay: Double
    /// Parameter groups with their own learning-rate factor or weight decay.
    public var groups: [ParameterGroup] = []
    /// The momentum buffers ("momentum_buffer"), by parameter name.
    public var state = OptimizerState<Scalar>()

    /// SGD with the given step size and options (PyTorch's defaults otherwise).
    public init(learningRate: Double, momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) {
        check(learningRate >= 0, "SGD: learning rate must be non-negative, got \(learningRate)")
        check(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum needs momentum > 0 and dampening 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    /// One SGD update of one parameter, in one pass over it, its gradient and its buffer.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func update(_ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, slots: inout [String: Tensor<Scalar>],
                       settings: StepSettings) {
        let rule = UpdateRule.sgd(learningRate: settings.learningRate, weightDecay: settings.weightDecay, momentum: momentum,
                                  dampening: dampening, nesterov: nesterov, firstStep: slots["momentum_buffer"] == nil)
        apply(rule, to: &parameter, gradient: gradient, slots: &slots, names: ["momentum_buffer"])
    }
}
