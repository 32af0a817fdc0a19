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
    private var m: [Tensor<Scalar>?] = []
    private var v: [Tensor<Scalar>?] = []
    private var t: [Int] = []

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

    /// The state by name: "exp_avg.i", "exp_avg_sq.i" and "step.i" per parameter position i (PyTorch's names); assigning restores it.
    public var stateTensors: [String: Tensor<Scalar>] {
        get { OptimizerState.export("exp_avg", m).merging(OptimizerState.export("exp_avg_sq", v)) { a, _ in a }
                .merging(OptimizerState.counts("step", t)) { a, _ in a } }
        set {
            m = OptimizerState.restore("exp_avg", from: newValue)
            v = OptimizerState.restore("exp_avg_sq", from: newValue)
            t = OptimizerState.restoreCounts("step", from: newValue)
            v = OptimizerState.padded(v, to: m.count, with: nil)
            t = OptimizerState.padded(t, to: m.count, with: 0)
        }
    }

    /// One Adam update of every parameter that has a gradient (others are left alone).
    public mutating func step(_ parameters: inout [Tensor<Scalar>]) {
        // Extend (never reset) per-position state, so restored state survives.
        m = OptimizerState.padded(m, to: parameters.count, with: nil)
        v = OptimizerState.padded(v, to: parameters.count, with: nil)
        t = OptimizerState.padded(t, to: parameters.count, with: 0)
        withoutGrad {
            for i in parameters.indices {
                guard let grad = parameters[i].grad else { continue }
                var g = grad.detached()
                if weightDecay != 0 {
                    if decoupledWeightDecay { parameters[i].scaleInPlace(by: Scalar(1 - learningRate * weightDecay)) }
                    else { g = g + parameters[i].detached() * Scalar(weightDecay) }
                }
                t[i] += 1
                var mi = m[i] ?? Tensor.zeros(g.shape), vi = v[i] ?? Tensor.zeros(g.shape)
                mi.scaleInPlace(by: Scalar(beta1))
                mi.addInPlace(g, alpha: Scalar(1 - beta1))
                vi.scaleInPlace(by: Scalar(beta2))
                vi.addInPlace(g * g, alpha: Scalar(1 - beta2))
                m[i] = mi
                v[i] = vi
                let c1 = 1 - Foundation.pow(beta1, Double(t[i])), c2 = 1 - Foundation.pow(beta2, Double(t[i]))
                let denom = (vi / Scalar(c2)).sqrt() + Scalar(epsilon)
                parameters[i].addInPlace(mi / denom, alpha: Scalar(-learningRate / c1))
            }
        }
    }
}
