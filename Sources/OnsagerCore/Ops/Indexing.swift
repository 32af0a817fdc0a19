import COnsagerKernels

// Gathering by index. Two primitive pairs carry all gradients: `take` reads elements at flat
// offsets of a contiguous tensor, and its adjoint `putAdd` adds values at those offsets into
// zeros (duplicates accumulate); gather computes the offsets and calls them. Index-select picks
// whole contiguous blocks (an embedding's rows), so its pair, `takeBlocks` and `putAddBlocks`,
// copies or adds one block at a time and needs no table of offsets.
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

    /// Blocks shorter than this are copied or added element by element: a call per block would
    /// cost more than the block (index-select along the last axis has blocks of one element).
    @inline(__always) static var shortBlock: Int { 32 }

    /// Self viewed as [outer, n, inner] → [outer, k, inner] (shape `outShape`), block (o, r) being
    /// block (o, indices[r]): one copy per block.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    func takeBlocks(_ indices: [Int], outer: Int, n: Int, inner: Int, shape outShape: [Int]) -> Tensor {
        let x = contiguousValue()
        let out = Tensor(uninitializedShape: outShape)
        let src = x.basePointer, dst = out.storage.base, k = indices.count
        defer { withExtendedLifetime(x) {} }
        indices.withUnsafeBufferPointer { picks in
            if inner >= Self.shortBlock {
                // A block per copy; a large gather (a batch of rows) runs as pool tasks.
                onsager_take_blocks(Int32(MemoryLayout<Scalar>.stride), src, outer, n, inner, picks.baseAddress, k, dst)
                return
            }
            for o in 0..<outer {
                let to = dst + o * k * inner, from = src + o * n * inner
                if inner == 1 {
                    for r in 0..<k { to[r] = from[picks[r]] }
                } else {
                    for r in 0..<k { for j in 0..<inner { to[r * inner + j] = from[picks[r] * inner + j] } }
                }
            }
        }
        guard Self.tracks(self) else { return out }
        let inShape = shape
        return out.attaching("index_select", self) { g in g.putAddBlocks(indices, outer: outer, n: n, inner: inner, shape: inShape) }
    }

    /// Zeros of `outShape` ([outer, n, inner]) with self's blocks ([outer, k, inner]) added at
    /// block indices[r], in the order of r (repeated indices accumulate, always in that order).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    func putAddBlocks(_ indices: [Int], outer: Int, n: Int, inner: Int, shape outShape: [Int]) -> Tensor {
        let g = contiguousValue()
        let out = Tensor.zeros(outShape)
        let src = g.basePointer, dst = out.storage.base, k = indices.count
        defer { withExtendedLifetime(g) {} }
        indices.withUnsafeBufferPointer { picks in
            for o in 0..<outer {
                let from = src + o * k * inner, to = dst + o * n * inner
                if inner == 1 {
                    for r in 0..<k { to[picks[r]] += from[r] }
                } else if inner < Self.shortBlock {
                    for r in 0..<k { for j in 0..<inner { to[picks[r] * inner + j] += from[r * inner + j] } }
                } else {
                    for r in 0..<k { Scalar.kernelAXPY(inner, 1, from + r * inner, to + picks[r] * inner) }
                }
            }
        }
        guard Self.tracks(self) else { return out }
        let inShape = shape
        return out.attaching("index_add", self) { g in g.takeBlocks(indices, outer: outer, n: n, inner: inner, shape: inShape) }
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
        return takeBlocks(indices, outer: outer, n: n, inner: inner, shape: outShape)
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
