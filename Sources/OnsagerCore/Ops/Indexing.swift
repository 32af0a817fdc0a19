// Gathering by index. One primitive pair carries all gradients: `take` reads elements at flat
// offsets of a contiguous tensor, and its adjoint `putAdd` adds values at those offsets into
// zeros (duplicates accumulate). Index-select and gather compute the offsets and call them.
extension Tensor {
    /// Elements at flat row-major `offsets`, shaped `shape`.
    func take(offsets: [Int], shape outShape: [Int]) -> Tensor {
        let x = contiguousValue()
        let out = Tensor(uninitializedShape: outShape)
        let src = x.basePointer, dst = out.storage.base
        for (i, o) in offsets.enumerated() { dst[i] = src[o] }
        guard Self.tracks(self) else { return out }
        let inShape = shape
        return out.attaching("take", self) { g in g.putAdd(offsets: offsets, shape: inShape) }
    }

    /// Zeros of `shape` with self's elements added at flat `offsets`.
    func putAdd(offsets: [Int], shape outShape: [Int]) -> Tensor {
        let g = contiguousValue()
        let out = Tensor.zeros(outShape)
        let src = g.basePointer, dst = out.storage.base
        for (i, o) in offsets.enumerated() { dst[o] += src[i] }
        guard Self.tracks(self) else { return out }
        let inShape = shape
        return out.attaching("put_add", self) { g in g.take(offsets: offsets, shape: inShape) }
    }

    /// The slices at `indices` along `axis` (like `torch.index_select`); indices may repeat.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func indexSelect(axis: Int, indices: [Int]) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "indexSelect")
        let n = shape[a]
        for i in indices { check(i >= 0 && i < n, "indexSelect: index \(i) is out of range for dimension \(a) of size \(n) (shape \(shape))") }
        let outer = Shape.count(Array(shape[..<a])), inner = Shape.count(Array(shape[(a + 1)...]))
        var outShape = shape
        outShape[a] = indices.count
        if a == 0 && !Self.tracks(self) {
            // Whole rows: one copy each (batching data), no offset table.
            let x = contiguousValue()
            let out = Tensor(uninitializedShape: outShape)
            for (r, i) in indices.enumerated() { (out.storage.base + r * inner).update(from: x.basePointer + i * inner, count: inner) }
            return out
        }
        var offsets = [Int]()
        offsets.reserveCapacity(outer * indices.count * inner)
        for o in 0..<outer {
            for i in indices {
                let base = (o * n + i) * inner
                for j in 0..<inner { offsets.append(base + j) }
            }
        }
        return take(offsets: offsets, shape: outShape)
    }

    /// `out[..., j, ...] = self[..., indices[..., j, ...], ...]` along `axis` (like `torch.gather`).
    /// `indices` is row-major with the shape of self except along `axis`, where it has `k` entries
    /// (inferred from its count). For logits [N, C] and labels, `gathering(alongAxis: 1, indices: labels)`
    /// gives the [N, 1] label scores.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func gathering(alongAxis axis: Int, indices: [Int]) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "gather")
        let n = shape[a]
        let others = n == 0 ? 0 : scalarCount / n
        check(others > 0 && indices.count % others == 0,
                     "gather: \(indices.count) indices do not fit shape \(shape) along axis \(a)")
        let k = indices.count / others
        let outer = Shape.count(Array(shape[..<a])), inner = Shape.count(Array(shape[(a + 1)...]))
        var offsets = [Int](repeating: 0, count: indices.count)
        var p = 0
        for o in 0..<outer {
            for _ in 0..<k {
                for r in 0..<inner {
                    let i = indices[p]
                    check(i >= 0 && i < n, "gather: index \(i) is out of range for dimension \(a) of size \(n) (shape \(shape))")
                    offsets[p] = (o * n + i) * inner + r
                    p += 1
                }
            }
        }
        var outShape = shape
        outShape[a] = k
        return take(offsets: offsets, shape: outShape)
    }

    /// One-hot rows: shape [labels.count, classes], 1 at each label.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        let t = Tensor.zeros([labels.count, classes])
        for (r, l) in labels.enumerated() {
            check(l >= 0 && l < classes, "oneHot: label \(l) at position \(r) is out of range for \(classes) classes")
            t.storage.base[r * classes + l] = 1
        }
        return t
    }
}
