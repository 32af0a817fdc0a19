/// Views: reshape, permute, transpose, expand, slicing, squeeze/unsqueeze. They share storage
/// (no copy) whenever the layout allows; their gradients route values back to the input layout.
extension Tensor {
    /// Contiguous values: self when already contiguous, else a copy (gradient passes through).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = materialized()
        guard Self.tracks(self) else { return out }
        return out.attaching("contiguous", self) { g in g }
    }

    /// The same elements with a new shape; one entry may be -1 (inferred). A view when the
    /// tensor is contiguous, a copy otherwise.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let i = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            check(known > 0 && scalarCount % known == 0, "reshape: cannot reshape \(shape) into \(newShape)")
            target[i] = scalarCount / known
        }
        check(Shape.count(target) == scalarCount && target.allSatisfy({ $0 >= 0 }),
                     "reshape: cannot reshape \(shape) (\(scalarCount) elements) into \(newShape)")
        if target == shape { return self }
        let base = isContiguous ? self : materialized()
        let out = Tensor(storage: base.storage, shape: target, strides: nil, offset: base.offset)
        guard Self.tracks(self) else { return out }
        let inShape = shape
        return out.attaching("reshape", self) { g in g.reshaped(inShape) }
    }

    /// A 1-D view of all elements.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func flattened() -> Tensor { reshaped([-1]) }

    /// Dimensions reordered: dimension i of the result is dimension `axes[i]` of self.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func permuted(_ axes: [Int]) -> Tensor {
        check(axes.count == rank && Set(axes.map { Shape.axis($0, rank: rank, op: "permute") }).count == rank,
                     "permute: \(axes) is not a permutation of the \(rank) axes of \(shape)")
        let ax = axes.map { Shape.axis($0, rank: rank, op: "permute") }
        let out = permutedView(ax)
        guard Self.tracks(self) else { return out }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in ax.enumerated() { inverse[a] = i }
        return out.attaching("permute", self) { g in g.permuted(inverse) }
    }

    /// Swaps two axes (by default the last two).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        check(rank >= 2, "transpose: needs rank >= 2, got shape \(shape)")
        var axes = Array(0..<rank)
        axes.swapAt(Shape.axis(a, rank: rank, op: "transpose"), Shape.axis(b, rank: rank, op: "transpose"))
        return permuted(axes)
    }

    /// The matrix transpose of a 2-D tensor (a view).
    public var T: Tensor { transposed() }

    /// A broadcast view with the given shape (size-1 or missing leading dims repeat, no copy).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func expanded(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let b = Shape.broadcast(shape, target, op: "expand")
        check(b == target, "expand: shape \(shape) cannot be expanded to \(target)")
        let out = Tensor(storage: storage, shape: target, strides: broadcastStrides(to: target), offset: offset)
        guard Self.tracks(self) else { return out }
        let inShape = shape
        return out.attaching("expand", self) { g in g.summed(toShape: inShape) }
    }

    /// Sums a broadcast gradient back to `target` (the inverse of broadcasting).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        check(lead >= 0, "sum(toShape:): cannot reduce \(shape) to \(target)")
        var axes = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        let s = axes.isEmpty ? self : sum(axes: axes, keepDims: true)
        return s.reshaped(target)
    }

    /// Inserts a size-1 dimension at `axis`.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func unsqueezed(_ axis: Int) -> Tensor {
        let a = Shape.axis(axis, rank: rank + 1, op: "unsqueeze")
        var s = shape
        s.insert(1, at: a)
        return reshaped(s)
    }

    /// Removes the size-1 dimension `axis` (or all size-1 dimensions when nil).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func squeezed(_ axis: Int? = nil) -> Tensor {
        if let axis {
            let a = Shape.axis(axis, rank: rank, op: "squeeze")
            check(shape[a] == 1, "squeeze: dimension \(axis) of \(shape) has size \(shape[a]), not 1")
            var s = shape
            s.remove(at: a)
            return reshaped(s)
        }
        return reshaped(shape.filter { $0 != 1 })
    }

    /// Elements `range` (with `step`) along `axis`, as a view.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func sliced(axis: Int = 0, _ range: Range<Int>, step: Int = 1) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "slice")
        check(step >= 1, "slice: step must be positive, got \(step)")
        check(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice: range \(range) is out of bounds for dimension \(a) of size \(shape[a]) (shape \(shape))")
        var s = shape, st = strides
        let along = st[a]
        s[a] = (range.count + step - 1) / step
        st[a] = along * step
        let out = Tensor(storage: storage, shape: s, strides: st, offset: offset + range.lowerBound * along)
        guard Self.tracks(self) else { return out }
        let inShape = shape
        return out.attaching("slice", self) { g in g.paddedFromSlice(inShape, axis: a, start: range.lowerBound, step: step) }
    }

    /// The inverse of slicing: zeros of `fullShape` with self written at the slice.
    func paddedFromSlice(_ fullShape: [Int], axis: Int, start: Int, step: Int) -> Tensor {
        let out = Tensor.zeros(fullShape)
        var st = out.strides
        let base = out.storage.base + start * st[axis]
        st[axis] *= step
        Tensor.copyElements(from: self, toShape: shape, base: base, strides: st)
        guard Self.tracks(self) else { return out }
        let n = shape[axis]
        return out.attaching("slice-backward", self) { g in g.sliced(axis: axis, start..<(n == 0 ? start : start + (n - 1) * step + 1), step: step) }
    }

    /// The sub-tensor at `index` of the first dimension (that dimension removed).
    public subscript(_ index: Int) -> Tensor {
        check(rank >= 1, "subscript: cannot index a scalar")
        let i = index < 0 ? index + shape[0] : index
        check(i >= 0 && i < shape[0], "subscript: index \(index) is out of range for dimension 0 of size \(shape[0])")
        return sliced(axis: 0, i..<(i + 1)).squeezed(0)
    }

    /// Elements `range` of the first dimension.
    public subscript(_ range: Range<Int>) -> Tensor { sliced(axis: 0, range) }
}
