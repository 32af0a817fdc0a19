import OnsagerCore

extension Module {
    /// Applies one optimizer step to the trainable parameters, in place, each under its name
    /// (state is keyed by name; frozen parameters are skipped; a shared parameter is updated
    /// once). The tree's own references are dropped for the duration, so the optimizer writes
    /// into uniquely held storage (no copy).
    public mutating func update<O: Optimizer>(with optimizer: inout O) where O.Scalar == Scalar {
        var taken: [NamedTensor<Scalar>] = []
        var slotOwner: [Int] = []                     // for each taken slot, its index in `taken`
        var index: [ObjectIdentifier: Int] = [:]
        let hole = Tensor<Scalar>.zeros([0]), holeID = hole.identity
        var walker = ModuleWalker<Scalar>()
        walker.onParameter = { name, t in
            guard t.requiresGrad else { return }
            let id = t.identity
            let k = index[id] ?? taken.count
            if k == taken.count { index[id] = k; taken.append(NamedTensor(name: name, value: t)) }
            slotOwner.append(k)
            t = hole
        }
        walker.walk(&self)
        optimizer.step(&taken)
        var next = 0
        var putBack = ModuleWalker<Scalar>()
        putBack.onParameter = { _, t in
            guard t.identity == holeID else { return }
            t = taken[slotOwner[next]].value
            next += 1
        }
        putBack.walk(&self)
    }
}
