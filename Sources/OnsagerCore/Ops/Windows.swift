// Sliding windows over the last two dimensions of [N, C, H, W] images, the one primitive behind
// convolution and average pooling: a kernel that copies each window into a column (`unfold2d`,
// padding read as zeros) and its adjoint that sums the columns back (`fold2d`), each the other's
// gradient, so second derivatives come for free; windows as rows (`slidingWindows2d`) are the
// columns transposed. Max pooling has kernels of its own (windows.c), so that a pooled layer
// never materialises its windows.
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
    /// `torch.nn.Conv2d` weight row; OH = (H + 2·ph − kh) / sh + 1, and likewise OW. These are
    /// `unfold2d`'s columns as rows (one transposing copy); its gradient is `foldedWindows2d`.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func slidingWindows2d(kernel: (height: Int, width: Int), stride: (height: Int, width: Int),
                                 padding: (height: Int, width: Int) = (0, 0)) -> Tensor {
        check(rank == 4, "slidingWindows2d: input must be [N, C, H, W], got \(shape)")
        let g = Self.windowGeometry("slidingWindows2d", shape, kernel, stride, padding)
        let (oh, ow) = Self.windowCounts(g)
        return unfold2d(self, kernel: kernel, stride: stride, padding: padding).transposed(1, 2).reshaped([g.n, oh, ow, g.c * g.kh * g.kw])
    }

    /// The adjoint of `slidingWindows2d`: `self` [N, OH, OW, C·kh·kw] holds one row per window of
    /// images of `imageShape` [N, C, H, W]; each row is added back where its window was read
    /// (what falls on the padding is dropped), by `fold2d` on the rows as columns. The gradient
    /// of windows, and of overlapping windows summed.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func foldedWindows2d(imageShape: [Int], kernel: (height: Int, width: Int), stride: (height: Int, width: Int),
                                padding: (height: Int, width: Int) = (0, 0)) -> Tensor {
        check(imageShape.count == 4, "foldedWindows2d: imageShape must be [N, C, H, W], got \(imageShape)")
        let g = Self.windowGeometry("foldedWindows2d", imageShape, kernel, stride, padding)
        let (oh, ow) = Self.windowCounts(g)
        let expected = [g.n, oh, ow, g.c * g.kh * g.kw]
        check(shape == expected, "foldedWindows2d: the windows of images \(imageShape) (kernel \(kernel), stride \(stride), padding \(padding)) have shape \(expected), got \(shape)")
        return fold2d(reshaped([g.n, oh * ow, expected[3]]).transposed(1, 2), outputSize: (imageShape[2], imageShape[3]),
                      kernel: kernel, stride: stride, padding: padding)
    }

    /// Checks a window geometry over images of `shape` and returns it.
    static func windowGeometry(_ op: String, _ shape: [Int], _ kernel: (height: Int, width: Int), _ stride: (height: Int, width: Int),
                               _ padding: (height: Int, width: Int)) -> KernelWindowGeometry {
        let (kh, kw) = kernel, (sh, sw) = stride, (ph, pw) = padding
        check(kh > 0 && kw > 0 && sh > 0 && sw > 0, "\(op): kernel \(kernel) and stride \(stride) must be positive")
        check(ph >= 0 && pw >= 0, "\(op): padding must be non-negative, got (\(ph), \(pw))")
        check(shape.allSatisfy { $0 >= 0 }, "\(op): negative dimension in \(shape)")
        let (h, w) = (shape[2] + 2 * ph, shape[3] + 2 * pw)
        check(h >= kh && w >= kw, "\(op): kernel \(kh)×\(kw) is larger than the padded input \(h)×\(w) (input \(shape))")
        return .init(n: shape[0], c: shape[1], h: shape[2], w: shape[3], kh: kh, kw: kw, sh: sh, sw: sw, ph: ph, pw: pw)
    }

    /// OH and OW of a checked geometry.
    static func windowCounts(_ g: KernelWindowGeometry) -> (Int, Int) {
        ((g.h + 2 * g.ph - g.kh) / g.sh + 1, (g.w + 2 * g.pw - g.kw) / g.sw + 1)
    }
}

/// The kernel-sized windows of `x` [N, C, H, W] (zero-padded by `padding`) as columns,
/// [N, C·kh·kw, OH·OW]: row (c, i, j) holds that element of every window, windows in row-major
/// order — `torch.nn.functional.unfold`. A convolution is then one product per image,
/// weight [O, C·kh·kw] · columns. Its gradient is `fold2d`, the adjoint.
@_specialize(where S == Float) @_specialize(where S == Double)
public func unfold2d<S: TensorScalar>(_ x: Tensor<S>, kernel: (height: Int, width: Int), stride: (height: Int, width: Int) = (1, 1),
                                      padding: (height: Int, width: Int) = (0, 0)) -> Tensor<S> {
    check(x.rank == 4, "unfold2d: input must be [N, C, H, W], got \(x.shape)")
    let g = Tensor<S>.windowGeometry("unfold2d", x.shape, kernel, stride, padding)
    let (oh, ow) = Tensor<S>.windowCounts(g)
    let xv = x.contiguousValue()
    let out = Tensor<S>(uninitializedShape: [g.n, g.c * g.kh * g.kw, oh * ow])
    if out.scalarCount > 0 { withExtendedLifetime(xv) { S.kernelUnfold2d(xv.basePointer, g, out.storage.base) } }
    guard Tensor<S>.tracks(x) else { return out }
    let size = (x.shape[2], x.shape[3])
    return out.attaching("unfold2d", x) { grad in fold2d(grad, outputSize: size, kernel: kernel, stride: stride, padding: padding) }
}

/// The adjoint of `unfold2d` (`torch.nn.functional.fold`): `columns` [N, C·kh·kw, L] holds the
/// windows of images of `outputSize` as columns; each is added back where its window was read
/// (what falls on the padding is dropped), giving [N, C, H, W]. L must be the number of windows.
@_specialize(where S == Float) @_specialize(where S == Double)
public func fold2d<S: TensorScalar>(_ columns: Tensor<S>, outputSize: (height: Int, width: Int), kernel: (height: Int, width: Int),
                                    stride: (height: Int, width: Int) = (1, 1), padding: (height: Int, width: Int) = (0, 0)) -> Tensor<S> {
    check(columns.rank == 3, "fold2d: columns must be [N, C·kh·kw, L], got \(columns.shape)")
    let kk = kernel.height * kernel.width
    check(kk > 0 && columns.shape[1] % kk == 0,
          "fold2d: columns \(columns.shape) do not hold whole kernels of \(kernel.height)×\(kernel.width) in dimension 1")
    let imageShape = [columns.shape[0], columns.shape[1] / kk, outputSize.height, outputSize.width]
    let g = Tensor<S>.windowGeometry("fold2d", imageShape, kernel, stride, padding)
    let (oh, ow) = Tensor<S>.windowCounts(g)
    check(columns.shape[2] == oh * ow,
          "fold2d: images of \(outputSize.height)×\(outputSize.width) (kernel \(kernel), stride \(stride), padding \(padding)) have \(oh * ow) windows, but columns \(columns.shape) hold \(columns.shape[2])")
    let cv = columns.contiguousValue()
    let out = Tensor<S>(uninitializedShape: imageShape)
    if out.scalarCount > 0 { withExtendedLifetime(cv) { S.kernelFold2d(cv.basePointer, g, out.storage.base) } }
    guard Tensor<S>.tracks(columns) else { return out }
    return out.attaching("fold2d", columns) { grad in unfold2d(grad, kernel: kernel, stride: stride, padding: padding) }
}

/// Max pooling of `x` [N, C, H, W] over kernel-sized windows (`torch.nn.functional.max_pool2d`;
/// stride defaults to the kernel). The gradient of a window is shared equally among tied maxima
/// (PyTorch gives it all to one of them); a NaN in a window is its maximum, as with `max`.
@_specialize(where S == Float) @_specialize(where S == Double)
public func maxPool2d<S: TensorScalar>(_ x: Tensor<S>, kernel: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil) -> Tensor<S> {
    check(x.rank == 4, "maxPool2d: input must be [N, C, H, W], got \(x.shape)")
    let stride = stride ?? kernel
    let (n, c) = (x.shape[0], x.shape[1])
    // Channels as planes of their own: a window holds one channel's kernel.
    var g = Tensor<S>.windowGeometry("maxPool2d", x.shape, kernel, stride, (0, 0))
    (g.n, g.c) = (n * c, 1)
    let (oh, ow) = Tensor<S>.windowCounts(g)
    let xv = x.contiguousValue()
    let y = Tensor<S>(uninitializedShape: [n, c, oh, ow])
    if y.scalarCount > 0 { withExtendedLifetime(xv) { S.kernelMaxPool2d(xv.basePointer, g, y.storage.base) } }
    guard Tensor<S>.tracks(x) else { return y.checked("max_pool2d") }
    return y.attaching("max_pool2d", x) { grad in maxPoolGradient(grad, routing: true, x: xv, y: y, g) }.checked("max_pool2d")
}

/// Max pooling's gradient and its adjoint, each the other's derivative (x and its window maxima y
/// are constants here). Routing takes each window's gradient [N, C, OH, OW] to the elements of x
/// equal to its maximum, shared equally; gathering takes [N, C, H, W] back to each window's mean
/// over its maxima. (Also the recorded backward of conv2dReLUMaxPool.)
func maxPoolGradient<S: TensorScalar>(_ t: Tensor<S>, routing: Bool, x: Tensor<S>, y: Tensor<S>, _ g: KernelWindowGeometry) -> Tensor<S> {
    let tv = t.contiguousValue()
    let out = Tensor<S>(uninitializedShape: routing ? x.shape : y.shape)
    if out.scalarCount > 0 {
        withExtendedLifetime((x, y, tv)) {
            if routing { S.kernelMaxPool2dRoute(x.basePointer, y.basePointer, tv.basePointer, g, out.storage.base) }
            else { S.kernelMaxPool2dGather(x.basePointer, y.basePointer, tv.basePointer, g, out.storage.base) }
        }
    }
    guard Tensor<S>.tracks(t) else { return out }
    return out.attaching(routing ? "max_pool2d_backward" : "max_pool2d_backward_adjoint", t) { t2 in
        maxPoolGradient(t2, routing: !routing, x: x, y: y, g)
    }
}

/// Average pooling of `x` [N, C, H, W] over kernel-sized windows (`torch.nn.functional.avg_pool2d`;
/// stride defaults to the kernel): each channel's windows as columns (`unfold2d` over the
/// channels as images of their own), averaged over the kernel's elements.
@_specialize(where S == Float) @_specialize(where S == Double)
public func avgPool2d<S: TensorScalar>(_ x: Tensor<S>, kernel: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil) -> Tensor<S> {
    check(x.rank == 4, "avgPool2d: input must be [N, C, H, W], got \(x.shape)")
    let stride = stride ?? kernel
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (oh, ow) = Tensor<S>.windowCounts(Tensor<S>.windowGeometry("avgPool2d", x.shape, kernel, stride, (0, 0)))
    return unfold2d(x.reshaped([n * c, 1, h, w]), kernel: kernel, stride: stride).mean(axis: 1).reshaped([n, c, oh, ow])
}
