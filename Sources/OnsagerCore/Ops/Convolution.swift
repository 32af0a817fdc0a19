import COnsagerKernels

/// 2-D convolution (cross-correlation, as `torch.nn.functional.conv2d`) of `x` [N, C, H, W] with
/// `weight` [O, C, kh, kw] and optional `bias` [O]: per image, the weight rows times the image's
/// windows as columns (`unfold2d`), which is the image's [O, OH, OW] in place, on the GEMM.
///
/// The value and the gradients run one image at a time, each image's columns in a scratch
/// buffer that stays in cache (conv2d.c); they equal, bit for bit, the composed expression
/// `matmul(weight.reshaped([O, -1]), unfold2d(x, …)) + bias`, whose products and window kernels
/// they call (the bias's gradient sums each image's rows, then the images: the composed sum's
/// order). A recorded backward (gradients of gradients) is that expression's, on the tape.
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

/// maxPool2d(conv2dReLU(x, weight:, bias:, …), kernel: poolKernel, stride: poolStride) in one
/// op, recorded as "conv2d_relu_max_pool2d": each image is convolved, given its bias and ReLU and
/// pooled while in cache, and backward each image's pooled gradient is routed to its maxima,
/// masked and summed in cache too, instead of the pooling's routed gradient going to memory and
/// back. The ReLU's output is kept for the backward pass, as the two ops keep it. Values and
/// gradients are bit-identical to the two ops; `Sequential` runs a `Conv2d`, a ReLU `Activation`
/// and a `MaxPool2d` this way.
@_specialize(where S == Float) @_specialize(where S == Double)
package func conv2dReLUMaxPool<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>? = nil,
                                                stride: (height: Int, width: Int) = (1, 1), padding: (height: Int, width: Int) = (0, 0),
                                                poolKernel: (height: Int, width: Int), poolStride: (height: Int, width: Int)? = nil) -> Tensor<S> {
    convolution(x, weight: weight, bias: bias, stride: stride, padding: padding, relu: true, pool: (poolKernel, poolStride ?? poolKernel))
}

/// `conv2d`, with `relu` `conv2dReLU`, and with `pool` as well `conv2dReLUMaxPool`.
@_specialize(where S == Float) @_specialize(where S == Double)
private func convolution<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>?, stride: (height: Int, width: Int),
                                          padding: (height: Int, width: Int), relu: Bool,
                                          pool: (kernel: (height: Int, width: Int), stride: (height: Int, width: Int))? = nil) -> Tensor<S> {
    // Only Sequential calls the pooled op: its messages name the layers' own functions.
    let name = relu && pool == nil ? "conv2dReLU" : "conv2d"
    let op: StaticString = pool != nil ? "conv2d_relu_max_pool2d" : relu ? "conv2d_relu" : "conv2d"
    check(weight.rank == 4, "\(name): weight must be [out, in, kh, kw], got \(weight.shape)")
    check(x.rank == 4, "\(name): input must be [N, C, H, W], got \(x.shape)")
    check(x.shape[1] == weight.shape[1], "\(name): input \(x.shape) does not have the weight's \(weight.shape[1]) channels (weight \(weight.shape))")
    let o = weight.shape[0]
    if let bias { check(bias.shape == [o], "\(name): bias \(bias.shape) for weight \(weight.shape)") }
    let kernel = (weight.shape[2], weight.shape[3])
    let geometry = Tensor<S>.windowGeometry(name, x.shape, kernel, stride, padding)
    let (oh, ow) = Tensor<S>.windowCounts(geometry)
    let n = x.shape[0]
    // The pooling of the [n, o, oh, ow] output: channels as planes, as maxPool2d takes them.
    var poolGeometry: KernelWindowGeometry? = nil
    var poolCounts = (0, 0)
    if let pool {
        var pg = Tensor<S>.windowGeometry("maxPool2d", [n, o, oh, ow], pool.kernel, pool.stride, (0, 0))
        (pg.n, pg.c) = (n * o, 1)
        poolGeometry = pg
        poolCounts = Tensor<S>.windowCounts(pg)
    }
    let cPool = pool.map { onsager_pool2d(kh: $0.kernel.height, kw: $0.kernel.width, sh: $0.stride.height, sw: $0.stride.width) }
    let w2 = weight.reshaped([o, weight.shape[1] * weight.shape[2] * weight.shape[3]])
    let xv = x.contiguousValue(), wv = w2.contiguousValue(), bv = bias?.contiguousValue()
    let y = Tensor<S>(uninitializedShape: [n, o, oh, ow])
    let pooled: Tensor<S>? = pool == nil ? nil : Tensor<S>(uninitializedShape: [n, o, poolCounts.0, poolCounts.1])
    if y.scalarCount > 0 {
        let ok = withExtendedLifetime((xv, wv, bv)) {
            S.kernelConv2d(xv.basePointer, wv.basePointer, bv.map { UnsafePointer($0.basePointer) }, o, geometry, relu: relu, y.storage.base,
                           pool: cPool, pooled: pooled?.storage.base)
        }
        check(ok, "\(name): no memory for one image's columns (\(geometry.c * geometry.kh * geometry.kw) × \(oh * ow)) of input \(x.shape)")
    }
    let out = pooled ?? y
    let biasTracked = bias.map { Tensor<S>.tracks($0) } ?? false
    guard Tensor<S>.tracks(x, weight) || biasTracked else { return out.checked(op) }
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    let size = (x.shape[2], x.shape[3])
    // Only the ReLU's rule keeps the convolution's output (its mask, and the pooling's input), and
    // the pooled op's its pooled values; both are untracked (no node), so the rule holding them
    // makes no cycle. (The rule names mask and pooled only: a plain conv2d keeps no output.)
    let mask: Tensor<S>? = relu ? y : nil
    return out.attaching(op, inputs) { g in
        if GradMode.isEnabled {
            // A recorded backward: the composed expression's rule, in tape ops.
            let gy = poolGeometry.map { maxPoolGradient(g, routing: true, x: mask!, y: pooled!, $0) } ?? g
            let gz = mask.map { Tensor<S>.reluBackward(gy, $0) } ?? gy
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
            let ok = withExtendedLifetime((xv, wv, gv, mv, pooled)) {
                let gp = UnsafePointer(gv.basePointer)
                return S.kernelConv2dBackward(xv.basePointer, wv.basePointer, pooled == nil ? gp : nil, mask: mv.map { UnsafePointer($0.basePointer) },
                                              o, geometry, dx?.storage.base, dw?.storage.base, db?.storage.base,
                                              pool: cPool, pooled: pooled.map { UnsafePointer($0.storage.base) }, gpool: pooled == nil ? nil : gp)
            }
            check(ok, "\(name) backward: no memory for one image's columns of input \(x.shape)")
        }
        var grads = [dx, dw.map { $0.sum(axis: 0).reshaped(weight.shape) }]
        if bias != nil { grads.append(db.map { $0.sum(axis: 0) }) }
        return grads
    }.checked(op)
}
