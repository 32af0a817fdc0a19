import COnsagerTape

// How ops attach themselves to the tape. Every op computes its value first, then calls one of
// the `recorded` helpers, which adds a node only when grad mode is on and an input requires
// gradients, so ops on plain tensors pay one branch. The backward closure is built only then.
extension Tensor {
    /// True when an op on `x` must be recorded.
    @inline(__always) static func tracks(_ x: Tensor) -> Bool { x.node != nil && GradMode.isEnabled }
    /// True when an op on `a` and `b` must be recorded.
    @inline(__always) static func tracks(_ a: Tensor, _ b: Tensor) -> Bool {
        (a.node != nil || b.node != nil) && GradMode.isEnabled
    }

    /// Returns `result` with a tape node for `op` over `inputs`, whose rule is `backward`.
    @inline(__always)
    func attaching(_ op: StaticString, _ inputs: [Tensor], _ backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        recorded(by: TapeNode(op: op, shape: shape, inputs: inputs.map { $0.node }, backward: backward))
    }
    /// `attaching` for an op of one input: no array of inputs, and a rule returning its one gradient.
    @inline(__always)
    func attaching(_ op: StaticString, _ input: Tensor, _ backward: @escaping (Tensor) -> Tensor?) -> Tensor {
        recorded(by: TapeNode(op: op, shape: shape, input: input.node, backward: backward))
    }
    /// `attaching` for an op of two inputs: a rule returning a pair of gradients.
    @inline(__always)
    func attaching(_ op: StaticString, _ a: Tensor, _ b: Tensor, _ backward: @escaping (Tensor) -> (Tensor?, Tensor?)) -> Tensor {
        recorded(by: TapeNode(op: op, shape: shape, inputs: a.node, b.node, backward: backward))
    }
    /// These values, with `node` as their place on the tape.
    @inline(__always)
    private func recorded(by node: TapeNode<Scalar>) -> Tensor {
        var out = self
        out.node = node
        return out
    }

    /// Checks the output of `op` for NaN/Inf when anomaly detection is on.
    @inline(__always) func checked(_ op: StaticString) -> Tensor {
        if onsager_anomaly_enabled() != 0 { AnomalyDetection.inspect(self, op: op) }
        return self
    }
}

extension Tensor {
    /// Defines a differentiable op from its value and a backward rule (like a
    /// `torch.autograd.Function`): `backward` maps the output gradient to one gradient per input
    /// (nil for none), written with tensor ops so that it can itself be differentiated.
    /// Check the rule with `gradcheck`.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func custom(_ name: StaticString, inputs: [Tensor], value: Tensor,
                              backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        let v = value.detached()
        guard inputs.contains(where: { $0.node != nil }) && GradMode.isEnabled else { return v.checked(name) }
        return v.attaching(name, inputs, backward).checked(name)
    }
}
