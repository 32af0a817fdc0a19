import OnsagerCore

/// Binarising pixel intensities in [0, 1], for Bernoulli models.
extension Tensor {
    /// 1 where the value exceeds `threshold`, else 0.
    public func binarized(threshold: Scalar = 0.5) -> Tensor { withoutGrad { self .> Tensor(threshold) } }
    /// Each value replaced by a Bernoulli sample with that probability (fixed by the generator).
    public func stochasticallyBinarized(generator: RandomGenerator = .current) -> Tensor { Tensor.bernoulli(self, generator: generator) }
}
