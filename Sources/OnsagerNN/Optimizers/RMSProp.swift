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
    private var square: [Tensor<Scalar>?] = [], average: [Tensor<Scalar>?] = [], buffer: [Tensor<Scalar>?] = []

    /// RMSProp with PyTorch's defaults.
    public init(learningRate: Double = 0.01, alpha: Double = 0.99, epsilon: Double = 1e-8, weightDecay: Double = 0,
                momentum: Double = 0, centered: Bool = false) {
        check(learningRate >= 0 && (0..<1).contains(alpha), "RMSProp: needs learning rate ≥ 0 and alpha in [0, 1)")
        self.learningRate = learningRate; self.alpha = alpha; self.epsilon = epsilon
        self.weightDecay = weightDecay; self.momentum = momentum; self.centered = centered
    }

    /// The state by name: "square_avg.i", "grad_avg.i" and "momentum_buffer.i" per parameter position i (PyTorch's names); assigning restores it.
    public var stateTensors: [String: Tensor<Scalar>] {
        get { OptimizerState.export("square_avg", square).merging(OptimizerState.export("grad_avg", average)) { a, _ in a }
                .merging(OptimizerState.export("momentum_buffer", buffer)) { a, _ in a } }
        set {
            square = OptimizerState.restore("square_avg", from: newValue)
            average = OptimizerState.padded(OptimizerState.restore("grad_avg", from: newValue), to: square.count, with: nil)
            buffer = OptimizerState.padded(OptimizerState.restore("momentum_buffer", from: newValue), to: square.count, with: nil)
        }
    }

    /// One RMSProp update of every parameter that has a gradient (others are left alone).
    public mutating func step(_ parameters: inout [Tensor<Scalar>]) {
        square = OptimizerState.padded(square, to: parameters.count, with: nil)
        average = OptimizerState.padded(average, to: parameters.count, with: nil)
        buffer = OptimizerState.padded(buffer, to: parameters.count, with: nil)
        withoutGrad {
            for i in parameters.indices {
                guard let grad = parameters[i].grad else { continue }
                var g = grad.detached()
                if weightDecay != 0 { g = g + parameters[i].detached() * Scalar(weightDecay) }
                let v = (square[i] ?? Tensor.zeros(g.shape)) * Scalar(alpha) + g * g * Scalar(1 - alpha)
                square[i] = v
                var denom: Tensor<Scalar>
                if centered {
                    let a = (average[i] ?? Tensor.zeros(g.shape)) * Scalar(alpha) + g * Scalar(1 - alpha)
                    average[i] = a
                    denom = (v - a * a).sqrt() + Scalar(epsilon)
                } else {
                    denom = v.sqrt() + Scalar(epsilon)
                }
                if momentum > 0 {
                    let b = (buffer[i] ?? Tensor.zeros(g.shape)) * Scalar(momentum) + g / denom
                    buffer[i] = b
                    parameters[i].addInPlace(b, alpha: Scalar(-learningRate))
                } else {
                    parameters[i].addInPlace(g / denom, alpha: Scalar(-learningRate))
                }
            }
        }
    }
}
