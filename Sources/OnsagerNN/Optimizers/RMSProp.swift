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

    /// One RMSProp update of one parameter.
    public func update(_ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, slots: inout [String: Tensor<Scalar>],
                       settings: StepSettings) {
        var g = gradient
        if settings.weightDecay != 0 { g = g + parameter.detached() * Scalar(settings.weightDecay) }
        let v = (slots["square_avg"] ?? Tensor.zeros(g.shape)) * Scalar(alpha) + g * g * Scalar(1 - alpha)
        slots["square_avg"] = v
        var denom: Tensor<Scalar>
        if centered {
            let a = (slots["grad_avg"] ?? Tensor.zeros(g.shape)) * Scalar(alpha) + g * Scalar(1 - alpha)
            slots["grad_avg"] = a
            denom = (v - a * a).sqrt() + Scalar(epsilon)
        } else {
            denom = v.sqrt() + Scalar(epsilon)
        }
        if momentum > 0 {
            let b = (slots["momentum_buffer"] ?? Tensor.zeros(g.shape)) * Scalar(momentum) + g / denom
            slots["momentum_buffer"] = b
            parameter.addInPlace(b, alpha: Scalar(-settings.learningRate))
        } else {
            parameter.addInPlace(g / denom, alpha: Scalar(-settings.learningRate))
        }
    }
}
