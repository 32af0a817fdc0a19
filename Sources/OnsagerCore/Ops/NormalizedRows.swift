import COnsagerKernels

extension Tensor {
    /// (x − μ)/√(σ² + ε) along the last axis, μ and σ² each row's mean and biased variance: the
    /// core of layer normalisation, one kernel per row forward (saving 1/√(σ² + ε) per row) and
    /// one pass backward, r·(g − mean(g) − y·mean(g ⊙ y)). A recorded backward (gradients of
    /// gradients) composes that formula from differentiable ops. Package access: `LayerNorm`.
    package func normalizedRows(epsilon: Double) -> Tensor {
        check(rank >= 1, "normalizedRows: needs at least one axis, got shape \(shape)")
        let n = shape[rank - 1], rows = n == 0 ? 0 : scalarCount / n
        let x = contiguousValue()
        let y = Tensor(uninitializedShape: shape), rstd = Tensor(uninitializedShape: [rows])
        withExtendedLifetime(x) { Scalar.kernelNormalizeRows(x.basePointer, rows, n, Scalar(epsilon), y.storage.base, rstd.storage.base) }
        guard Self.tracks(self) else { return y.checked("layer_norm") }
        let input = self
        return y.attaching("layer_norm", input) { g in
            if GradMode.isEnabled {
                let centred = input - input.mean(axis: -1, keepDims: true)
                let r = (input.variance(axes: [-1], keepDims: true) + Scalar(epsilon)).pow(-0.5)
                let yr = centred * r
                return r * (g - g.mean(axis: -1, keepDims: true) - yr * (g * yr).mean(axis: -1, keepDims: true))
            }
            let gc = g.contiguousValue()
            let gx = Tensor(uninitializedShape: y.shape)
            withExtendedLifetime(gc) {
                Scalar.kernelNormalizeRowsBackward(y.basePointer, rstd.basePointer, gc.basePointer, rows, n, gx.storage.base)
            }
            return gx
        }.checked("layer_norm")
    }
}
