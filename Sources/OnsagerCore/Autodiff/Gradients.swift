extension Tensor {
    /// Whether this tensor is recorded on the tape.
    public var requiresGrad: Bool { node != nil }

    /// Whether this tensor is a leaf of the tape (made by `requiringGrad()`).
    public var isLeaf: Bool { node?.isLeaf ?? true }

    /// The op that produced this tensor on the tape, if recorded.
    public var gradOp: String? { node.map { "\($0.op)" } }

    /// A leaf sharing these values that requires gradients; ops on it are recorded.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func requiringGrad() -> Tensor {
        var t = self
        t.node = TapeNode(leafWithShape: shape)
        return t
    }

    /// The same values, cut from the tape (like `torch.Tensor.detach`). No copy is made.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func detached() -> Tensor {
        var t = self
        t.node = nil
        return t
    }

    /// The gradient accumulated by `backward()` (leaves and tensors that called `retainGrad()`).
    public var grad: Tensor? { node?.grad }

    /// Replaces the accumulated gradient (gradient clipping rescales it in place of the tape).
    package func setGrad(_ g: Tensor?) { node?.grad = g }

    /// Clears the accumulated gradient.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func zeroGrad() { node?.grad = nil }

    /// Asks a non-leaf tensor to keep its gradient during `backward()`.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func retainGrad() {
        check(node != nil, "retainGrad: tensor does not require gradients")
        node?.retainsGrad = true
    }

    /// Accumulates d(self)/d(leaf) into every leaf's `grad`.
    ///
    /// - Parameters:
    ///   - seed: the gradient of some scalar with respect to `self`; required when `self` has more
    ///     than one element.
    ///   - retainGraph: keep the graph for another backward pass (it is freed by default).
    ///   - createGraph: record the backward pass itself, so gradients can be differentiated again.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func backward(seed: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) {
        guard let node else {
            fatalError("backward: tensor does not require gradients (no input was marked requiringGrad(), or it was computed under withoutGrad)")
        }
        let s = Self.resolveSeed(seed, for: self)
        _ = BackwardEngine.run(root: node, seed: s, targets: nil, retainGraph: retainGraph || createGraph, createGraph: createGraph)
    }

    static func resolveSeed(_ seed: Tensor?, for output: Tensor) -> Tensor {
        if let seed {
            check(seed.shape == output.shape, "backward: seed of shape \(seed.shape) for an output of shape \(output.shape)")
            return seed
        }
        check(output.scalarCount == 1,
                     "backward: output of shape \(output.shape) is not a scalar; pass a seed gradient of that shape")
        return Tensor.ones(output.shape)
    }
}

/// Gradients of `output` with respect to `inputs` (like `torch.autograd.grad`), without touching
/// any `grad` field. Inputs that `output` does not depend on get zeros.
///
/// With `createGraph: true` the returned gradients are themselves on the tape, so they can be
/// differentiated again (Hessian-vector products, gradient penalties).
public func gradients<S>(of output: Tensor<S>, wrt inputs: [Tensor<S>], seed: Tensor<S>? = nil,
                         retainGraph: Bool = false, createGraph: Bool = false) -> [Tensor<S>] {
    guard let root = output.node else {
        fatalError("gradients(of:wrt:): output does not require gradients")
    }
    let targets = inputs.map { t -> TapeNode<S> in
        guard let n = t.node else { fatalError("gradients(of:wrt:): an input of shape \(t.shape) does not require gradients") }
        return n
    }
    let s = Tensor.resolveSeed(seed, for: output)
    let found = BackwardEngine.run(root: root, seed: s, targets: targets, retainGraph: retainGraph || createGraph,
                                   createGraph: createGraph)
    return zip(inputs, found).map { t, g in g ?? Tensor.zeros(t.shape) }
}

/// The value of `f` at `x` and its gradient (f must return a one-element tensor).
public func valueWithGradient<S>(at x: Tensor<S>, of f: (Tensor<S>) -> Tensor<S>) -> (value: Tensor<S>, gradient: Tensor<S>) {
    let leaf = x.detached().requiringGrad()
    let y = withGradEnabled(true) { f(leaf) }
    guard y.requiresGrad else { return (y, Tensor.zeros(x.shape)) }
    let g = gradients(of: y, wrt: [leaf])[0]
    return (y.detached(), g)
}

extension Tensor {
    /// An identity for telling tensors apart in a module tree: the tape node of a tensor that
    /// requires gradients (shared parameters share it), else the storage.
    package var identity: ObjectIdentifier { node.map { ObjectIdentifier($0) } ?? ObjectIdentifier(storage) }
}
