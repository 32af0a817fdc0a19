import OnsagerCore
/// RMSProp with PyTorch's rule (`torch.optim.RMSprop`): v ← αv + (1−α)g²; with `centered`,
/// the denominator is √(v − ḡ²) + ε; with momentum, b ← μb + g/denominator and θ ← θ − lr·b.
public struct RMSProp<Scalar: TensorScalar>: Optimizer {
    public var learningRate: Double
    public var alpha: Double, epsilon: Double, weightDecay: Double, momentum: Double
    public var centered: Bool
    private var square: [Tensor<Scalar>?] = [], average: [Tensor<Scalar>?] = [], buffer: [Tensor<Scalar>?] = []

    public init(learningRate: Double = 0.01, alpha: Double = 0.99, epsilon: Double = 1e-8, weightDecay: Double = 0,
                momentum: Double = 0, centered: Bool = false) {
        check(learningRate >= 0 && (0..<1).contains(alpha), "RMSProp: needs learning rate ≥ 0 and alpha in [0, 1)")
        self.learningRate = learningRate; self.alpha = alpha; self.epsilon = epsilon
        self.weightDecay = weightDecay; self.momentum = momentum; self.centered = centered
    }

    public var stateTensors: [String: Tensor<Scalar>] {
        get { OptimizerState.export("square_avg", square).merging(OptimizerState.export("grad_avg", average)) { a, _ in a }
                .merging(OptimizerState.export("momentum_buffer", buffer)) { a, _ in a } }
        set {
            square = OptimizerState.restore("square_avg", from: newValue)
            average = OptimizerState.padded(OptimizerState.restore("grad_avg", from: newValue), to: square.count, with: nil)
            buffer = OptimizerState.padded(OptimizerState.restore("momentum_buffer", from: newValue), to: square.count, with: nil)
        }
    }

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

/// AdaGrad with PyTorch's rule (`torch.optim.Adagrad`): s ← s + g², θ ← θ − lr_t·g/(√s + ε),
/// lr_t = lr / (1 + (t − 1)·learningRateDecay).
public struct AdaGrad<Scalar: TensorScalar>: Optimizer {
    public var learningRate: Double
    public var learningRateDecay: Double, weightDecay: Double, epsilon: Double, initialAccumulator: Double
    private var sums: [Tensor<Scalar>?] = []
    private var steps: [Int] = []

    public init(learningRate: Double = 0.01, learningRateDecay: Double = 0, weightDecay: Double = 0,
                initialAccumulator: Double = 0, epsilon: Double = 1e-10) {
        check(learningRate >= 0, "AdaGrad: learning rate must be non-negative")
        self.learningRate = learningRate; self.learningRateDecay = learningRateDecay; self.weightDecay = weightDecay
        self.initialAccumulator = initialAccumulator; self.epsilon = epsilon
    }

    public var stateTensors: [String: Tensor<Scalar>] {
        get { OptimizerState.export("sum", sums).merging(OptimizerState.counts("step", steps)) { a, _ in a } }
        set {
            sums = OptimizerState.restore("sum", from: newValue)
            steps = OptimizerState.restoreCounts("step", from: newValue)
            steps = OptimizerState.padded(steps, to: sums.count, with: 0)
        }
    }

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

/// Scales the gradients of `parameters` so their joint L2 norm is at most `maxNorm`
/// (`torch.nn.utils.clip_grad_norm_`: factor maxNorm/(norm + 1e-6) when below 1). Returns the
/// norm before clipping.
@discardableResult
public func clipGradientNorm<S: TensorScalar>(_ parameters: [Tensor<S>], maxNorm: Double) -> Double {
    let grads = parameters.compactMap { $0.grad }
    let total = withoutGrad { grads.map { Double(($0 * $0).sum().item) }.reduce(0, +) }.squareRoot()
    let coef = maxNorm / (total + 1e-6)
    if coef < 1 {
        for p in parameters { if let g = p.grad { p.setGrad(withoutGrad { g * S(coef) }) } }
    }
    return total
}
