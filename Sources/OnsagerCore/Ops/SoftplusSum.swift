// Σ softplus over the last axis, fused with σ. An RBM's free energy is −a·v − Σⱼ softplus(fieldⱼ);
// its gradient needs σ(field), and CD/PCD sample hidden units from the same σ(field). Composed,
// that is four passes over the field (softplus, sum, σ in backward, σ for sampling); fused, one.
extension Tensor {
    /// Σ softplus(x) over the last axis, and σ(x) (each term's derivative) from the same pass.
    ///
    /// `softplusSum` has this tensor's shape without its last axis (always the last: move another
    /// axis there first) and equals `softplus().sum(axis: -1)` bit for bit (rows longer than
    /// 65,536 elements may differ in the last bits, where that sum adds in chunks). It is
    /// differentiable to any order; first-order backward reuses the σ computed here. `sigmoid`
    /// equals `self.sigmoid()` bit for bit and is not tracked (detached). For a scalar loss, sum
    /// the property: `x.softplusSumWithSigmoid().softplusSum.sum()`.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func softplusSumWithSigmoid() -> (softplusSum: Tensor, sigmoid: Tensor) {
        check(rank >= 1, "softplusSumWithSigmoid: needs at least one axis, got a scalar")
        let x = contiguousValue()
        let sum = Tensor(uninitializedShape: Array(shape.dropLast()))
        let sig = Tensor(uninitializedShape: shape)
        Scalar.kernelSoftplusRowSum(x.basePointer, sum.scalarCount, shape[rank - 1], sum.storage.base, sig.storage.base)
        guard Self.tracks(self) else { return (sum.checked("softplus_sum"), sig) }
        let input = self
        let out = sum.attaching("softplus_sum", input) { g in
            // Recorded (double backward): σ is recomputed on the tape so it can be differentiated.
            g.unsqueezed(-1) * (GradMode.isEnabled ? input.sigmoid() : sig)
        }
        return (out.checked("softplus_sum"), sig)
    }
}
