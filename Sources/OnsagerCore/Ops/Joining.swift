/// Joins tensors along an existing axis; every other dimension must agree. The gradient of
/// each input is its slice of the output gradient.
@_specialize(where S == Float) @_specialize(where S == Double)
public func concat<S: TensorScalar>(_ tensors: [Tensor<S>], axis: Int = 0) -> Tensor<S> {
    check(!tensors.isEmpty, "concat: needs at least one tensor")
    let first = tensors[0]
    let a = Shape.axis(axis, rank: first.rank, op: "concat")
    var outShape = first.shape
    outShape[a] = 0
    for (i, t) in tensors.enumerated() {
        var s1 = t.shape, s0 = first.shape
        check(s1.count == s0.count, "concat: tensor \(i) has shape \(t.shape), tensor 0 has \(first.shape)")
        s1[a] = 0; s0[a] = 0
        check(s1 == s0, "concat: tensor \(i) has shape \(t.shape), incompatible with \(first.shape) along axis \(a)")
        outShape[a] += t.shape[a]
    }
    let out = Tensor<S>(uninitializedShape: outShape)
    var start = 0
    for t in tensors {
        let st = out.strides
        Tensor<S>.copyElements(from: t, toShape: t.shape, base: out.storage.base + start * st[a], strides: st)
        start += t.shape[a]
    }
    guard tensors.contains(where: { $0.node != nil }) && GradMode.isEnabled else { return out }
    let sizes = tensors.map { $0.shape[a] }
    return out.attaching("concat", tensors) { g in
        var s = 0
        return sizes.map { n in
            defer { s += n }
            return g.sliced(axis: a, s..<(s + n))
        }
    }
}

/// Stacks equally shaped tensors along a new axis.
@_specialize(where S == Float) @_specialize(where S == Double)
public func stack<S: TensorScalar>(_ tensors: [Tensor<S>], axis: Int = 0) -> Tensor<S> {
    check(!tensors.isEmpty, "stack: needs at least one tensor")
    for (i, t) in tensors.enumerated() {
        check(t.shape == tensors[0].shape, "stack: tensor \(i) has shape \(t.shape), tensor 0 has \(tensors[0].shape)")
    }
    let a = Shape.axis(axis, rank: tensors[0].rank + 1, op: "stack")
    return concat(tensors.map { $0.unsqueezed(a) }, axis: a)
}
