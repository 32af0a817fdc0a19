import COnsagerKernels
import Foundation

/// One step of an optimizer's elementwise update rule, with its hyperparameters in force.
///
/// `Tensor.applyUpdate(_:gradient:state:)` applies it in one pass over the parameter, its
/// gradient and its state buffers (the C kernel `onsager_update_*`, formulas in
/// templates/update_template.h), where a chain of whole-tensor operations would read and write
/// each buffer several times and allocate temporaries: Adam makes 7 buffer passes instead of 24.
/// Package access: the optimizers of OnsagerNN build these.
package struct UpdateRule {
    var raw = onsager_update_rule()

    /// The state buffers the rule reads and writes, by position (s0, s1, s2 of the kernel).
    package let stateSlots: [Bool]

    private init(kind: onsager_update_kind, learningRate: Double, weightDecay: Double, slots: [Bool]) {
        raw.kind = Int32(kind.rawValue)
        raw.lr = learningRate
        raw.weight_decay = weightDecay
        stateSlots = slots
    }

    /// SGD (PyTorch's rule): b ← μ·b + (1 − dampening)·g, or b ← g on the first step; θ ← θ − lr·(nesterov ? g + μ·b : b).
    /// State: the momentum buffer when `momentum` ≠ 0.
    package static func sgd(learningRate: Double, weightDecay: Double, momentum: Double, dampening: Double,
                            nesterov: Bool, firstStep: Bool) -> UpdateRule {
        var r = UpdateRule(kind: ONSAGER_UPDATE_SGD, learningRate: learningRate, weightDecay: weightDecay, slots: [momentum != 0])
        r.raw.momentum = momentum
        r.raw.dampening = dampening
        r.raw.nesterov = nesterov ? 1 : 0
        r.raw.first_step = firstStep ? 1 : 0
        return r
    }

    /// Adam or, with `decoupledWeightDecay`, AdamW (PyTorch's rule) at update number `step` (1 on the first).
    /// State: the first and second moments.
    package static func adam(learningRate: Double, weightDecay: Double, decoupledWeightDecay: Bool, beta1: Double,
                             beta2: Double, epsilon: Double, step: Int) -> UpdateRule {
        var r = UpdateRule(kind: ONSAGER_UPDATE_ADAM, learningRate: learningRate, weightDecay: weightDecay, slots: [true, true])
        r.raw.decoupled_weight_decay = decoupledWeightDecay ? 1 : 0
        r.raw.beta1 = beta1
        r.raw.beta2 = beta2
        r.raw.eps = epsilon
        r.raw.bias_correction1 = 1 - pow(beta1, Double(step))
        r.raw.bias_correction2 = 1 - pow(beta2, Double(step))
        return r
    }

    /// RMSProp (PyTorch's rule). State: the square average, the gradient average when
    /// `centered`, the momentum buffer when `momentum` > 0.
    package static func rmsprop(learningRate: Double, weightDecay: Double, alpha: Double, epsilon: Double,
                                momentum: Double, centered: Bool) -> UpdateRule {
        var r = UpdateRule(kind: ONSAGER_UPDATE_RMSPROP, learningRate: learningRate, weightDecay: weightDecay,
                           slots: [true, centered, momentum > 0])
        r.raw.alpha = alpha
        r.raw.eps = epsilon
        r.raw.momentum = momentum
        r.raw.centered = centered ? 1 : 0
        return r
    }

    /// AdaGrad (PyTorch's rule) with this step's decayed learning rate. State: the sum of squared gradients.
    package static func adagrad(learningRate: Double, weightDecay: Double, epsilon: Double) -> UpdateRule {
        var r = UpdateRule(kind: ONSAGER_UPDATE_ADAGRAD, learningRate: learningRate, weightDecay: weightDecay, slots: [true])
        r.raw.eps = epsilon
        return r
    }
}

extension Tensor {
    /// Applies `rule` to this tensor in place with `gradient` (same shape) and the rule's state
    /// buffers, `state[i]` for each position the rule uses (each of this tensor's shape; nil
    /// where it uses none). Like the other in-place updates it writes into this tensor's and the
    /// buffers' own storage (copying first if shared), keeps the tape node and is not recorded.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    package mutating func applyUpdate(_ rule: UpdateRule, gradient: Tensor, state: inout [Tensor?]) {
        check(gradient.shape == shape, "update: the gradient's shape \(gradient.shape) does not match the parameter's \(shape)")
        check(state.count == rule.stateSlots.count, "update: the rule keeps \(rule.stateSlots.count) state buffers, got \(state.count)")
        for (i, used) in rule.stateSlots.enumerated() {
            guard used else { continue }
            check(state[i]?.shape == shape, "update: state buffer \(i) has shape \(state[i].map { "\($0.shape)" } ?? "nil"), the parameter \(shape)")
            state[i]!.makeUniqueContiguous()
        }
        makeUniqueContiguous()
        let g = gradient.contiguous()
        func base(_ i: Int) -> UnsafeMutablePointer<Scalar>? { i < state.count && rule.stateSlots[i] ? state[i]!.basePointer : nil }
        var raw = rule.raw
        withExtendedLifetime((g, state)) {
            Scalar.kernelUpdate(&raw, scalarCount, basePointer, g.basePointer, base(0), base(1), base(2))
        }
    }
}
