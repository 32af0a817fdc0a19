import COnsagerKernels

/// Matrix product with numpy semantics: 2-D × 2-D, batched (leading dimensions broadcast), and
/// 1-D operands promoted to a row or column. Transposed and otherwise strided operands are read
/// in place by the GEMM's packing, so `a.T` costs no copy.
@_specialize(where S == Float) @_specialize(where S == Double)
public func matmul<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> {
    check(a.rank >= 1 && b.rank >= 1, "matmul: operands must have rank >= 1, got \(a.shape) and \(b.shape)")
    if a.rank == 1 || b.rank == 1 {
        // numpy: a vector is a row on the left, a column on the right; that dimension is dropped.
        let y = matmul(a.rank == 1 ? a.unsqueezed(0) : a, b.rank == 1 ? b.unsqueezed(1) : b)
        var s = y.shape
        if b.rank == 1 { s.removeLast() }
        if a.rank == 1 { s.remove(at: s.count - (b.rank == 1 ? 1 : 2)) }
        return y.reshaped(s)
    }
    let y = Tensor<S>.gemmKernel(a, b)
    guard Tensor<S>.tracks(a, b) else { return y.checked("matmul") }
    return y.attaching("matmul", a, b) { g in
        (a.node == nil ? nil : matmul(g, b.transposed()).summed(toShape: a.shape),
         b.node == nil ? nil : matmul(a.transposed(), g).summed(toShape: b.shape))
    }.checked("matmul")
}

/// a·b + bias for matrices a [m, k] and b [k, n] and a bias row [n] added to every row
/// (`torch.addmm(bias, a, b)`; `linear` is the same with PyTorch's [out, in] weight layout): the
/// GEMM adds the bias as it stores each tile, so the bias costs no pass of its own over the
/// result. Equal to `matmul(a, b) + bias` up to rounding: the bias enters with the first block of
/// K, so for long K (over 1,024 in Float, 256 in Double on AVX-512) the last bits can differ.
/// Differentiable in all three; the tape records it as "addmm". Other shapes (batched or vector
/// operands, a bias that broadcasts otherwise) are computed as `matmul(a, b) + bias`, recorded
/// as "add"; a bias that does not broadcast to the product is an error naming both shapes.
@_specialize(where S == Float) @_specialize(where S == Double)
public func matmul<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, adding bias: Tensor<S>) -> Tensor<S> {
    guard a.rank == 2 && b.rank == 2 && bias.shape == [b.shape[1]] else {
        let product = matmul(a, b)
        _ = Shape.broadcast(product.shape, bias.shape, op: "matmul(_:_:adding:): the bias and the product")
        return product + bias
    }
    return Tensor<S>.recordingAddmm(Tensor<S>.gemmKernel(a, b, bias: bias), a, b, bias)
}

extension Tensor {
    /// Matrix product with `other` (see `matmul`).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func matmul(_ other: Tensor) -> Tensor { OnsagerCore.matmul(self, other) }

    /// Matrix product with `other` plus `bias` added to every row (see `matmul(_:_:adding:)`).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func matmul(_ other: Tensor, adding bias: Tensor) -> Tensor { OnsagerCore.matmul(self, other, adding: bias) }

    /// `value`, which the caller computed as a·b + bias, recorded on the tape as "addmm" with its
    /// gradient rule: `matmul(_:_:adding:)`, and CD-k, whose field over [data; chain] rows is made
    /// from two products taken at different times but differentiated as one.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    package static func recordingAddmm(_ value: Tensor, _ a: Tensor, _ b: Tensor, _ bias: Tensor) -> Tensor {
        guard tracks(a, b) || tracks(bias) else { return value.checked("addmm") }
        return value.attaching("addmm", [a, b, bias]) { g in
            [a.node == nil ? nil : OnsagerCore.matmul(g, b.transposed()),
             b.node == nil ? nil : OnsagerCore.matmul(a.transposed(), g),
             bias.node == nil ? nil : g.sum(axis: 0)]
        }.checked("addmm")
    }

    /// The (batched) product a·b; `bias` [n], if given, is added to every row of every product by
    /// the GEMM's epilogue, and with `relu` the epilogue then takes max(·, 0) as `relu()` does.
    static func gemmKernel(_ a: Tensor, _ b: Tensor, bias: Tensor? = nil, relu: Bool = false) -> Tensor {
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
        let k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
        check(k == k2, "matmul: inner dimensions differ: \(a.shape) × \(b.shape) (\(k) vs \(k2))")
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batch = Shape.broadcast(batchA, batchB, op: "matmul (batch dimensions)")
        let out = Tensor(uninitializedShape: batch + [m, n])
        let nb = Shape.count(batch)
        if nb == 0 || m == 0 || n == 0 { return out }
        // Batch offsets by broadcasting each operand's batch strides.
        let full = batch + [m, k]
        let sa = Array(a.broadcastStrides(to: full).dropLast(2))
        let fullB = batch + [k, n]
        let sb = Array(b.broadcastStrides(to: fullB).dropLast(2))
        let stA = a.strides, stB = b.strides
        let rsa = stA[a.rank - 2], csa = stA[a.rank - 1]
        let rsb = stB[b.rank - 2], csb = stB[b.rank - 1]
        let biasRow = bias?.contiguousValue()
        // Product i of the batch, at a's and b's offsets for i's index in each batch dimension.
        func product(_ i: Int) {
            var rest = i, oa = 0, ob = 0
            for d in stride(from: batch.count - 1, through: 0, by: -1) {
                let index = rest % batch[d]
                rest /= batch[d]
                oa += index * sa[d]
                ob += index * sb[d]
            }
            if relu {
                Scalar.kernelGEMMBiasReLU(m, n, k, 1, a.basePointer + oa, rsa, csa, b.basePointer + ob, rsb, csb,
                                          biasRow.map { UnsafePointer($0.basePointer) }, out.storage.base + i * m * n, n)
            } else if let biasRow {
                Scalar.kernelGEMMBias(m, n, k, 1, a.basePointer + oa, rsa, csa, b.basePointer + ob, rsb, csb, biasRow.basePointer,
                                      out.storage.base + i * m * n, n)
            } else {
                S_gemm(m, n, k, a.basePointer + oa, rsa, csa, b.basePointer + ob, rsb, csb, out.storage.base + i * m * n)
            }
        }
        // Many products (a convolution's images): each whole on one thread, as pool tasks, rather
        // than every small product split and joined. A product's bits do not depend on the
        // threads that compute it, so neither do these.
        if onsager_pool_items_as_tasks(nb) != 0 { Kernels.parallelFor(nb, product) }
        else { for i in 0..<nb { product(i) } }
        return out
    }

    @inline(__always)
    static func S_gemm(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Scalar>, _ rsa: Int, _ csa: Int,
                       _ b: UnsafePointer<Scalar>, _ rsb: Int, _ csb: Int, _ c: UnsafeMutablePointer<Scalar>) {
        Scalar.kernelGEMM(m, n, k, 1, a, rsa, csa, b, rsb, csb, 0, c, n)
    }
}
