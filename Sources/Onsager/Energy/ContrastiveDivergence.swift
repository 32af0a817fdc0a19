/// CD-k and persistent CD written as a loss on the tape:
///
///     loss = mean_data F(v) − mean_negative F(stopgrad(v⁻)) + penalty(W)
///
/// Its gradient is the CD update (positive phase with hidden probabilities, since ∂F/∂W = −v σ(·)ᵀ),
/// so any optimizer of the project trains the RBM. Negative particles v⁻ come from k Gibbs steps
/// started at the data (CD-k) or from persistent chains carried across updates (PCD).
public struct ContrastiveDivergence<Scalar: TensorScalar> {
    /// Gibbs steps per update.
    public var k: Int
    /// Persistent chains (PCD) when non-nil; any number of rows.
    public var chains: Tensor<Scalar>?
    /// L2 penalty ½λ‖W‖² (biases are not penalised).
    public var l2: Double
    /// L1 penalty λ‖W‖₁.
    public var l1: Double
    public let generator: RandomGenerator

    /// CD-k.
    public static func cd(k: Int = 1, l2: Double = 0, l1: Double = 0, generator: RandomGenerator = .current) -> Self {
        Self(k: k, chains: nil, l2: l2, l1: l1, generator: generator)
    }

    /// PCD with `count` persistent chains started from uniform noise.
    public static func pcd(k: Int = 1, chains count: Int, visible: Int, l2: Double = 0, l1: Double = 0,
                           generator: RandomGenerator = .current) -> Self {
        let start = Tensor<Scalar>.bernoulli(Tensor(repeating: 0.5, shape: [count, visible]), generator: generator)
        return Self(k: k, chains: start, l2: l2, l1: l1, generator: generator)
    }

    public var isPersistent: Bool { chains != nil }

    /// Negative particles for this batch (advancing the persistent chains).
    public mutating func negativeParticles(_ model: RBM<Scalar>, batch: Tensor<Scalar>) -> Tensor<Scalar> {
        if let c = chains {
            let next = model.gibbs(from: c, steps: k, generator: generator)
            chains = next
            return next
        }
        return model.gibbs(from: batch, steps: k, generator: generator)
    }

    /// The loss whose gradient is the CD/PCD update; call `backward()` on it.
    public mutating func loss(_ model: RBM<Scalar>, batch: Tensor<Scalar>) -> Tensor<Scalar> {
        let negative = negativeParticles(model, batch: batch).detached()
        var l = model.freeEnergy(batch).mean() - model.freeEnergy(negative).mean()
        if l2 != 0 { l = l + model.weights.squared().sum() * Scalar(0.5 * l2) }
        if l1 != 0 { l = l + model.weights.abs().sum() * Scalar(l1) }
        return l
    }

    /// One update: loss, backward, optimizer step. Returns the loss value.
    @discardableResult
    public mutating func step<O: Optimizer>(_ model: inout RBM<Scalar>, batch: Tensor<Scalar>, optimizer: inout O) -> Scalar
    where O.Scalar == Scalar {
        model.zeroGradients()
        let l = loss(model, batch: batch)
        l.backward()
        model.update(with: &optimizer)
        return l.item
    }
}
