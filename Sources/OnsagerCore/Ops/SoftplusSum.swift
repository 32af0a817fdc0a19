// Σ softplus over the last axis, fused with σ. An RBM's free energy is −a·v − Σⱼ softplus(fieldⱼ);
// its gradient needs σ(field), and CD/PCD sample hidden units from the same σ(field). Composed,
// that is four passes over the field (softplus, sum, σ in backward, σ for sampling); fused, one.
extension Tensor {
    /// Σ softplus(x) over the last axis, and σ(x) (each term's derivative) from the same pass.
    ///
    /// `softplusSum` has this tensor's shape without its last axis (always the last: move another
    /// axis there first) and equals `softplus().sum(axis: -1)` to within the rounding of the
    /// terms and their sum, not bit for bit: it takes the logs of each lane's terms together (one
    /// log per 64 terms), which saves about a third of its time, and keeps the relative accuracy of
    /// rows whose terms are all tiny. It is differentiable to any order; first-order backward
    /// reuses the σ computed here. `sigmoid` equals `self.sigmoid()` bit for bit and is not
    /// tracked (detached). For a scalar loss, sum the property:
    /// `x.softplusSumWithSigmoid().softplusSum.sum()`.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func softplusSumWithSigmoid() -> (softplusSum: Tensor, sigmoid: Tensor) {
        check(rank >= 1, "softplusSumWithSigmoid: needs at least one axis, got a scalar")
        let x = contiguousValue()
        let sum = Tensor(uninitializedShape: Array(shape.dropLast()))
        let sig = Tensor(uninitializedShape: shape)
        Scalar.kernelSoftplusRowSum(x.basePointer, sum.scalarCount, shape[rank - 1], sum.storage.base, sig.storage.base)
        return (softplusSum(computed: sum, sigmoid: sig), sig)
    }

    /// `softplusSumWithSigmoid().softplusSum` recorded on the tape from values its caller
    /// computed: `sum` and `sigmoid` hold this matrix's row sums and σ (filled block by block by
    /// `setSoftplusSumWithSigmoid`).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    package func softplusSum(computed sum: Tensor, sigmoid sig: Tensor) -> Tensor {
        guard Self.tracks(self) else { return sum.checked("softplus_sum") }
        let input = self
        return sum.attaching("softplus_sum", input) { g in
            // Recorded (double backward): σ is recomputed on the tape so it can be differentiated.
            g.unsqueezed(-1) * (GradMode.isEnabled ? input.sigmoid() : sig)
        }.checked("softplus_sum")
    }

    /// Rows `rows` of `sum` [m] and `sigmoid` [m, n] (made by the caller with
    /// `init(uninitializedShape:)`) set to `softplusSumWithSigmoid()`'s values for the same rows
    /// of this [m, n] matrix.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    package func setSoftplusSumWithSigmoid(rows: Range<Int>, sum: Tensor, sigmoid sig: Tensor) {
        check(rank == 2 && sum.shape == [shape[0]] && sig.shape == shape && sum.isContiguous && sig.isContiguous
              && rows.lowerBound >= 0 && rows.upperBound <= shape[0],
              "setSoftplusSumWithSigmoid: rows \(rows) of a \(shape) matrix do not fit contiguous sums \(sum.shape) and σ \(sig.shape) of its row count and shape")
        let x = sliced(axis: 0, rows).contiguousValue(), n = shape[1]
        Scalar.kernelSoftplusRowSum(x.basePointer, rows.count, n, sum.basePointer + rows.lowerBound,
                                    sig.basePointer + rows.lowerBound * n)
    }
}
