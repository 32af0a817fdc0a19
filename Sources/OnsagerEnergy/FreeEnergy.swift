import OnsagerCore

/// The clamped free energy: one layer's configurations with the other layer summed out.
extension RBM {
    /// F = −linear − Σⱼ softplus(fieldⱼ), summed over the last axis of `field`.
    ///
    /// `linear` is the configurations' own bias term (β a·v for visible rows v) and `field` the
    /// other layer's pre-activations (β(b + vW)). Every free energy in this module is this one
    /// function: F(v) below, the CD and PCD losses (CD from field sums it computed block by
    /// block, sampling from the data half's σ), exact ln Z over the hidden layer (linear β b·h,
    /// field β(a + Wh)), AIS's interpolating models and the pseudo-likelihood's flipped
    /// configurations.
    public static func clampedFreeEnergy(linear: Tensor<Scalar>, field: Tensor<Scalar>) -> Tensor<Scalar> {
        clampedFreeEnergy(linear: linear, softplusSum: field.softplusSumWithSigmoid().softplusSum)
    }

    /// The same from the field's Σⱼ softplus already summed (recorded on the tape against the field).
    static func clampedFreeEnergy(linear: Tensor<Scalar>, softplusSum: Tensor<Scalar>) -> Tensor<Scalar> {
        -linear - softplusSum
    }

    /// `clampedFreeEnergy(linear:field:)` and σ(field), the hidden probabilities P(h = 1 | v)
    /// when `field` is the hidden field (detached), from one pass over the field.
    static func clampedFreeEnergyWithProbabilities(linear: Tensor<Scalar>, field: Tensor<Scalar>)
        -> (freeEnergy: Tensor<Scalar>, probabilities: Tensor<Scalar>) {
        let (softplusSum, sigmoid) = field.softplusSumWithSigmoid()
        return (clampedFreeEnergy(linear: linear, softplusSum: softplusSum), sigmoid)
    }

    /// The change F' − F of the clamped free energy when the linear term changes by `linearChange`
    /// and the field moves from `field` to `shiftedField` (broadcast against each other):
    /// −Δlinear − Σⱼ [softplus(shifted) − softplus(field)], differenced term by term before
    /// summing. Equal to the difference of two `clampedFreeEnergy` values, but without the
    /// cancellation between two sums of hundreds of O(1) terms (the pseudo-likelihood's flips).
    public static func clampedFreeEnergyChange(linearChange: Tensor<Scalar>, field: Tensor<Scalar>,
                                               shiftedField: Tensor<Scalar>) -> Tensor<Scalar> {
        -linearChange - (shiftedField.softplus() - field.softplus()).sum(axis: -1)
    }

    /// F(v) = −β a·v − Σⱼ softplus(β(bⱼ + (vW)ⱼ)), per row of v (log p(v) = −F(v) − ln Z).
    public func freeEnergy(_ v: Tensor<Scalar>) -> Tensor<Scalar> {
        Self.clampedFreeEnergy(linear: matmul(v, a), field: hiddenField(v))
    }
}
