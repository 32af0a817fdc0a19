import COnsagerKernels

// Untracked kernel calls: each computes a fresh contiguous result and knows nothing of the tape.
// The differentiable ops in Ops/ are built on these.

@inline(__always) func kop(_ op: onsager_unary_op) -> Int32 { Int32(op.rawValue) }
@inline(__always) func kop(_ op: onsager_binary_op) -> Int32 { Int32(op.rawValue) }
@inline(__always) func kop(_ op: onsager_param_op) -> Int32 { Int32(op.rawValue) }
@inline(__always) func kop(_ op: onsager_reduce_op) -> Int32 { Int32(op.rawValue) }

extension Tensor {
    /// A contiguous copy in fresh storage (always copies).
    package func materialized() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        if scalarCount == 0 { return out }
        let ds = out.strides
        shape.withUnsafeBufferPointer { sh in
            strides.withUnsafeBufferPointer { ss in
                ds.withUnsafeBufferPointer { dst in
                    onsager_copy_nd(Int32(MemoryLayout<Scalar>.stride), Int32(rank), sh.baseAddress, basePointer, ss.baseAddress,
                                    out.storage.base, dst.baseAddress)
                }
            }
        }
        return out
    }

    /// Self when contiguous, else a contiguous copy; never recorded.
    @inline(__always) func contiguousValue() -> Tensor {
        isContiguous ? detached() : materialized()
    }

    /// Copies the elements of `src` (same shape) into the strided view `dstView` of a storage.
    static func copyElements(from src: Tensor, toShape shape: [Int], base: UnsafeMutablePointer<Scalar>, strides dstStrides: [Int]) {
        if Shape.count(shape) == 0 { return }
        shape.withUnsafeBufferPointer { sh in
            src.strides.withUnsafeBufferPointer { ss in
                dstStrides.withUnsafeBufferPointer { ds in
                    onsager_copy_nd(Int32(MemoryLayout<Scalar>.stride), Int32(shape.count), sh.baseAddress, src.basePointer,
                                    ss.baseAddress, base, ds.baseAddress)
                }
            }
        }
    }

    func unaryKernel(_ op: onsager_unary_op) -> Tensor {
        let x = contiguousValue()
        let out = Tensor(uninitializedShape: shape)
        Scalar.kernelUnary(kop(op), x.basePointer, out.storage.base, scalarCount)
        return out
    }

    func paramKernel(_ op: onsager_param_op, _ p0: Double, _ p1: Double = 0) -> Tensor {
        let x = contiguousValue()
        let out = Tensor(uninitializedShape: shape)
        Scalar.kernelParamUnary(kop(op), x.basePointer, out.storage.base, scalarCount, p0, p1)
        return out
    }

    /// Strides that read this tensor as if it had the (broadcast) shape `target`.
    func broadcastStrides(to target: [Int]) -> [Int] {
        var s = [Int](repeating: 0, count: target.count)
        let lead = target.count - rank
        let st = strides
        for i in 0..<rank where shape[i] != 1 { s[lead + i] = st[i] }
        return s
    }

    static func binaryKernel(_ op: onsager_binary_op, _ a: Tensor, _ b: Tensor, name: StaticString) -> Tensor {
        if a.shape == b.shape && a.isContiguous && b.isContiguous {
            // Common case: one flat loop, no stride arrays.
            let out = Tensor(uninitializedShape: a.shape)
            var n = out.scalarCount, one = 1
            if n > 0 { Scalar.kernelBinary(kop(op), 1, &n, a.basePointer, &one, b.basePointer, &one, out.storage.base) }
            return out
        }
        let shape = Shape.broadcast(a.shape, b.shape, op: "\(name)")
        let out = Tensor(uninitializedShape: shape)
        if out.scalarCount == 0 { return out }
        let sa = a.broadcastStrides(to: shape), sb = b.broadcastStrides(to: shape)
        shape.withUnsafeBufferPointer { sh in
            sa.withUnsafeBufferPointer { pa in
                sb.withUnsafeBufferPointer { pb in
                    Scalar.kernelBinary(kop(op), Int32(shape.count), sh.baseAddress!, a.basePointer, pa.baseAddress!, b.basePointer,
                                   pb.baseAddress!, out.storage.base)
                }
            }
        }
        return out
    }

    static func whereKernel(_ c: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = Shape.broadcast(Shape.broadcast(c.shape, a.shape, op: "where"), b.shape, op: "where")
        let out = Tensor(uninitializedShape: shape)
        if out.scalarCount == 0 { return out }
        let sc = c.broadcastStrides(to: shape), sa = a.broadcastStrides(to: shape), sb = b.broadcastStrides(to: shape)
        shape.withUnsafeBufferPointer { sh in
            sc.withUnsafeBufferPointer { pc in
                sa.withUnsafeBufferPointer { pa in
                    sb.withUnsafeBufferPointer { pb in
                        Scalar.kernelWhere(Int32(shape.count), sh.baseAddress!, c.basePointer, pc.baseAddress!, a.basePointer,
                                      pa.baseAddress!, b.basePointer, pb.baseAddress!, out.storage.base)
                    }
                }
            }
        }
        return out
    }

    /// Reduces over `axes` (sorted, unique); the result has the keep-dims shape.
    func reduceKernel(_ op: onsager_reduce_op, axes: [Int]) -> Tensor {
        if !axes.isEmpty && axes.last! - axes.first! + 1 != axes.count {
            // Axes in several runs ([N, C, L] over N and L, a bias's gradient): the innermost run
            // first, then the rest of its result, each a plain pass, instead of a transposed copy
            // of the whole input.
            var start = axes.count - 1
            while start > 0 && axes[start - 1] == axes[start] - 1 { start -= 1 }
            return reduceKernel(op, axes: Array(axes[start...])).reduceKernel(op, axes: Array(axes[..<start]))
        }
        var keepShape = shape
        for a in axes { keepShape[a] = 1 }
        let out = Tensor(uninitializedShape: keepShape)
        if out.scalarCount == 0 { return out }
        let x = contiguousValue()
        let first = axes.first ?? rank, last = axes.last ?? rank - 1
        var outer = 1, r = 1, inner = 1
        for (d, n) in shape.enumerated() {
            if d < first { outer &*= n } else if d > last { inner &*= n } else { r &*= n }
        }
        Scalar.kernelReduce(kop(op), x.basePointer, out.storage.base, outer, r, inner)
        return out
    }

    /// A permuted view without recording.
    func permutedView(_ axes: [Int]) -> Tensor {
        let st = strides
        return Tensor(storage: storage, shape: axes.map { shape[$0] }, strides: axes.map { st[$0] }, offset: offset)
    }
}
