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
            if GradMode.isEnabled { return Tensor.recordedNormalizedRowsGradient(g, input: input, epsilon: epsilon) }
            let gc = g.contiguousValue()
            let gx = Tensor(uninitializedShape: y.shape)
            withExtendedLifetime(gc) {
                Scalar.kernelNormalizeRowsBackward(y.basePointer, rstd.basePointer, gc.basePointer, rows, n, gx.storage.base)
            }
            return gx
        }.checked("layer_norm")
    }

    /// The gradient of `normalizedRows` composed from differentiable ops (gradients of gradients).
    static func recordedNormalizedRowsGradient(_ g: Tensor, input: Tensor, epsilon: Double) -> Tensor {
        let centred = input - input.mean(axis: -1, keepDims: true)
        let r = (input.variance(axes: [-1], keepDims: true) + Scalar(epsilon)).pow(-0.5)
        let yr = centred * r
        return r * (g - g.mean(axis: -1, keepDims: true) - yr * (g * yr).mean(axis: -1, keepDims: true))
    }

    /// Layer normalisation along the last axis with its affine map, `normalizedRows(epsilon:) *
    /// scale + shift` for `scale` and `shift` of the last axis's length, with the same values and
    /// gradients bit for bit, in one pass per row forward (the normalised rows are kept for the
    /// backward), one backward to the input, and one pass over the rows for the gradients of
    /// `scale` (Σ g ⊙ x̂) and `shift` (Σ g). One feature, or other shapes of `scale` or `shift`,
    /// take the composed form. A recorded backward composes its rule from differentiable ops.
    /// Recorded as "layer_norm". Package access: `LayerNorm`.
    package func layerNormalized(scale: Tensor, shift: Tensor, epsilon: Double) -> Tensor {
        check(rank >= 1, "layerNormalized: needs at least one axis, got shape \(shape)")
        let n = shape[rank - 1], rows = n == 0 ? 0 : scalarCount / n
        // One feature: its β's gradient sums the rows in block_moment's order (a reduction to one
        // value), not row after row; the composed form keeps those bits.
        guard n > 1 && scale.shape == [n] && shift.shape == [n] else { return normalizedRows(epsilon: epsilon) * scale + shift }
        let x = contiguousValue(), gamma = scale.contiguousValue(), beta = shift.contiguousValue()
        let xhat = Tensor(uninitializedShape: shape), rstd = Tensor(uninitializedShape: [rows])
        let y = Tensor(uninitializedShape: shape)
        withExtendedLifetime((x, gamma, beta)) {
            Scalar.kernelNormalizeRowsAffine(x.basePointer, rows, n, Scalar(epsilon), gamma.basePointer, beta.basePointer,
                                             xhat.storage.base, rstd.storage.base, y.storage.base)
        }
        guard Self.tracks(self, scale) || Self.tracks(shift) else { return y.checked("layer_norm") }
        let input = self, outShape = shape   // the rule keeps the shape, not the output
        return y.attaching("layer_norm", [input, scale, shift]) { g in
            if GradMode.isEnabled {
                return [input.node == nil ? nil : Tensor.recordedNormalizedRowsGradient(g * scale, input: input, epsilon: epsilon),
                        scale.node == nil ? nil : (g * input.normalizedRows(epsilon: epsilon)).summed(toShape: scale.shape),
                        shift.node == nil ? nil : g.summed(toShape: shift.shape)]
            }
            let gc = g.contiguousValue()
            let gx: Tensor? = input.node == nil ? nil : Tensor(uninitializedShape: outShape)
            let dgamma: Tensor? = scale.node == nil ? nil : Tensor(uninitializedShape: [n])
            let dbeta: Tensor? = shift.node == nil ? nil : Tensor(uninitializedShape: [n])
            withExtendedLifetime((gc, gamma)) {
                if let gx {
                    Scalar.kernelNormalizeRowsAffineBackward(xhat.basePointer, rstd.basePointer, gc.basePointer, gamma.basePointer,
                                                             rows, n, gx.storage.base)
                }
                if dgamma != nil || dbeta != nil {
                    Scalar.kernelLayerNormParamGrads(xhat.basePointer, gc.basePointer, rows, n, dgamma?.storage.base, dbeta?.storage.base)
                }
            }
            return [gx, dgamma, dbeta]
        }.checked("layer_norm")
    }
}
