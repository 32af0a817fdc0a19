import COnsagerKernels

/// 2-D convolution (cross-correlation, as `torch.nn.functional.conv2d`) of `x` [N, C, H, W] with
/// `weight` [O, C, kh, kw] and optional `bias` [O]: per image, the weight rows times the image's
/// windows as columns (`unfold2d`), which is the image's [O, OH, OW] in place, on the GEMM.
///
/// The value and the gradients run one image at a time, each image's columns in a scratch
/// buffer that stays in cache (conv2d.c); they equal, bit for bit, the composed expression
/// `matmul(weight.reshaped([O, -1]), unfold2d(x, …)) + bias`, whose products and window kernels
/// they call. A recorded backward (gradients of gradients) is that expression's, on the tape.
@_specialize(where S == Float) @_specialize(where S == Double)
public func conv2d<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>? = nil,
                                    stride: (height: Int, width: Int) = (1, 1), padding: (height: Int, width: Int) = (0, 0)) -> Tensor<S> {
    check(weight.rank == 4, "conv2d: weight must be [out, in, kh, kw], got \(weight.shape)")
    check(x.rank == 4, "conv2d: input must be [N, C, H, W], got \(x.shape)")
    check(x.shape[1] == weight.shape[1], "conv2d: input \(x.shape) does not have the weight's \(weight.shape[1]) channels (weight \(weight.shape))")
    let o = weight.shape[0]
    if let bias { check(bias.shape == [o], "conv2d: bias \(bias.shape) for weight \(weight.shape)") }
    let kernel = (weight.shape[2], weight.shape[3])
    let geometry = Tensor<S>.windowGeometry("conv2d", x.shape, kernel, stride, padding)
    let (oh, ow) = Tensor<S>.windowCounts(geometry)
    let w2 = weight.reshaped([o, weight.shape[1] * weight.shape[2] * weight.shape[3]])
    let xv = x.contiguousValue(), wv = w2.contiguousValue(), bv = bias?.contiguousValue()
    let y = Tensor<S>(uninitializedShape: [x.shape[0], o, oh, ow])
    if y.scalarCount > 0 {
        let ok = withExtendedLifetime((xv, wv, bv)) {
            S.kernelConv2d(xv.basePointer, wv.basePointer, bv.map { UnsafePointer($0.basePointer) }, o, geometry, y.storage.base)
        }
        check(ok, "conv2d: no memory for one image's columns (\(geometry.c * geometry.kh * geometry.kw) × \(oh * ow)) of input \(x.shape)")
    }
    let biasTracked = bias.map { Tensor<S>.tracks($0) } ?? false
    guard Tensor<S>.tracks(x, weight) || biasTracked else { return y.checked("conv2d") }
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    let size = (x.shape[2], x.shape[3])
    return y.attaching("conv2d", inputs) { g in
        let g3 = g.reshaped([g.shape[0], o, oh * ow])
        var grads: [Tensor<S>?]
        if GradMode.isEnabled {
            // A recorded backward: the composed expression's rule, in tape ops.
            grads = [x.requiresGrad ? fold2d(matmul(w2.transposed(), g3), outputSize: size, kernel: kernel, stride: stride, padding: padding) : nil,
                     weight.requiresGrad ? matmul(g3, unfold2d(x, kernel: kernel, stride: stride, padding: padding).transposed()).sum(axis: 0).reshaped(weight.shape) : nil]
        } else {
            let gv = g3.contiguousValue()
            let dx: Tensor<S>? = x.requiresGrad ? Tensor<S>(uninitializedShape: x.shape) : nil
            let dw: Tensor<S>? = weight.requiresGrad ? Tensor<S>(uninitializedShape: [x.shape[0], o, w2.shape[1]]) : nil
            if dx != nil || dw != nil {
                let ok = withExtendedLifetime((xv, wv, gv)) {
                    S.kernelConv2dBackward(xv.basePointer, wv.basePointer, gv.basePointer, o, geometry, dx?.storage.base, dw?.storage.base)
                }
                check(ok, "conv2d backward: no memory for one image's columns of input \(x.shape)")
            }
            grads = [dx, dw.map { $0.sum(axis: 0).reshaped(weight.shape) }]
        }
        if let bias { grads.append(bias.requiresGrad ? g3.sum(axes: [0, 2]) : nil) }
        return grads
    }.checked("conv2d")
}
