import COnsagerKernels

// The bridge from generic tensor code to the C kernels of the matching precision. Each entry
// tests the scalar type once (a constant in specialised code, one metadata comparison otherwise)
// and calls the vectorised loop, so generic code pays one call per operation, not per element.
// Package access: the library's targets use it; users never see it.

@inline(__always) private func f32(_ p: UnsafePointer<some TensorScalar>) -> UnsafePointer<Float> {
    UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
}
@inline(__always) private func f32(_ p: UnsafeMutablePointer<some TensorScalar>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}
@inline(__always) private func f64(_ p: UnsafePointer<some TensorScalar>) -> UnsafePointer<Double> {
    UnsafeRawPointer(p).assumingMemoryBound(to: Double.self)
}
@inline(__always) private func f64(_ p: UnsafeMutablePointer<some TensorScalar>) -> UnsafeMutablePointer<Double> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Double.self)
}

/// The geometry of sliding windows over [n, c, h, w] images: kernel, stride, padding.
package struct KernelWindowGeometry {
    package var n, c, h, w, kh, kw, sh, sw, ph, pw: Int
    package init(n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int, sh: Int, sw: Int, ph: Int, pw: Int) {
        (self.n, self.c, self.h, self.w, self.kh, self.kw, self.sh, self.sw, self.ph, self.pw) = (n, c, h, w, kh, kw, sh, sw, ph, pw)
    }
}

extension TensorScalar {
    @inline(__always) static var isFloat: Bool { Self.self == Float.self }

    @inline(__always) static func requireDouble() {
        if Self.self != Double.self { fatalError("TensorScalar: \(Self.self) is not supported; tensors hold Float or Double") }
    }

    /// y[i] = op(x[i]) on contiguous arrays.
    @inline(__always)
    package static func kernelUnary(_ op: Int32, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int) {
        if isFloat { onsager_unary_f32(op, f32(x), f32(y), n) } else { requireDouble(); onsager_unary_f64(op, f64(x), f64(y), n) }
    }

    /// y[i] = op(x[i]; p0, p1) (affine, clamp, leaky relu, power).
    @inline(__always)
    package static func kernelParamUnary(_ op: Int32, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int,
                                         _ p0: Double, _ p1: Double) {
        if isFloat { onsager_param_unary_f32(op, f32(x), f32(y), n, p0, p1) }
        else { requireDouble(); onsager_param_unary_f64(op, f64(x), f64(y), n, p0, p1) }
    }

    /// out = a op b, broadcast through strides.
    @inline(__always)
    package static func kernelBinary(_ op: Int32, _ rank: Int32, _ shape: UnsafePointer<Int>, _ a: UnsafePointer<Self>,
                                      _ sa: UnsafePointer<Int>, _ b: UnsafePointer<Self>, _ sb: UnsafePointer<Int>,
                                      _ out: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_binary_f32(op, rank, shape, f32(a), sa, f32(b), sb, f32(out)) }
        else { requireDouble(); onsager_binary_f64(op, rank, shape, f64(a), sa, f64(b), sb, f64(out)) }
    }

    /// out = c ≠ 0 ? a : b, broadcast through strides.
    @inline(__always)
    package static func kernelWhere(_ rank: Int32, _ shape: UnsafePointer<Int>, _ c: UnsafePointer<Self>, _ sc: UnsafePointer<Int>,
                                     _ a: UnsafePointer<Self>, _ sa: UnsafePointer<Int>, _ b: UnsafePointer<Self>, _ sb: UnsafePointer<Int>,
                                     _ out: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_where_f32(rank, shape, f32(c), sc, f32(a), sa, f32(b), sb, f32(out)) }
        else { requireDouble(); onsager_where_f64(rank, shape, f64(c), sc, f64(a), sa, f64(b), sb, f64(out)) }
    }

    /// Reduces a contiguous [outer, r, inner] array over r.
    @inline(__always)
    package static func kernelReduce(_ op: Int32, _ x: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>,
                                     _ outer: Int, _ r: Int, _ inner: Int) {
        if isFloat { onsager_reduce_f32(op, f32(x), f32(out), outer, r, inner) }
        else { requireDouble(); onsager_reduce_f64(op, f64(x), f64(out), outer, r, inner) }
    }

    /// C = alpha·op(A)·op(B) + beta·C with arbitrary strides for A and B.
    @inline(__always)
    package static func kernelGEMM(_ m: Int, _ n: Int, _ k: Int, _ alpha: Self, _ a: UnsafePointer<Self>, _ rsa: Int, _ csa: Int,
                                   _ b: UnsafePointer<Self>, _ rsb: Int, _ csb: Int, _ beta: Self, _ c: UnsafeMutablePointer<Self>,
                                   _ ldc: Int) {
        if isFloat {
            onsager_sgemm(m, n, k, Float(alpha), f32(a), rsa, csa, f32(b), rsb, csb, Float(beta), f32(c), ldc)
        } else {
            requireDouble()
            onsager_dgemm(m, n, k, Double(alpha), f64(a), rsa, csa, f64(b), rsb, csb, Double(beta), f64(c), ldc)
        }
    }

    /// C = alpha·op(A)·op(B) + bias (a row vector of n, added to every row as C is stored).
    @inline(__always)
    package static func kernelGEMMBias(_ m: Int, _ n: Int, _ k: Int, _ alpha: Self, _ a: UnsafePointer<Self>, _ rsa: Int, _ csa: Int,
                                       _ b: UnsafePointer<Self>, _ rsb: Int, _ csb: Int, _ bias: UnsafePointer<Self>,
                                       _ c: UnsafeMutablePointer<Self>, _ ldc: Int) {
        if isFloat {
            onsager_sgemm_bias(m, n, k, Float(alpha), f32(a), rsa, csa, f32(b), rsb, csb, f32(bias), f32(c), ldc)
        } else {
            requireDouble()
            onsager_dgemm_bias(m, n, k, Double(alpha), f64(a), rsa, csa, f64(b), rsb, csb, f64(bias), f64(c), ldc)
        }
    }

    /// C = max(alpha·op(A)·op(B) + bias, 0), bias optional: the ReLU applied by the GEMM as it
    /// finishes each block of C, as `relu()` would (NaN kept).
    @inline(__always)
    package static func kernelGEMMBiasReLU(_ m: Int, _ n: Int, _ k: Int, _ alpha: Self, _ a: UnsafePointer<Self>, _ rsa: Int, _ csa: Int,
                                           _ b: UnsafePointer<Self>, _ rsb: Int, _ csb: Int, _ bias: UnsafePointer<Self>?,
                                           _ c: UnsafeMutablePointer<Self>, _ ldc: Int) {
        if isFloat {
            onsager_sgemm_bias_relu(m, n, k, Float(alpha), f32(a), rsa, csa, f32(b), rsb, csb, bias.map { f32($0) }, f32(c), ldc)
        } else {
            requireDouble()
            onsager_dgemm_bias_relu(m, n, k, Double(alpha), f64(a), rsa, csa, f64(b), rsb, csb, bias.map { f64($0) }, f64(c), ldc)
        }
    }

    /// Index of the largest element of each row of a contiguous [rows, n] array.
    @inline(__always)
    package static func kernelArgmax(_ x: UnsafePointer<Self>, _ rows: Int, _ n: Int, _ out: UnsafeMutablePointer<Int>) {
        if isFloat { onsager_argmax_f32(f32(x), rows, n, out) } else { requireDouble(); onsager_argmax_f64(f64(x), rows, n, out) }
    }

    /// y += alpha·x.
    @inline(__always)
    package static func kernelAXPY(_ n: Int, _ alpha: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_axpy_f32(n, Float(alpha), f32(x), f32(y)) } else { requireDouble(); onsager_axpy_f64(n, Double(alpha), f64(x), f64(y)) }
    }

    /// One optimizer step on n contiguous elements (see `UpdateRule`); absent state is nil.
    package static func kernelUpdate(_ rule: UnsafePointer<onsager_update_rule>, _ n: Int, _ p: UnsafeMutablePointer<Self>,
                                     _ g: UnsafePointer<Self>, _ s0: UnsafeMutablePointer<Self>?, _ s1: UnsafeMutablePointer<Self>?,
                                     _ s2: UnsafeMutablePointer<Self>?) {
        if isFloat {
            onsager_update_f32(rule, n, f32(p), f32(g), s0.map(f32), s1.map(f32), s2.map(f32))
        } else {
            requireDouble()
            onsager_update_f64(rule, n, f64(p), f64(g), s0.map(f64), s1.map(f64), s2.map(f64))
        }
    }

    /// Softmax of contiguous rows [rows, n].
    package static func kernelSoftmaxRows(_ x: UnsafePointer<Self>, _ rows: Int, _ n: Int, _ y: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_softmax_rows_f32(f32(x), rows, n, f32(y)) } else { requireDouble(); onsager_softmax_rows_f64(f64(x), rows, n, f64(y)) }
    }
    /// Softmax's backward on contiguous rows: gx = y ⊙ (g − Σ g⊙y).
    package static func kernelSoftmaxRowsBackward(_ y: UnsafePointer<Self>, _ g: UnsafePointer<Self>, _ rows: Int, _ n: Int,
                                                  _ gx: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_softmax_rows_backward_f32(f32(y), f32(g), rows, n, f32(gx)) }
        else { requireDouble(); onsager_softmax_rows_backward_f64(f64(y), f64(g), rows, n, f64(gx)) }
    }

    /// Log-softmax of contiguous rows [rows, n].
    package static func kernelLogSoftmaxRows(_ x: UnsafePointer<Self>, _ rows: Int, _ n: Int, _ y: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_log_softmax_rows_f32(f32(x), rows, n, f32(y)) }
        else { requireDouble(); onsager_log_softmax_rows_f64(f64(x), rows, n, f64(y)) }
    }
    /// Log-softmax's backward on contiguous rows.
    package static func kernelLogSoftmaxRowsBackward(_ y: UnsafePointer<Self>, _ g: UnsafePointer<Self>, _ rows: Int, _ n: Int,
                                                     _ gx: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_log_softmax_rows_backward_f32(f32(y), f32(g), rows, n, f32(gx)) }
        else { requireDouble(); onsager_log_softmax_rows_backward_f64(f64(y), f64(g), rows, n, f64(gx)) }
    }

    /// Contiguous rows [rows, n] normalised to mean 0 and variance 1, with 1/√(σ² + eps) per row.
    package static func kernelNormalizeRows(_ x: UnsafePointer<Self>, _ rows: Int, _ n: Int, _ eps: Self,
                                            _ y: UnsafeMutablePointer<Self>, _ rstd: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_normalize_rows_f32(f32(x), rows, n, Float(eps), f32(y), f32(rstd)) }
        else { requireDouble(); onsager_normalize_rows_f64(f64(x), rows, n, Double(eps), f64(y), f64(rstd)) }
    }
    /// The normalisation's backward on contiguous rows.
    package static func kernelNormalizeRowsBackward(_ y: UnsafePointer<Self>, _ rstd: UnsafePointer<Self>, _ g: UnsafePointer<Self>,
                                                    _ rows: Int, _ n: Int, _ gx: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_normalize_rows_backward_f32(f32(y), f32(rstd), f32(g), rows, n, f32(gx)) }
        else { requireDouble(); onsager_normalize_rows_backward_f64(f64(y), f64(rstd), f64(g), rows, n, f64(gx)) }
    }

    /// Layer normalisation with its affine map: xhat the normalised rows (with rstd per row) and
    /// y = xhat·gamma + beta, in one pass per row.
    package static func kernelNormalizeRowsAffine(_ x: UnsafePointer<Self>, _ rows: Int, _ n: Int, _ eps: Self,
                                                  _ gamma: UnsafePointer<Self>, _ beta: UnsafePointer<Self>,
                                                  _ xhat: UnsafeMutablePointer<Self>, _ rstd: UnsafeMutablePointer<Self>,
                                                  _ y: UnsafeMutablePointer<Self>) {
        if isFloat {
            onsager_normalize_rows_affine_f32(f32(x), rows, n, Float(eps), f32(gamma), f32(beta), f32(xhat), f32(rstd), f32(y))
        } else {
            requireDouble()
            onsager_normalize_rows_affine_f64(f64(x), rows, n, Double(eps), f64(gamma), f64(beta), f64(xhat), f64(rstd), f64(y))
        }
    }
    /// Its backward to x: the normalisation's backward of g·gamma.
    package static func kernelNormalizeRowsAffineBackward(_ xhat: UnsafePointer<Self>, _ rstd: UnsafePointer<Self>,
                                                          _ g: UnsafePointer<Self>, _ gamma: UnsafePointer<Self>,
                                                          _ rows: Int, _ n: Int, _ gx: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_normalize_rows_affine_backward_f32(f32(xhat), f32(rstd), f32(g), f32(gamma), rows, n, f32(gx)) }
        else { requireDouble(); onsager_normalize_rows_affine_backward_f64(f64(xhat), f64(rstd), f64(g), f64(gamma), rows, n, f64(gx)) }
    }

    /// Layer normalisation's dγ = Σ g ⊙ xhat and dβ = Σ g over rows (either may be nil).
    package static func kernelLayerNormParamGrads(_ xhat: UnsafePointer<Self>, _ g: UnsafePointer<Self>, _ rows: Int, _ n: Int,
                                                  _ dgamma: UnsafeMutablePointer<Self>?, _ dbeta: UnsafeMutablePointer<Self>?) {
        if isFloat { onsager_layer_norm_param_grads_f32(f32(xhat), f32(g), rows, n, dgamma.map { f32($0) }, dbeta.map { f32($0) }) }
        else { requireDouble(); onsager_layer_norm_param_grads_f64(f64(xhat), f64(g), rows, n, dgamma.map { f64($0) }, dbeta.map { f64($0) }) }
    }

    /// Batch normalisation of x viewed as [n, c, l] per channel: y = (x − μ)·r·γ + β, with μ, r =
    /// 1/√(σ² + eps) and the biased σ² written per channel.
    package static func kernelNormalizeChannels(_ x: UnsafePointer<Self>, _ n: Int, _ c: Int, _ l: Int, _ eps: Self,
                                                _ gamma: UnsafePointer<Self>, _ beta: UnsafePointer<Self>,
                                                _ y: UnsafeMutablePointer<Self>, _ mean: UnsafeMutablePointer<Self>,
                                                _ rstd: UnsafeMutablePointer<Self>, _ variance: UnsafeMutablePointer<Self>) {
        if isFloat {
            onsager_normalize_channels_f32(f32(x), n, c, l, Float(eps), f32(gamma), f32(beta), f32(y), f32(mean), f32(rstd), f32(variance))
        } else {
            requireDouble()
            onsager_normalize_channels_f64(f64(x), n, c, l, Double(eps), f64(gamma), f64(beta), f64(y), f64(mean), f64(rstd), f64(variance))
        }
    }
    /// Its backward: gx, dγ and dβ, each skipped when nil.
    package static func kernelNormalizeChannelsBackward(_ x: UnsafePointer<Self>, _ g: UnsafePointer<Self>, _ n: Int, _ c: Int,
                                                        _ l: Int, _ gamma: UnsafePointer<Self>, _ mean: UnsafePointer<Self>,
                                                        _ rstd: UnsafePointer<Self>, _ gx: UnsafeMutablePointer<Self>?,
                                                        _ dgamma: UnsafeMutablePointer<Self>?, _ dbeta: UnsafeMutablePointer<Self>?) {
        if isFloat {
            onsager_normalize_channels_backward_f32(f32(x), f32(g), n, c, l, f32(gamma), f32(mean), f32(rstd),
                                                    gx.map { f32($0) }, dgamma.map { f32($0) }, dbeta.map { f32($0) })
        } else {
            requireDouble()
            onsager_normalize_channels_backward_f64(f64(x), f64(g), n, c, l, f64(gamma), f64(mean), f64(rstd),
                                                    gx.map { f64($0) }, dgamma.map { f64($0) }, dbeta.map { f64($0) })
        }
    }

    /// Number of NaN/Inf elements.
    @inline(__always)
    package static func kernelCountNonFinite(_ x: UnsafePointer<Self>, _ n: Int) -> Int {
        if isFloat { return onsager_count_nonfinite_f32(f32(x), n) }
        requireDouble()
        return onsager_count_nonfinite_f64(f64(x), n)
    }

    /// Counter-based uniform values in [lo, hi).
    @inline(__always)
    package static func kernelRandomUniform(_ seed: UInt64, _ counter: UInt64, _ out: UnsafeMutablePointer<Self>, _ n: Int,
                                            _ lo: Self, _ hi: Self) {
        if isFloat { onsager_rand_uniform_f32(seed, counter, f32(out), n, Float(lo), Float(hi)) }
        else { requireDouble(); onsager_rand_uniform_f64(seed, counter, f64(out), n, Double(lo), Double(hi)) }
    }

    /// Counter-based normal values.
    @inline(__always)
    package static func kernelRandomNormal(_ seed: UInt64, _ counter: UInt64, _ out: UnsafeMutablePointer<Self>, _ n: Int,
                                           _ mean: Self, _ std: Self) {
        if isFloat { onsager_rand_normal_f32(seed, counter, f32(out), n, Float(mean), Float(std)) }
        else { requireDouble(); onsager_rand_normal_f64(seed, counter, f64(out), n, Double(mean), Double(std)) }
    }

    /// Counter-based 0/1 samples with P(1) = p[i].
    @inline(__always)
    package static func kernelRandomBernoulli(_ seed: UInt64, _ counter: UInt64, _ p: UnsafePointer<Self>,
                                              _ out: UnsafeMutablePointer<Self>, _ n: Int) {
        if isFloat { onsager_rand_bernoulli_f32(seed, counter, f32(p), f32(out), n) }
        else { requireDouble(); onsager_rand_bernoulli_f64(seed, counter, f64(p), f64(out), n) }
    }

    /// Counter-based 0/1 samples with P(1) = σ(x[i]), identical to `kernelRandomBernoulli` on σ(x).
    @inline(__always)
    package static func kernelRandomBernoulliLogits(_ seed: UInt64, _ counter: UInt64, _ x: UnsafePointer<Self>,
                                                    _ out: UnsafeMutablePointer<Self>, _ n: Int) {
        if isFloat { onsager_rand_bernoulli_logits_f32(seed, counter, f32(x), f32(out), n) }
        else { requireDouble(); onsager_rand_bernoulli_logits_f64(seed, counter, f64(x), f64(out), n) }
    }

    /// Row sums of softplus over a contiguous [rows, n] array, and σ of every element.
    @inline(__always)
    package static func kernelSoftplusRowSum(_ x: UnsafePointer<Self>, _ rows: Int, _ n: Int,
                                             _ sum: UnsafeMutablePointer<Self>, _ sigmoid: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_softplus_rowsum_f32(f32(x), rows, n, f32(sum), f32(sigmoid)) }
        else { requireDouble(); onsager_softplus_rowsum_f64(f64(x), rows, n, f64(sum), f64(sigmoid)) }
    }

    /// y_p = (G_p ∘ G_p) x_p, G_p = wᵀ diag(k_p) w, for p < particles (w [n, m] with rows ldw
    /// apart; k, x, y contiguous). False when the kernel's scratch memory could not be allocated.
    @inline(__always)
    package static func kernelGramSquareProduct(_ particles: Int, _ n: Int, _ m: Int, _ w: UnsafePointer<Self>, _ ldw: Int,
                                                _ k: UnsafePointer<Self>, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>) -> Bool {
        if isFloat { return onsager_gram_square_product_f32(particles, n, m, f32(w), ldw, f32(k), f32(x), f32(y)) == 0 }
        requireDouble()
        return onsager_gram_square_product_f64(particles, n, m, f64(w), ldw, f64(k), f64(x), f64(y)) == 0
    }

    /// cols [n, c·kh·kw, oh·ow] = the windows of x [n, c, h, w] as columns (torch's unfold layout).
    @inline(__always)
    package static func kernelUnfold2d(_ x: UnsafePointer<Self>, _ g: KernelWindowGeometry, _ cols: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_unfold2d_f32(f32(x), g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, f32(cols)) }
        else { requireDouble(); onsager_unfold2d_f64(f64(x), g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, f64(cols)) }
    }

    /// x [n, c, h, w] = the columns of cols summed back where they were read (their unfold's adjoint).
    @inline(__always)
    package static func kernelFold2d(_ cols: UnsafePointer<Self>, _ g: KernelWindowGeometry, _ x: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_fold2d_f32(f32(cols), g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, f32(x)) }
        else { requireDouble(); onsager_fold2d_f64(f64(cols), g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, f64(x)) }
    }

    /// y [n, o, oh·ow] = w2 [o, c·kh·kw] · each image's columns (+ bias [o] per channel; with
    /// `relu`, then max(·, 0); with `pool`, then max-pooled into `pooled`), one image at a time.
    /// False when scratch memory could not be allocated.
    @inline(__always)
    package static func kernelConv2d(_ x: UnsafePointer<Self>, _ w2: UnsafePointer<Self>, _ bias: UnsafePointer<Self>?, _ o: Int,
                                     _ g: KernelWindowGeometry, relu: Bool, _ y: UnsafeMutablePointer<Self>,
                                     pool: onsager_pool2d? = nil, pooled: UnsafeMutablePointer<Self>? = nil) -> Bool {
        let r: Int32 = relu ? 1 : 0
        return withUnsafePointer(to: pool ?? onsager_pool2d()) { pp in
            let p = pool == nil ? nil : pp
            if isFloat {
                return onsager_conv2d_f32(f32(x), f32(w2), bias.map { f32($0) }, g.n, g.c, g.h, g.w, o, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw,
                                          r, f32(y), p, pooled.map { f32($0) }) == 0
            }
            requireDouble()
            return onsager_conv2d_f64(f64(x), f64(w2), bias.map { f64($0) }, g.n, g.c, g.h, g.w, o, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw,
                                      r, f64(y), p, pooled.map { f64($0) }) == 0
        }
    }

    /// The convolution's gradients from gr [n, o, oh·ow] (or, with `pool`, from `gpool` [n, o,
    /// poh, pow] routed to the maxima of `mask`, whose pooling is `pooled`), first masked by
    /// `mask` > 0 (the output of a fused relu) when given: dx [n, c, h, w], the per-image weight
    /// gradients dw [n, o, c·kh·kw] and the per-image bias gradients db [n, o] (each nil to skip).
    /// False when scratch memory could not be allocated.
    @inline(__always)
    package static func kernelConv2dBackward(_ x: UnsafePointer<Self>, _ w2: UnsafePointer<Self>, _ gr: UnsafePointer<Self>?,
                                             mask: UnsafePointer<Self>?, _ o: Int, _ g: KernelWindowGeometry,
                                             _ dx: UnsafeMutablePointer<Self>?, _ dw: UnsafeMutablePointer<Self>?,
                                             _ db: UnsafeMutablePointer<Self>?, pool: onsager_pool2d? = nil,
                                             pooled: UnsafePointer<Self>? = nil, gpool: UnsafePointer<Self>? = nil) -> Bool {
        withUnsafePointer(to: pool ?? onsager_pool2d()) { pp in
            let p = pool == nil ? nil : pp
            if isFloat {
                return onsager_conv2d_backward_f32(f32(x), f32(w2), gr.map { f32($0) }, mask.map { f32($0) }, g.n, g.c, g.h, g.w, o, g.kh, g.kw,
                                                   g.sh, g.sw, g.ph, g.pw, dx.map { f32($0) }, dw.map { f32($0) }, db.map { f32($0) },
                                                   p, pooled.map { f32($0) }, gpool.map { f32($0) }) == 0
            }
            requireDouble()
            return onsager_conv2d_backward_f64(f64(x), f64(w2), gr.map { f64($0) }, mask.map { f64($0) }, g.n, g.c, g.h, g.w, o, g.kh, g.kw,
                                               g.sh, g.sw, g.ph, g.pw, dx.map { f64($0) }, dw.map { f64($0) }, db.map { f64($0) },
                                               p, pooled.map { f64($0) }, gpool.map { f64($0) }) == 0
        }
    }

    /// y [planes, oh, ow] = the windows' maxima of x [planes, h, w] (`g.n` planes; no padding).
    @inline(__always)
    package static func kernelMaxPool2d(_ x: UnsafePointer<Self>, _ g: KernelWindowGeometry, _ y: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_maxpool2d_f32(f32(x), g.n, g.h, g.w, g.kh, g.kw, g.sh, g.sw, f32(y)) }
        else { requireDouble(); onsager_maxpool2d_f64(f64(x), g.n, g.h, g.w, g.kh, g.kw, g.sh, g.sw, f64(y)) }
    }

    /// dx [planes, h, w] = each window's gradient g shared among its maxima y.
    @inline(__always)
    package static func kernelMaxPool2dRoute(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, _ gr: UnsafePointer<Self>,
                                             _ g: KernelWindowGeometry, _ dx: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_maxpool2d_route_f32(f32(x), f32(y), f32(gr), g.n, g.h, g.w, g.kh, g.kw, g.sh, g.sw, f32(dx)) }
        else { requireDouble(); onsager_maxpool2d_route_f64(f64(x), f64(y), f64(gr), g.n, g.h, g.w, g.kh, g.kw, g.sh, g.sw, f64(dx)) }
    }

    /// out [planes, oh, ow] = the routing's adjoint: each window's mean of gg over its maxima.
    @inline(__always)
    package static func kernelMaxPool2dGather(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, _ gg: UnsafePointer<Self>,
                                              _ g: KernelWindowGeometry, _ out: UnsafeMutablePointer<Self>) {
        if isFloat { onsager_maxpool2d_gather_f32(f32(x), f32(y), f32(gg), g.n, g.h, g.w, g.kh, g.kw, g.sh, g.sw, f32(out)) }
        else { requireDouble(); onsager_maxpool2d_gather_f64(f64(x), f64(y), f64(gg), g.n, g.h, g.w, g.kh, g.kw, g.sh, g.sw, f64(out)) }
    }
}
