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
    private var buffers: [Tensor<Scalar>?] = []

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

    /// The state by name: "momentum_buffer.i" per parameter position i (PyTorch's names); assigning restores it.
    public var stateTensors: [String: Tensor<Scalar>] {
        get { OptimizerState.export("momentum_buffer", buffers) }
        set { buffers = OptimizerState.restore("momentum_buffer", from: newValue) }
    }

    /// One SGD update of every parameter that has a gradient (others are left alone).
    public mutating func step(_ parameters: inout [Tensor<Scalar>]) {
        buffers = OptimizerState.padded(buffers, to: parameters.count, with: nil)
        withoutGrad {
            for i in parameters.indices {
                guard let grad = parameters[i].grad else { continue }
                var g = grad.detached()
                if weightDecay != 0 { g = g + parameters[i].detached() * Scalar(weightDecay) }
                if momentum != 0 {
                    if var b = buffers[i] {
                        b.scaleInPlace(by: Scalar(momentum))
                        b.addInPlace(g, alpha: Scalar(1 - dampening))
                        buffers[i] = b
                    } else {
                        buffers[i] = g.contiguous().materialized()
                    }
                    g = nesterov ? g + buffers[i]! * Scalar(momentum) : buffers[i]!
                }
                parameters[i].addInPlace(g, alpha: Scalar(-learningRate))
            }
        }
    }
}
