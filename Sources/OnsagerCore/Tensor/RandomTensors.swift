extension Tensor {
    /// Uniform values in [low, high).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func uniform(_ shape: [Int], low: Scalar = 0, high: Scalar = 1, generator: RandomGenerator = .current) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        Scalar.kernelRandomUniform(generator.seed, generator.reserve(t.scalarCount), t.storage.base, t.scalarCount, low, high)
        return t
    }

    /// Normal values with the given mean and standard deviation.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func normal(_ shape: [Int], mean: Scalar = 0, std: Scalar = 1, generator: RandomGenerator = .current) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        Scalar.kernelRandomNormal(generator.seed, generator.reserve(t.scalarCount, even: true), t.storage.base, t.scalarCount, mean, std)
        return t
    }

    /// 0/1 samples with P(1) = each element of `probabilities` (not differentiable).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func bernoulli(_ probabilities: Tensor, generator: RandomGenerator = .current) -> Tensor {
        let p = probabilities.contiguousValue()
        let t = Tensor(uninitializedShape: p.shape)
        Scalar.kernelRandomBernoulli(generator.seed, generator.reserve(t.scalarCount), p.basePointer, t.storage.base, t.scalarCount)
        return t
    }

    /// 0/1 samples with P(1) = σ(each element of `logits`), in one pass (not differentiable),
    /// without the intermediate probabilities (`torch.distributions.Bernoulli(logits=)`): sample
    /// i is 1 when the generator's uniform draw uᵢ (the one `uniform` and `bernoulli(_:)` use at
    /// that position) is below σ(xᵢ), tested as uᵢ + uᵢ·e against 1 or e with e = exp(−|xᵢ|),
    /// without a division. So it equals `bernoulli(logits.sigmoid(), generator:)` from the same
    /// state except where a draw lies within a rounding of σ(xᵢ) (of order 10⁻⁸ of draws). Logits
    /// of ±∞ give 1 and 0; a NaN logit gives 0, as a NaN probability does.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func bernoulli(logits: Tensor, generator: RandomGenerator = .current) -> Tensor {
        let x = logits.contiguousValue()
        let t = Tensor(uninitializedShape: x.shape)
        Scalar.kernelRandomBernoulliLogits(generator.seed, generator.reserve(t.scalarCount), x.basePointer, t.storage.base, t.scalarCount)
        return t
    }

    /// 0/1 samples with P(1) = each element of self.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func bernoulliSample(generator: RandomGenerator = .current) -> Tensor { Tensor.bernoulli(self, generator: generator) }
}
