import OnsagerCore

/// One parameter or buffer of a module tree, with its dotted name.
public struct NamedTensor<Scalar: TensorScalar> {
    /// The dotted name ("encoder.0.weight").
    public var name: String
    /// The tensor.
    public var value: Tensor<Scalar>
}

extension Module {
    /// Every parameter with its dotted name, in declaration order. A parameter shared by several
    /// modules appears once, under the first name it was found by (`torch.nn.Module.named_parameters`).
    /// Frozen parameters are included (they do not require gradients).
    public var namedParameters: [NamedTensor<Scalar>] {
        var found = DistinctParameters<Scalar>()
        var walker = ModuleWalker<Scalar>()
        walker.onParameter = { name, t in found.add(name, t) }
        walker.read(self)
        return found.list
    }

    /// Every buffer with its dotted name, in declaration order.
    public var namedBuffers: [NamedTensor<Scalar>] {
        var found: [NamedTensor<Scalar>] = []
        var walker = ModuleWalker<Scalar>()
        walker.onBuffer = { name, t in found.append(NamedTensor(name: name, value: t)) }
        walker.read(self)
        return found
    }

    /// Every parameter and buffer by name, as a checkpoint stores them: a shared parameter appears
    /// under each of its names (as in PyTorch's `state_dict`).
    public var stateDict: [NamedTensor<Scalar>] {
        var found: [NamedTensor<Scalar>] = []
        var walker = ModuleWalker<Scalar>()
        walker.onParameter = { name, t in found.append(NamedTensor(name: name, value: t.detached())) }
        walker.onBuffer = { name, t in found.append(NamedTensor(name: name, value: t)) }
        walker.read(self)
        return found
    }

    // Closures, not key paths (`map(\.value)`): in generic code a key path is instantiated on
    // every call, demangling its generic arguments (half of a small model's walk, measured).

    /// The parameters (each shared one once), in declaration order.
    public var parameters: [Tensor<Scalar>] { namedParameters.map { $0.value } }

    /// The parameters that are not frozen (they require gradients): what optimizers update.
    public var trainableParameters: [Tensor<Scalar>] { parameters.filter { $0.requiresGrad } }

    /// The number of scalars in all parameters (each shared parameter counted once).
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.scalarCount } }

    /// The number of scalars in parameters that are not frozen.
    public var trainableParameterCount: Int { trainableParameters.reduce(0) { $0 + $1.scalarCount } }

    /// Clears every parameter's gradient.
    public func zeroGradients() {
        var walker = ModuleWalker<Scalar>()
        walker.onParameter = { _, t in t.zeroGrad() }   // a shared parameter twice: harmless, and no list to build
        walker.read(self)
    }

    /// Replaces every parameter by `transform(name, value)`, called once per parameter: a shared
    /// parameter is transformed once and the result is placed everywhere it is held, so it stays
    /// shared. If `transform` throws, the module is left unchanged.
    public mutating func mapParameters(_ transform: (String, Tensor<Scalar>) throws -> Tensor<Scalar>) rethrows {
        var replaced: [ObjectIdentifier: Tensor<Scalar>] = [:]
        for p in namedParameters { replaced[p.value.identity] = try transform(p.name, p.value) }
        var walker = ModuleWalker<Scalar>()
        walker.onParameter = { _, t in if let r = replaced[t.identity] { t = r } }
        walker.walk(&self)
    }

    /// Replaces every buffer by `transform(name, value)`.
    public mutating func mapBuffers(_ transform: (String, Tensor<Scalar>) throws -> Tensor<Scalar>) rethrows {
        var replaced: [String: Tensor<Scalar>] = [:]
        for b in namedBuffers { replaced[b.name] = try transform(b.name, b.value) }
        var walker = ModuleWalker<Scalar>()
        walker.onBuffer = { name, t in if let r = replaced[name] { t = r } }
        walker.walk(&self)
    }

    /// Every place a parameter is held: its name there and its identity (a shared parameter has
    /// several names and one identity).
    var parameterSlots: [(name: String, identity: ObjectIdentifier)] {
        var found: [(name: String, identity: ObjectIdentifier)] = []
        var walker = ModuleWalker<Scalar>()
        walker.onParameter = { name, t in found.append((name, t.identity)) }
        walker.read(self)
        return found
    }
}

/// Parameters gathered by a walk, each shared one once (under its first name). Generic over the
/// scalar alone and specialised, for the reason `ParameterLoan` gives.
struct DistinctParameters<Scalar: TensorScalar> {
    /// The parameters in the order first found.
    private(set) var list: [NamedTensor<Scalar>] = []
    private var seen = Set<ObjectIdentifier>()

    /// Adds `t` under `name` unless it was added before (under any name).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    mutating func add(_ name: String, _ t: Tensor<Scalar>) {
        if seen.insert(t.identity).inserted { list.append(NamedTensor(name: name, value: t)) }
    }
}
