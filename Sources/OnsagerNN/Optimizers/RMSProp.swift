import OnsagerCore

/// RMSProp with PyTorch's rule (`torch.optim.RMSprop`): v ← αv + (1−α)g²; with `centered`,
/// the denominator is √(v − ḡ²) + ε; with momentum, b ← μb + g/denominator and θ ← θ − lr·b.
public struct RMSProp<Scalar: TensorScalar>: Optimizer {
    /// The step size lr.
    public var learningRate: Double
    /// Decay rate α of the squared-gradient average.
    public var alpha: Double
    /// ε in the denominator.
    public var epsilon: Double
    /// L2 penalty added to the gradient (λθ).
    public var weightDecay: Double
    /// Momentum μ of the update buffer (0: none).
    public var momentum: Double
    /// Whether to subtract the squared mean gradient from the average (centred RMSProp).
    public var centered: Bool
    /// Parameter groups with their own learning-rate factor or weight decay.
    public var groups: [ParameterGroup] = []
    /// The averages ("square_avg", "grad_avg", "momentum_buffer"), by parameter name.
    public var state = OptimizerState<Scalar>()

    /// RMSProp with PyTorch's defaults.
    public init(learningRate: Double = 0.01, alpha: Double = 0.99, epsilon: Double = 1e-8, weightDecay: Double = 0,
                momentum: Double = 0, centered: Bool = false) {
        check(learningRate >= 0 && (0..<1).contains(alpha), "RMSProp: needs learning rate ≥ 0 and alpha in [0, 1)")
        self.learningRate = learningRate; self.alpha = alpha; self.epsilon = epsilon
        self.weightDecay = weightDecay; self.momentum = momentum; self.centered = centered
    }

    /// One RMSProp update of one parameter, in one pass over it, its gradient and its averages.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func update(_ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, slots: inout [String: Tensor<Scalar>],
                       settings: StepSettings) {
        let rule = UpdateRule.rmsprop(learningRate: settings.learningRate, weightDecay: settings.weightDecay, alpha: alpha,
                                      epsilon: epsilon, momentum: momentum, centered: centered)
        apply(rule, to: &parameter, gradient: gradient, slots: &slots, names: ["square_avg", "grad_avg", "momentum_buffer"])
    }
}
