import OnsagerCore

/// Pseudo-likelihood: Σᵢ log P(vᵢ | v₋ᵢ) = Σᵢ log σ(F(v with bit i flipped) − F(v)).
extension RBM {
    /// Exact pseudo-log-likelihood of each row (all bits), shape [n]. Computed in chunks of rows:
    /// flipping bit i shifts the hidden field by ±β·Wᵢ, so one [rows, visible, hidden] pass does all bits.
    public func pseudoLogLikelihood(_ v: Tensor<Scalar>, rowsPerChunk: Int = 16) -> Tensor<Scalar> {
        withoutGrad {
            var parts: [Tensor<Scalar>] = []
            let n = v.shape[0]
            for start in stride(from: 0, to: n, by: rowsPerChunk) {
                let x = v.sliced(axis: 0, start..<Swift.min(n, start + rowsPerChunk))
                let field = hiddenField(x)                                   // [r, h]
                let sign = 1 - x * 2                                         // +1 turns a 0 on, −1 turns a 1 off
                let shifted = field.unsqueezed(1) + sign.unsqueezed(2) * w.unsqueezed(0)   // [r, v, h]
                // F(v') − F(v) for every flip i: v'·a = v·a + signᵢ·aᵢ, and the field shifts by signᵢ·Wᵢ.
                let dF = Self.clampedFreeEnergyChange(linearChange: sign * a, field: field.unsqueezed(1), shiftedField: shifted)
                parts.append(dF.logSigmoid().sum(axis: 1))
            }
            return concat(parts, axis: 0)
        }
    }

    /// scikit-learn's `score_samples`: visible count × log σ(F(ṽ) − F(v)) with one random bit of
    /// each row flipped — an unbiased but noisy estimate of the pseudo-log-likelihood.
    public func stochasticPseudoLogLikelihood(_ v: Tensor<Scalar>, generator: RandomGenerator = .current) -> Tensor<Scalar> {
        withoutGrad {
            let n = v.shape[0], nv = visibleCount
            var flip = [Scalar](repeating: 0, count: n * nv)
            for r in 0..<n { flip[r * nv + generator.nextInt(below: nv)] = 1 }
            let mask = Tensor<Scalar>(shape: [n, nv], scalars: flip)
            let flipped = v + mask * (1 - v * 2)
            return (freeEnergy(flipped) - freeEnergy(v)).logSigmoid() * Scalar(nv)
        }
    }
}
