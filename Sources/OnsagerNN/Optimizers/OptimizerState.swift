import OnsagerCore

/// An optimizer's per-parameter state, keyed by parameter name: named tensors ("slots", such as
/// Adam's "exp_avg") and the number of updates so far.
public struct OptimizerState<Scalar: TensorScalar> {
    /// Each parameter's slots by slot name.
    public var slots: [String: [String: Tensor<Scalar>]] = [:]
    /// Each parameter's number of updates.
    public var steps: [String: Int] = [:]
    /// Whether the groups were checked against the parameter names (not saved).
    var groupsChecked = false

    /// Empty state (no step taken).
    public init() {}

    /// "<parameter>.<slot>" for every slot and "<parameter>.step" for every count.
    var flattened: [String: Tensor<Scalar>] {
        var out: [String: Tensor<Scalar>] = [:]
        for (p, s) in slots { for (k, v) in s { out["\(p).\(k)"] = v } }
        for (p, n) in steps { out["\(p).step"] = Tensor(Scalar(n)) }
        return out
    }

    /// The state from flattened names; a slot name is the part after the last dot.
    init(flattened: [String: Tensor<Scalar>]) {
        for (key, v) in flattened {
            guard let dot = key.lastIndex(of: ".") else { continue }
            let p = String(key[..<dot]), k = String(key[key.index(after: dot)...])
            if k == "step" { steps[p] = Int(Double(v.item)) } else { slots[p, default: [:]][k] = v }
        }
    }

    // The per-parameter loop and the slot bookkeeping live here, generic over the scalar alone and
    // specialised for Float and Double, rather than in the optimizer's protocol extension: there,
    // every dictionary and tensor type is built from the optimizer's associated type at run time
    // (metadata look-ups on each access, most of a small model's update).

    /// Updates every named parameter that has a gradient with `rule`, each with its own slots,
    /// its step count and its group's settings (the first group whose predicate accepts its name).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    mutating func update(_ parameters: inout [NamedTensor<Scalar>], groups: [ParameterGroup], learningRate: Double,
                         weightDecay: Double,
                         _ rule: (inout Tensor<Scalar>, Tensor<Scalar>, inout [String: Tensor<Scalar>], StepSettings) -> Void) {
        for i in parameters.indices {
            guard let grad = parameters[i].value.grad else { continue }
            let name = parameters[i].name
            let group = groups.first { $0.contains(name) }
            let t = (steps[name] ?? 0) + 1
            steps[name] = t
            var held = slots.removeValue(forKey: name) ?? [:]      // held once: updated in place
            let settings = StepSettings(learningRate: learningRate * (group?.learningRateFactor ?? 1),
                                        weightDecay: group?.weightDecay ?? weightDecay, step: t)
            rule(&parameters[i].value, grad.detached(), &held, settings)
            slots[name] = held
        }
    }

    /// Applies `rule` to `parameter` in one pass, the rule's state buffer i being the slot
    /// `names[i]` (held once while it runs, so it is updated in place; an absent slot starts
    /// filled with `initial`).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    static func apply(_ rule: UpdateRule, to parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>,
                      slots: inout [String: Tensor<Scalar>], names: [String], initial: Scalar) {
        var buffers: [Tensor<Scalar>?] = []
        buffers.reserveCapacity(names.count)
        for (used, name) in zip(rule.stateSlots, names) {
            buffers.append(used ? slots.removeValue(forKey: name) ?? Tensor(repeating: initial, shape: parameter.shape) : nil)
        }
        parameter.applyUpdate(rule, gradient: gradient, state: &buffers)
        for (name, buffer) in zip(names, buffers) where buffer != nil { slots[name] = buffer }
    }
}
