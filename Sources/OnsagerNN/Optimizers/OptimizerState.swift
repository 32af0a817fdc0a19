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
}
