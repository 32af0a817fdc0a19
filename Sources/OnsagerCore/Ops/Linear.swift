// The affine map of a dense layer with torch.nn.Linear's weight layout. One op rather than
// matmul + transpose + add: the weight gradient gᵀx comes out in the weight's own [out, in]
// layout (no transposed view to copy in the optimizer) and the tape holds one node, not three.
/// y = x Wᵀ + b for rows x [n, in], weight W [out, in] and optional bias b [out]
/// (`torch.nn.functional.linear`). Leading dimensions of x beyond the last are batch dimensions.
@_specialize(where S == Float) @_specialize(where S == Double)
public func linear<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>? = nil) -> Tensor<S> {
    check(weight.rank == 2, "linear: weight must be [out, in], got \(weight.shape)")
    check(x.rank >= 1 && x.shape[x.rank - 1] == weight.shape[1],
          "linear: input \(x.shape) does not end in the weight's input size (weight \(weight.shape))")
    if let bias { check(bias.shape == [weight.shape[0]], "linear: bias \(bias.shape) for weight \(weight.shape)") }
    let rows = x.rank == 2 ? x : x.reshaped([-1, weight.shape[1]])
    let y = withoutGrad { Tensor<S>.gemmKernel(rows, weight.transposed(), bias: bias) }
    let outShape = Array(x.shape.dropLast()) + [weight.shape[0]]
    let tracked = Tensor<S>.tracks(rows, weight) || (bias.map { Tensor<S>.tracks($0) } ?? false)
    guard tracked else { return (x.rank == 2 ? y : y.reshaped(outShape)).checked("linear") }
    let inputs = bias.map { [rows, weight, $0] } ?? [rows, weight]
    let out = y.attaching("linear", inputs) { g in
        var grads: [Tensor<S>?] = [rows.requiresGrad ? matmul(g, weight) : nil,
                                   weight.requiresGrad ? matmul(g.transposed(), rows) : nil]
        if let bias { grads.append(bias.requiresGrad ? g.sum(axis: 0) : nil) }
        return grads
    }.checked("linear")
    return x.rank == 2 ? out : out.reshaped(outShape)
}

/// relu(x Wᵀ + b) in one op, recorded as "linear_relu": `linear` whose GEMM applies the ReLU to
/// each block of the output as it finishes it, so the activation takes no pass of its own over
/// the output, and whose backward masks the output gradient once (by y > 0, the same mask as by
/// the pre-activation) for both products and the bias. Values and gradients are bit-identical to
/// `linear(x, weight:, bias:).relu()`; `Sequential` runs a `Dense` followed by a ReLU
/// `Activation` this way.
@_specialize(where S == Float) @_specialize(where S == Double)
public func linearReLU<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>? = nil) -> Tensor<S> {
    check(weight.rank == 2, "linearReLU: weight must be [out, in], got \(weight.shape)")
    check(x.rank >= 1 && x.shape[x.rank - 1] == weight.shape[1],
          "linearReLU: input \(x.shape) does not end in the weight's input size (weight \(weight.shape))")
    if let bias { check(bias.shape == [weight.shape[0]], "linearReLU: bias \(bias.shape) for weight \(weight.shape)") }
    let rows = x.rank == 2 ? x : x.reshaped([-1, weight.shape[1]])
    let y = withoutGrad { Tensor<S>.gemmKernel(rows, weight.transposed(), bias: bias, relu: true) }
    let outShape = Array(x.shape.dropLast()) + [weight.shape[0]]
    let tracked = Tensor<S>.tracks(rows, weight) || (bias.map { Tensor<S>.tracks($0) } ?? false)
    guard tracked else { return (x.rank == 2 ? y : y.reshaped(outShape)).checked("linear_relu") }
    let inputs = bias.map { [rows, weight, $0] } ?? [rows, weight]
    // y is the untracked value (no node), so the rule holding it makes no reference cycle.
    let out = y.attaching("linear_relu", inputs) { g in
        let gz = Tensor<S>.reluBackward(g, y)
        var grads: [Tensor<S>?] = [rows.requiresGrad ? matmul(gz, weight) : nil,
                                   weight.requiresGrad ? matmul(gz.transposed(), rows) : nil]
        if let bias { grads.append(bias.requiresGrad ? gz.sum(axis: 0) : nil) }
        return grads
    }.checked("linear_relu")
    return x.rank == 2 ? out : out.reshaped(outShape)
}
