import COnsagerKernels

extension Tensor {
    /// Batch normalisation's training-mode core on [n, c, …]: each channel (axis 1) normalised over
    /// every other axis with its batch mean μ and biased variance σ², then scaled by `scale` (γ) and
    /// shifted by `shift` (β), both [c]. One kernel forward (two passes for the statistics, one
    /// writing), one backward giving the gradients of x, γ and β together; a recorded backward
    /// (gradients of gradients) composes the same formula from differentiable ops. Also returns μ
    /// and σ² per channel, untracked, for the running statistics. Package access: `BatchNorm`.
    package func normalizedChannels(scale: Tensor, shift: Tensor, epsilon: Double) -> (output: Tensor, mean: Tensor, variance: Tensor) {
        check(rank >= 2, "normalizedChannels: needs [n, c, …], got shape \(shape)")
        let n = shape[0], c = shape[1], l = shape.dropFirst(2).reduce(1, *)
        check(scale.shape == [c] && shift.shape == [c],
              "normalizedChannels: scale \(scale.shape) and shift \(shift.shape) for input \(shape); expected [\(c)] each")
        let x = contiguousValue(), gamma = scale.contiguousValue(), beta = shift.contiguousValue()
        let y = Tensor(uninitializedShape: shape)
        let mean = Tensor(uninitializedShape: [c]), rstd = Tensor(uninitializedShape: [c]), variance = Tensor(uninitializedShape: [c])
        withExtendedLifetime((x, gamma, beta)) {
            Scalar.kernelNormalizeChannels(x.basePointer, n, c, l, Scalar(epsilon), gamma.basePointer, beta.basePointer,
                                           y.storage.base, mean.storage.base, rstd.storage.base, variance.storage.base)
        }
        guard Self.tracks(self) || Self.tracks(scale) || Self.tracks(shift) else {
            return (y.checked("batch_norm"), mean, variance)
        }
        let input = self
        let output = y.attaching("batch_norm", [input, scale, shift]) { g in
            if GradMode.isEnabled {
                let axes = [0] + Array(2..<input.rank)
                let perChannel = [1, c] + Array(repeating: 1, count: input.rank - 2)
                let centred = input - input.mean(axes: axes, keepDims: true)
                let r = (input.variance(axes: axes, keepDims: true) + Scalar(epsilon)).pow(-0.5)
                let xhat = centred * r
                let gxhat = g * xhat
                let dx = scale.reshaped(perChannel) * r
                    * (g - g.mean(axes: axes, keepDims: true) - xhat * gxhat.mean(axes: axes, keepDims: true))
                return [input.node == nil ? nil : dx, scale.node == nil ? nil : gxhat.sum(axes: axes),
                        shift.node == nil ? nil : g.sum(axes: axes)]
            }
            let gc = g.contiguousValue()
            let dx: Tensor? = input.node == nil ? nil : Tensor(uninitializedShape: input.shape)
            let dgamma: Tensor? = scale.node == nil ? nil : Tensor(uninitializedShape: [c])
            let dbeta: Tensor? = shift.node == nil ? nil : Tensor(uninitializedShape: [c])
            withExtendedLifetime((x, gamma, gc)) {
                Scalar.kernelNormalizeChannelsBackward(x.basePointer, gc.basePointer, n, c, l, gamma.basePointer, mean.basePointer,
                                                       rstd.basePointer, dx?.storage.base, dgamma?.storage.base, dbeta?.storage.base)
            }
            return [dx, dgamma, dbeta]
        }.checked("batch_norm")
        return (output, mean, variance)
    }
}
