import OnsagerCore
import Foundation

/// Adam (Kingma & Ba) with PyTorch's update rule (`torch.optim.Adam`, and `AdamW` when
/// `decoupledWeightDecay` is true):
///
///     g ← ∇ (+ weightDecay·θ unless decoupled)          θ ← θ·(1 − lr·weightDecay) if decoupled
///     m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²
///     θ ← θ − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
public struct Adam<Scalar: TensorScalar>: Optimizer {
    /// The step size lr.
    public var learningRate: Double
    /// Decay rate β1 of the first-moment average.
    public var beta1: Double
    /// Decay rate β2 of the second-moment average.
    public var beta2: Double
    /// ε in the denominator.
    public var epsilon: Double
    /// Weight decay λ (an L2 term, or decoupled for AdamW).
    public var weightDecay: Double
    /// True for AdamW: decay the weights directly rather than adding λθ to the gradient.
    public var decoupledWeightDecay: Bool
    /// Parameter groups with their own learning-rate factor or weight decay.
    public var groups: [ParameterGroup] = []
    /// The moment averages ("exp_avg", "exp_avg_sq"), by parameter name.
    public var state = OptimizerState<Scalar>()

    /// Adam with PyTorch's defaults.
    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                weightDecay: Double = 0, decoupledWeightDecay: Bool = false) {
        check(learningRate >= 0, "Adam: learning rate must be non-negative, got \(learningRate)")
        check((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam: betas must lie in [0, 1), got \(beta1), \(beta2)")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// One Adam update of one parameter, in one pass over it, its gradient and its moments.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func update(_ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, slots: inout [String: Tensor<Scalar>],
                       settings: StepSettings) {
        let rule = UpdateRule.adam(learningRate: settings.learningRate, weightDecay: settings.weightDecay,
                                   decoupledWeightDecay: decoupledWeightDecay, beta1: beta1, beta2: beta2, epsilon: epsilon,
                                   step: settings.step)
        apply(rule, to: &parameter, gradient: gradient, slots: &slots, names: ["exp_avg", "exp_avg_sq"])
    }
}
