import OnsagerCore

extension Module {
    /// Applies one optimizer step to the trainable parameters, in place, each under its name
    /// (state is keyed by name; frozen parameters are skipped; a shared parameter is updated
    /// once). The tree's own references are dropped for the duration, so the optimizer writes
    /// into uniquely held storage (no copy).
    public mutating func update<O: Optimizer>(with optimizer: inout O) where O.Scalar == Scalar {
        var loan = ParameterLoan<Scalar>()
        var walker = ModuleWalker<Scalar>()
        walker.onParameter = { name, t in loan.take(name, &t) }
        walker.walk(&self)
        optimizer.step(&loan.taken)
        var putBack = ModuleWalker<Scalar>()
        putBack.onParameter = { _, t in loan.giveBack(&t) }
        putBack.walk(&self)
    }
}

/// The trainable parameters taken out of a module tree for an optimizer step, and where each
/// goes back. Its own type, generic over the scalar alone and specialised, because the same code
/// in `update(with:)` builds its arrays and dictionaries from the module's associated type at run
/// time (a metadata look-up at each access; a third of a small model's update, measured).
struct ParameterLoan<Scalar: TensorScalar> {
    /// Each trainable parameter once, under the first name it was found by.
    var taken: [NamedTensor<Scalar>] = []
    /// For each place a trainable parameter was taken from, in walk order, its index in `taken`.
    private var owner: [Int] = []
    /// Each taken parameter's index in `taken`, by identity (a shared one is taken once).
    private var index: [ObjectIdentifier: Int] = [:]
    /// The next place to give back to, counting in `owner`.
    private var next = 0
    /// What the tree holds meanwhile: an empty tensor, recognised by identity on the way back.
    private let hole = Tensor<Scalar>.zeros([0])

    /// Nothing taken yet.
    init() {}

    /// Takes a trainable parameter (a shared one once), leaving the hole in its place.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    mutating func take(_ name: String, _ t: inout Tensor<Scalar>) {
        guard t.requiresGrad else { return }
        let id = t.identity
        let k = index[id] ?? taken.count
        if k == taken.count { index[id] = k; taken.append(NamedTensor(name: name, value: t)) }
        owner.append(k)
        t = hole
    }

    /// Puts the updated parameter back where a hole was left, in the order they were taken.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    mutating func giveBack(_ t: inout Tensor<Scalar>) {
        guard t.identity == hole.identity else { return }
        t = taken[owner[next]].value
        next += 1
    }
}
