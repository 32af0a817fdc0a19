// (G ∘ G) x with G = wᵀ diag(k) w, one per particle: the product behind the 4-cycle term of an
// RBM's order-4 Plefka fields (Σ_l (Σ_j W_ji κ_j W_jl)² x_l). Composed, it is a batched GEMM
// writing every particle's m × m Gram matrix, two passes over that matrix and a matrix-vector
// product. Off the tape it is one kernel that computes G's lower part only (G is symmetric), a
// block of rows at a time, and folds each block into the result while it is in cache.
extension Tensor {
    /// y_p = (G_p ∘ G_p) x_p with G_p = wᵀ diag(k_p) w, for weights `w` [n, m], per-particle
    /// weights `k` [P, n] and vectors `x` [P, m]; returns [P, m].
    ///
    /// Recorded on the tape (any input tracked), it is the composed expression
    /// `matmul(g * g, x)` with `g = matmul(wᵀ, w · k)`, differentiable to any order. Otherwise it
    /// is the fused kernel: about 0.6 of the composed flops for m of a few hundred, no m × m matrix
    /// per particle in memory, and the same value up to rounding (other summation orders), equal
    /// for any thread count.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    package static func squaredGramProduct(_ w: Tensor, weights k: Tensor, _ x: Tensor) -> Tensor {
        check(w.rank == 2 && k.rank == 2 && x.rank == 2 && k.shape == [x.shape[0], w.shape[0]] && x.shape[1] == w.shape[1],
              "squaredGramProduct: weights k [P, n] and vectors x [P, m] for w [n, m], got w \(w.shape), k \(k.shape), x \(x.shape)")
        if tracks(w) || tracks(k) || tracks(x) {
            let g = OnsagerCore.matmul(w.transposed(), w.unsqueezed(0) * k.unsqueezed(2))
            return OnsagerCore.matmul(g * g, x.unsqueezed(2)).squeezed(2)
        }
        let (particles, n, m) = (x.shape[0], w.shape[0], w.shape[1])
        let wc = w.contiguousValue(), kc = k.contiguousValue(), xc = x.contiguousValue()
        let y = Tensor(uninitializedShape: [particles, m])
        let allocated = Scalar.kernelGramSquareProduct(particles, n, m, wc.basePointer, m, kc.basePointer, xc.basePointer, y.storage.base)
        check(allocated, "squaredGramProduct: could not allocate \(n * m + m * 128) scratch elements for w \(w.shape)")
        return y.checked("squared_gram_product")
    }
}
