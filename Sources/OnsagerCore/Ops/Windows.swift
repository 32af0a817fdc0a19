// Sliding windows over the last two dimensions of [N, C, H, W] images, the one primitive behind
// convolution and pooling. It is a gather (`take`) from a zero-padded copy (`putAdd`), so its
// gradient is the adjoint scatter and second derivatives come for free.
extension Tensor {
    /// `self` [N, C, H, W] with `padding` zeros added on each side of H and W.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func zeroPadded2d(_ padding: (height: Int, width: Int)) -> Tensor {
        check(rank == 4, "zeroPadded2d: input must be [N, C, H, W], got \(shape)")
        let (ph, pw) = padding
        check(ph >= 0 && pw >= 0, "zeroPadded2d: padding must be non-negative, got (\(ph), \(pw))")
        if ph == 0 && pw == 0 { return self }
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let hp = h + 2 * ph, wp = w + 2 * pw
        var offsets = [Int]()
        offsets.reserveCapacity(scalarCount)
        for plane in 0..<(n * c) {
            for i in 0..<h { for j in 0..<w { offsets.append((plane * hp + i + ph) * wp + j + pw) } }
        }
        return contiguous().putAdd(offsets: offsets, shape: [n, c, hp, wp])
    }

    /// The kernel-sized windows of `self` [N, C, H, W] (zero-padded by `padding`), as
    /// [N, OH, OW, C·kh·kw] with the window's elements in (c, i, j) order, the layout of a
    /// `torch.nn.Conv2d` weight row; OH = (H + 2·ph − kh) / sh + 1, and likewise OW.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func slidingWindows2d(kernel: (height: Int, width: Int), stride: (height: Int, width: Int),
                                 padding: (height: Int, width: Int) = (0, 0)) -> Tensor {
        check(rank == 4, "slidingWindows2d: input must be [N, C, H, W], got \(shape)")
        let (kh, kw) = kernel, (sh, sw) = stride
        check(kh > 0 && kw > 0 && sh > 0 && sw > 0, "slidingWindows2d: kernel \(kernel) and stride \(stride) must be positive")
        let x = zeroPadded2d(padding)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        check(h >= kh && w >= kw, "slidingWindows2d: kernel \(kh)×\(kw) is larger than the padded input \(h)×\(w) (input \(shape))")
        let oh = (h - kh) / sh + 1, ow = (w - kw) / sw + 1
        let window = c * kh * kw
        var offsets = [Int](repeating: 0, count: n * oh * ow * window)
        offsets.withUnsafeMutableBufferPointer { o in
            var k = 0
            for b in 0..<n {
                for i in 0..<oh {
                    for j in 0..<ow {
                        for ch in 0..<c {
                            let base = ((b * c + ch) * h + i * sh) * w + j * sw
                            for di in 0..<kh {
                                for dj in 0..<kw { o[k] = base + di * w + dj; k += 1 }
                            }
                        }
                    }
                }
            }
        }
        return x.contiguous().take(offsets: offsets, shape: [n, oh, ow, window])
    }
}

/// 2-D convolution (cross-correlation, as `torch.nn.functional.conv2d`) of `x` [N, C, H, W] with
/// `weight` [O, C, kh, kw] and optional `bias` [O]: the windows times the weight rows on the GEMM.
@_specialize(where S == Float) @_specialize(where S == Double)
public func conv2d<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>? = nil,
                                    stride: (height: Int, width: Int) = (1, 1), padding: (height: Int, width: Int) = (0, 0)) -> Tensor<S> {
    check(weight.rank == 4, "conv2d: weight must be [out, in, kh, kw], got \(weight.shape)")
    check(x.rank == 4 && x.shape[1] == weight.shape[1], "conv2d: input \(x.shape) does not have the weight's \(weight.shape[1]) channels (weight \(weight.shape))")
    let windows = x.slidingWindows2d(kernel: (weight.shape[2], weight.shape[3]), stride: stride, padding: padding)
    let (n, oh, ow) = (windows.shape[0], windows.shape[1], windows.shape[2])
    let y = linear(windows.reshaped([n * oh * ow, -1]), weight: weight.reshaped([weight.shape[0], -1]), bias: bias)
    return y.reshaped([n, oh, ow, weight.shape[0]]).permuted([0, 3, 1, 2]).contiguous()
}

/// Max pooling of `x` [N, C, H, W] over kernel-sized windows (`torch.nn.functional.max_pool2d`;
/// stride defaults to the kernel). The gradient of a window is shared equally among tied maxima
/// (PyTorch gives it all to one of them).
@_specialize(where S == Float) @_specialize(where S == Double)
public func maxPool2d<S: TensorScalar>(_ x: Tensor<S>, kernel: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil) -> Tensor<S> {
    pooled(x, kernel: kernel, stride: stride ?? kernel) { $0.max(axis: -1) }
}

/// Average pooling of `x` [N, C, H, W] over kernel-sized windows (`torch.nn.functional.avg_pool2d`;
/// stride defaults to the kernel).
@_specialize(where S == Float) @_specialize(where S == Double)
public func avgPool2d<S: TensorScalar>(_ x: Tensor<S>, kernel: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil) -> Tensor<S> {
    pooled(x, kernel: kernel, stride: stride ?? kernel) { $0.mean(axis: -1) }
}

/// Each channel's windows reduced by `reduce` over the last axis, back in [N, C, OH, OW].
private func pooled<S: TensorScalar>(_ x: Tensor<S>, kernel: (height: Int, width: Int), stride: (height: Int, width: Int),
                                     _ reduce: (Tensor<S>) -> Tensor<S>) -> Tensor<S> {
    check(x.rank == 4, "pooling: input must be [N, C, H, W], got \(x.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    // Channels as images of one channel each, so a window holds one channel's kernel.
    let windows = x.reshaped([n * c, 1, h, w]).slidingWindows2d(kernel: kernel, stride: stride)
    let (oh, ow) = (windows.shape[1], windows.shape[2])
    return reduce(windows).reshaped([n, c, oh, ow])
}
