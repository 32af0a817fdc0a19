import COnsagerKernels

/// 2-D convolution (cross-correlation, as `torch.nn.functional.conv2d`) of `x` [N, C, H, W] with
/// `weight` [O, C, kh, kw] and optional `bias` [O]: per image, the weight rows times the image's
/// windows as columns (`unfold2d`), which is the image's [O, OH, OW] in place, on the GEMM.
///
/// The value and the gradients run one image at a time, each image's columns in a scratch
/// buffer that stays in cache (conv2d.c); they equal, bit for bit, the composed expression
/// `matmul(weight.reshaped([O, -1]), unfold2d(x, …)) + bias`, whose products and window kernels
/// they call (the bias's gradient sums each image's rows, then the images, which is the order of
/// the composed sum but for a single image of one channel over 65,536 outputs, whose one row the
/// composed sum splits into chunks). A recorded backward (gradients of gradients) is that
/// expression's, on the tape.
@_specialize(where S == Float) @_specialize(where S == Double)
public func conv2d<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>? = nil,
                                    stride: (height: Int, width: Int) = (1, 1), padding: (height: Int, width: Int) = (0, 0)) -> Tensor<S> {
    convolution(x, weight: weight, bias: bias, stride: stride, padding: padding, relu: false)
}

/// relu(conv2d(x, weight:, bias:, …)) in one op, recorded as "conv2d_relu": each image's output
/// gets its bias and its ReLU while it is in cache, and the backward masks each image's output
/// gradient by y > 0 (the same mask as by the pre-activation) and sums it for the bias in the same
/// visit, so the activation takes no pass of its own over the batch either way. Values and
/// gradients are bit-identical to `conv2d(…).relu()`; `Sequential` runs a `Conv2d` followed by a
/// ReLU `Activation` this way.
@_specialize(where S == Float) @_specialize(where S == Double)
public func conv2dReLU<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>? = nil,
                                        stride: (height: Int, width: Int) = (1, 1), padding: (height: Int, width: Int) = (0, 0)) -> Tensor<S> {
    convolution(x, weight: weight, bias: bias, stride: stride, padding: padding, relu: true)
}

/// `conv2d`, and with `relu` `conv2dReLU`.
@_specialize(where S == Float) @_specialize(where S == Double)
private func convolution<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>?, stride: (height: Int, width: Int),
                                          padding: (height: Int, width: Int), relu: Bool) -> Tensor<S> {
    let name = relu ? "conv2dReLU" : "conv2d"
    let op: StaticString = relu ? "conv2d_relu" : "conv2d"
    check(weight.rank == 4, "\(name): weight must be [out, in, kh, kw], got \(weight.shape)")
    check(x.rank == 4, "\(name): input must be [N, C, H, W], got \(x.shape)")
    check(x.shape[1] == weight.shape[1], "\(name): input \(x.shape) does not have the weight's \(weight.shape[1]) channels (weight \(weight.shape))")
    let o = weight.shape[0]
    if let bias { check(bias.shape == [o], "\(name): bias \(bias.shape) for weight \(weight.shape)") }
    let kernel = (weight.shape[2], weight.shape[3])
    let geometry = Tensor<S>.windowGeometry(name, x.shape, kernel, stride, padding)
    let (oh, ow) = Tensor<S>.windowCounts(geometry)
    let w2 = weight.reshaped([o, weight.shape[1] * weight.shape[2] * weight.shape[3]])
    let xv = x.contiguousValue(), wv = w2.contiguousValue(), bv = bias?.contiguousValue()
    let y = Tensor<S>(uninitializedShape: [x.shape[0], o, oh, ow])
    if y.scalarCount > 0 {
        let ok = withExtendedLifetime((xv, wv, bv)) {
            S.kernelConv2d(xv.basePointer, wv.basePointer, bv.map { UnsafePointer($0.basePointer) }, o, geometry, relu: relu, y.storage.base)
        }
        check(ok, "\(name): no memory for one image's columns (\(geometry.c * geometry.kh * geometry.kw) × \(oh * ow)) of input \(x.shape)")
    }
    let biasTracked = bias.map { Tensor<S>.tracks($0) } ?? false
    guard Tensor<S>.tracks(x, weight) || biasTracked else { return y.checked(op) }
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    let size = (x.shape[2], x.shape[3])
    // Only the ReLU's rule keeps the output (its mask); y is the untracked value (no node), so
    // the rule holding it makes no reference cycle.
    let mask: Tensor<S>? = relu ? y : nil
    return y.attaching(op, inputs) { g in
        let n = g.shape[0]
        if GradMode.isEnabled {
            // A recorded backward: the composed expression's rule, in tape ops.
            let gz = mask.map { Tensor<S>.reluBackward(g, $0) } ?? g
            let g3 = gz.reshaped([n, o, oh * ow])
            var grads: [Tensor<S>?] = [
                x.requiresGrad ? fold2d(matmul(w2.transposed(), g3), outputSize: size, kernel: kernel, stride: stride, padding: padding) : nil,
                weight.requiresGrad ? matmul(g3, unfold2d(x, kernel: kernel, stride: stride, padding: padding).transposed()).sum(axis: 0).reshaped(weight.shape) : nil]
            if let bias { grads.append(bias.requiresGrad ? g3.sum(axes: [0, 2]) : nil) }
            return grads
        }
        let gv = g.contiguousValue(), mv = mask?.contiguousValue()
        let dx: Tensor<S>? = x.requiresGrad ? Tensor<S>(uninitializedShape: x.shape) : nil
        let dw: Tensor<S>? = weight.requiresGrad ? Tensor<S>(uninitializedShape: [n, o, w2.shape[1]]) : nil
        let db: Tensor<S>? = bias?.requiresGrad == true ? Tensor<S>(uninitializedShape: [n, o]) : nil
        if dx != nil || dw != nil || db != nil {
            let ok = withExtendedLifetime((xv, wv, gv, mv)) {
                S.kernelConv2dBackward(xv.basePointer, wv.basePointer, gv.basePointer, mask: mv.map { UnsafePointer($0.basePointer) }, o, geometry,
                                       dx?.storage.base, dw?.storage.base, db?.storage.base)
            }
            check(ok, "\(name) backward: no memory for one image's columns of input \(x.shape)")
        }
        var grads = [dx, dw.map { $0.sum(axis: 0).reshaped(weight.shape) }]
        if bias != nil { grads.append(db.map { $0.sum(axis: 0) }) }
        return grads
    }.checked(op)
}
