import OnsagerCore

/// Scales the gradients of `parameters` so their joint L2 norm is at most `maxNorm`
/// (`torch.nn.utils.clip_grad_norm_`: factor maxNorm/(norm + 1e-6) when below 1). Returns the
/// norm before clipping.
@discardableResult
public func clipGradientNorm<S: TensorScalar>(_ parameters: [Tensor<S>], maxNorm: Double) -> Double {
    let grads = parameters.compactMap { $0.grad }
    let total = withoutGrad { grads.map { Double(($0 * $0).sum().item) }.reduce(0, +) }.squareRoot()
    let coef = maxNorm / (total + 1e-6)
    if coef < 1 {
        for p in parameters { if let g = p.grad { p.setGrad(withoutGrad { g * S(coef) }) } }
    }
    return total
}
