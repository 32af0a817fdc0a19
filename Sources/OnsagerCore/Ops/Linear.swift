// The affine map of a dense layer with torch.nn.Linear's weight layout. One op rather than
// matmul + transpose + add: the weight gradient gᵀx comes out in the weight's own [out, in]
// layout (no transposed view to copy in the optimizer) and the tape holds one node, not three.
/// y = x Wᵀ + b for rows x [n, in], weight W [out, in] and optional bias b [out]
/// (`torch.nn.functional.linear`). Leading dimensions of x beyond the last are batch dimensions.
@_specialize(where S == Float) @_specialize(where S == Double)
public func linear<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>? = nil) -> Tensor<S> {
    denseProduct(x, weight: weight, bias: bias, relu: false)
}

/// relu(x Wᵀ + b) in one op, recorded as "linear_relu": `linear` whose GEMM applies the ReLU to
/// each block of the output as it finishes it, so the activation takes no pass of its own over
/// the output, and whose backward masks the output gradient once (by y > 0, the same mask as by
/// the pre-activation) for both products and the bias. Values and gradients are bit-identical to
/// `linear(x, weight:, bias:).relu()`; `Sequential` runs a `Dense` followed by a ReLU
/// `Activation` this way.
@_specialize(where S == Float) @_specialize(where S == Double)
public func linearReLU<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>? = nil) -> Tensor<S> {
    denseProduct(x, weight: weight, bias: bias, relu: true)
}

/// `linear`, and with `relu` `linearReLU`: one GEMM (its epilogue adding the bias and, with
/// `relu`, taking max(·, 0)) and one tape node; with `relu` its rule first masks the output
/// gradient by y > 0.
@_specialize(where S == Float) @_specialize(where S == Double)
private func denseProduct<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>?, relu: Bool) -> Tensor<S> {
    let name = relu ? "linearReLU" : "linear"
    let op: StaticString = relu ? "linear_relu" : "linear"
    check(weight.rank == 2, "\(name): weight must be [out, in], got \(weight.shape)")
    check(x.rank >= 1 && x.shape[x.rank - 1] == weight.shape[1],
          "\(name): input \(x.shape) does not end in the weight's input size (weight \(weight.shape))")
    if let bias { check(bias.shape == [weight.shape[0]], "\(name): bias \(bias.shape) for weight \(weight.shape)") }
    let rows = x.rank == 2 ? x : x.reshaped([-1, weight.shape[1]])
    let y = withoutGrad { Tensor<S>.gemmKernel(rows, weight.transposed(), bias: bias, relu: relu) }
    let outShape = Array(x.shape.dropLast()) + [weight.shape[0]]
    let tracked = Tensor<S>.tracks(rows, weight) || (bias.map { Tensor<S>.tracks($0) } ?? false)
    guard tracked else { return (x.rank == 2 ? y : y.reshaped(outShape)).checked(op) }
    let inputs = bias.map { [rows, weight, $0] } ?? [rows, weight]
    // Only the ReLU's rule keeps the output (its mask); y is the untracked value (no node), so
    // the rule holding it makes no reference cycle.
    let mask: Tensor<S>? = relu ? y : nil
    let out = y.attaching(op, inputs) { g in
        let gz = mask.map { Tensor<S>.reluBackward(g, $0) } ?? g
        var grads: [Tensor<S>?] = [rows.requiresGrad ? matmul(gz, weight) : nil,
                                   weight.requiresGrad ? matmul(gz.transposed(), rows) : nil]
        if let bias { grads.append(bias.requiresGrad ? gz.sum(axis: 0) : nil) }
        return grads
    }.checked(op)
    return x.rank == 2 ? out : out.reshaped(outShape)
}
