// (G ∘ G) x with G = wᵀ diag(k) w, one per particle: the product behind the 4-cycle term of an
// RBM's order-4 Plefka fields (Σ_l (Σ_j W_ji κ_j W_jl)² x_l). Composed, it is a batched GEMM
// writing every particle's m × m Gram matrix, two passes over that matrix and a matrix-vector
// product. Off the tape it is one kernel that computes G's lower part only (G is symmetric), a
// block of rows at a time, and folds each block into the result while it is in cache, or, for
// m far above n, goes through the smaller n × n Gram matrix of the other side (gram_square.c).
extension Tensor {
    /// y_p = (G_p ∘ G_p) x_p with G_p = wᵀ diag(k_p) w, for weights `w` [n, m], per-particle
    /// weights `k` [P, n] and vectors `x` [P, m]; returns [P, m].
    ///
    /// Recorded on the tape (any input tracked), it is the composed expression
    /// `matmul(g * g, x)` with `g = matmul(wᵀ, w · k)`, differentiable to any order. Otherwise it
    /// is a fused kernel: G's lower half a block of rows at a time (about 0.6 of the composed
    /// flops for m of a few hundred, no m × m matrix per particle in memory) or, when m is over
    /// about three times n, the n × n Gram matrix w diag(x) wᵀ instead; the same value up to
    /// rounding (other summation orders), equal for any thread count. (By the second route each
    /// value is a quadratic form summed with signs, so in Float a value near zero may lose
    /// relative accuracy, or come out a rounding error below zero.)
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    package static func squaredGramProduct(_ w: Tensor, weights k: Tensor, _ x: Tensor) -> Tensor {
        check(w.rank == 2 && k.rank == 2 && x.rank == 2 && k.shape == [x.shape[0], w.shape[0]] && x.shape[1] == w.shape[1],
              "squaredGramProduct: weights k [P, n] and vectors x [P, m] for w [n, m], got w \(w.shape), k \(k.shape), x \(x.shape)")
        if tracks(w) || tracks(k) || tracks(x) {
            let g = composedGram(w, k)
            return OnsagerCore.matmul(g * g, x.unsqueezed(2)).squeezed(2)
        }
        let (particles, n, m) = (x.shape[0], w.shape[0], w.shape[1])
        let wc = w.contiguousValue(), kc = k.contiguousValue(), xc = x.contiguousValue()
        let y = Tensor(uninitializedShape: [particles, m])
        let allocated = Scalar.kernelGramSquareProduct(particles, n, m, wc.basePointer, m, kc.basePointer, xc.basePointer, y.storage.base)
        check(allocated, "squaredGramProduct: could not allocate the kernel's scratch memory (a few copies of w \(w.shape))")
        return y.checked("squared_gram_product")
    }

    /// y_p = x_pᵀ (G_p ∘ G_p) x_p = Σ_il G_il² x_i x_l with G_p = wᵀ diag(k_p) w, for `w` [n, m],
    /// `k` [P, n] and `x` [P, m]; returns [P]. (An RBM's ring trace tr A² with k = κ of one layer
    /// and x = κ of the other.)
    ///
    /// The value is `squaredGramProduct`'s fused kernel. So are the gradients in x and, when w
    /// is not tracked, in k (the same product over the other side); the gradient in w (and then
    /// k's) takes two GEMMs per particle (G, then w·(G ∘ x xᵀ)) instead of the composed
    /// expression's batched products and its [P, n, m] intermediates. A recorded backward
    /// (gradient of a gradient) is written in tape ops, so the rule can itself be differentiated.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    package static func squaredGramForm(_ w: Tensor, weights k: Tensor, _ x: Tensor) -> Tensor {
        let s = withoutGrad { squaredGramProduct(w.detached(), weights: k.detached(), x.detached()) }
        let value = withoutGrad { (x.detached() * s).sum(axis: 1) }
        guard tracks(w) || tracks(k) || tracks(x) else { return value.checked("squared_gram_form") }
        return value.attaching("squared_gram_form", [w, k, x]) { g in
            let gp = g.unsqueezed(1)
            if GradMode.isEnabled {
                let gram = composedGram(w, k)                                                                   // [P, m, m]
                let t = w.node == nil && k.node == nil ? nil : OnsagerCore.matmul(w, gram * x.unsqueezed(2) * x.unsqueezed(1))   // [P, n, m]
                return [w.node == nil ? nil : (t! * k.unsqueezed(2) * g.reshaped([-1, 1, 1])).sum(axis: 0) * 4,
                        k.node == nil ? nil : (w.unsqueezed(0) * t!).sum(axis: 2) * gp * 2,
                        x.node == nil ? nil : OnsagerCore.matmul(gram * gram, x.unsqueezed(2)).squeezed(2) * gp * 2]
            }
            // dL/dw = 4 Σ_p g_p diag(k_p) T_p and dL/dk_p = 2 g_p rowsum(w ∘ T_p), T_p = w (G_p ∘ x_p x_pᵀ).
            // Without w, dL/dk_p = 2 g_p Σ_q k_q E_jq² with E = w diag(x_p) wᵀ: the fused product
            // again, over the other side (cheaper than G and T's two full GEMMs).
            if w.node == nil {
                let dk = k.node == nil ? nil : squaredGramProduct(w.detached().transposed(), weights: x.detached(), k.detached()) * gp * 2
                return [nil, dk, x.node == nil ? nil : s * gp * 2]
            }
            var dw = Tensor.zeros(w.shape)
            var dk: [Tensor] = []
            let wd = w.detached().contiguous(), gs = g.scalars
            for p in 0..<x.shape[0] {
                let kp = k[p].detached(), xp = x[p].detached()
                let gram = OnsagerCore.matmul(wd.transposed(), wd * kp.unsqueezed(1))
                let t = OnsagerCore.matmul(wd, gram * xp.unsqueezed(1) * xp.unsqueezed(0))
                dw.addInPlace(t * kp.unsqueezed(1), alpha: 4 * gs[p])
                if k.node != nil { dk.append((wd * t).sum(axis: 1) * (2 * gs[p])) }
            }
            return [dw, k.node == nil ? nil : dk.isEmpty ? Tensor.zeros(k.shape) : stack(dk), x.node == nil ? nil : s * gp * 2]
        }.checked("squared_gram_form")
    }

    /// Every particle's G_p = wᵀ diag(k_p) w, [P, m, m], in tape ops (the composed expression).
    private static func composedGram(_ w: Tensor, _ k: Tensor) -> Tensor {
        OnsagerCore.matmul(w.transposed(), w.unsqueezed(0) * k.unsqueezed(2))
    }
}
