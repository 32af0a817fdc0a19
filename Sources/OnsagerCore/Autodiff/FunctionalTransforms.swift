// Function transforms in the style of JAX (`jax.grad`, `jax.vjp`, `jax.jvp`, `jax.hessian`) and
// `torch.func`, built on the tape: each evaluates the function on a fresh leaf, so the caller's
// tensors and their `grad` fields are never touched. Forward mode (`jvp`) is two reverse passes:
// the vector–Jacobian product u ↦ Jᵀu is linear in u, so differentiating ⟨Jᵀu, v⟩ by u gives Jv.

/// The gradient of a scalar-valued `f`, as a function (`jax.grad`).
public func grad<S>(_ f: @escaping (Tensor<S>) -> Tensor<S>) -> (Tensor<S>) -> Tensor<S> {
    { x in valueAndGrad(f)(x).gradient }
}

/// The value and gradient of a scalar-valued `f`, as a function (`jax.value_and_grad`).
public func valueAndGrad<S>(_ f: @escaping (Tensor<S>) -> Tensor<S>) -> (Tensor<S>) -> (value: Tensor<S>, gradient: Tensor<S>) {
    { x in
        let (y, pullback) = vjp(f, at: x)
        check(y.scalarCount == 1, "grad: the function must return one element, got shape \(y.shape)")
        return (y, pullback(Tensor.ones(y.shape)))
    }
}

/// f(x) and its pullback u ↦ uᵀ J (`jax.vjp`), for any output shape; u has the output's shape.
/// The pullback may be called many times (the graph is kept while it lives).
public func vjp<S>(_ f: (Tensor<S>) -> Tensor<S>, at x: Tensor<S>) -> (value: Tensor<S>, pullback: (Tensor<S>) -> Tensor<S>) {
    let leaf = x.detached().requiringGrad()
    let y = withGradEnabled(true) { f(leaf) }
    let shape = x.shape
    guard y.requiresGrad else { return (y, { _ in Tensor.zeros(shape) }) }
    return (y.detached(), { u in
        check(u.shape == y.shape, "vjp: cotangent of shape \(u.shape) for an output of shape \(y.shape)")
        return gradients(of: y, wrt: [leaf], seed: u, retainGraph: true)[0]
    })
}

/// f(x) and the Jacobian–vector product J v (`jax.jvp`); v has x's shape.
public func jvp<S>(_ f: (Tensor<S>) -> Tensor<S>, at x: Tensor<S>, tangent v: Tensor<S>) -> (value: Tensor<S>, tangent: Tensor<S>) {
    check(v.shape == x.shape, "jvp: tangent of shape \(v.shape) at a point of shape \(x.shape)")
    let leaf = x.detached().requiringGrad()
    return withGradEnabled(true) {
        let y = f(leaf)
        guard y.requiresGrad else { return (y, Tensor.zeros(y.shape)) }
        let u = Tensor<S>.zeros(y.shape).requiringGrad()
        let vjpOfU = gradients(of: y, wrt: [leaf], seed: u, createGraph: true)[0]
        guard vjpOfU.requiresGrad else { return (y.detached(), Tensor.zeros(y.shape)) }
        return (y.detached(), gradients(of: (vjpOfU * v.detached()).sum(), wrt: [u])[0])
    }
}

/// The Hessian–vector product ∇²f(x) v of a scalar-valued `f` (gradient of ⟨∇f, v⟩).
public func hvp<S>(_ f: (Tensor<S>) -> Tensor<S>, at x: Tensor<S>, vector v: Tensor<S>) -> Tensor<S> {
    check(v.shape == x.shape, "hvp: vector of shape \(v.shape) at a point of shape \(x.shape)")
    let leaf = x.detached().requiringGrad()
    return withGradEnabled(true) {
        let y = f(leaf)
        check(y.scalarCount == 1, "hvp: the function must return one element, got shape \(y.shape)")
        guard y.requiresGrad else { return Tensor.zeros(x.shape) }
        let g = gradients(of: y, wrt: [leaf], createGraph: true)[0]
        guard g.requiresGrad else { return Tensor.zeros(x.shape) }
        return gradients(of: (g * v.detached()).sum(), wrt: [leaf])[0]
    }
}

/// The Jacobian of `f` at x, shape f(x).shape + x.shape (`jax.jacrev`): one pullback per output element.
public func jacobian<S>(_ f: (Tensor<S>) -> Tensor<S>, at x: Tensor<S>) -> Tensor<S> {
    let (y, pullback) = vjp(f, at: x)
    return Tensor(shape: y.shape + x.shape, scalars: rowsForUnitVectors(y.shape, pullback))
}

/// The Hessian of a scalar-valued `f` at x, shape x.shape + x.shape (`jax.hessian`): the
/// Jacobian of the gradient, each row a reverse pass through the recorded gradient.
public func hessian<S>(_ f: @escaping (Tensor<S>) -> Tensor<S>, at x: Tensor<S>) -> Tensor<S> {
    let leaf = x.detached().requiringGrad()
    return withGradEnabled(true) {
        let y = f(leaf)
        check(y.scalarCount == 1, "hessian: the function must return one element, got shape \(y.shape)")
        guard y.requiresGrad else { return Tensor.zeros(x.shape + x.shape) }
        let g = gradients(of: y, wrt: [leaf], createGraph: true)[0]
        guard g.requiresGrad else { return Tensor.zeros(x.shape + x.shape) }
        let rows = rowsForUnitVectors(x.shape) { gradients(of: g, wrt: [leaf], seed: $0, retainGraph: true)[0] }
        return Tensor(shape: x.shape + x.shape, scalars: rows)
    }
}

/// `row(eᵢ)` for every unit vector eᵢ of `shape`, in order, flattened into one array: the rows of
/// a Jacobian or Hessian, one reverse pass each.
private func rowsForUnitVectors<S>(_ shape: [Int], _ row: (Tensor<S>) -> Tensor<S>) -> [S] {
    let n = Shape.count(shape)
    var rows: [S] = []
    for i in 0..<n {
        var unit = [S](repeating: 0, count: n)
        unit[i] = 1
        rows += row(Tensor(shape: shape, scalars: unit)).scalars
    }
    return rows
}
