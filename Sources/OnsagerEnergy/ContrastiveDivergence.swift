import OnsagerCore
import OnsagerNN

/// CD-k and persistent CD written as a loss on the tape:
///
///     loss = mean_data F(v) − mean_negative F(stopgrad(v⁻)) + penalty(W)
///
/// Its gradient is the CD update (positive phase with hidden probabilities, since ∂F/∂W = −v σ(·)ᵀ),
/// so any optimizer of the project trains the RBM. Negative particles v⁻ come from k Gibbs steps
/// started at the data (CD-k) or from persistent chains carried across updates (PCD).
public struct ContrastiveDivergence<Scalar: TensorScalar>: RBMTrainer {
    /// Gibbs steps per update.
    public var k: Int
    /// Persistent chains (PCD) when non-nil; any number of rows. Started from uniform noise at
    /// the first update when `pcd` was not told the visible size. Assigning them drops the hidden
    /// sample kept from the last update, which belonged to the old chains.
    public var chains: Tensor<Scalar>? { didSet { chainHidden = nil } }
    /// The number of persistent chains still to be started (PCD created without a visible size).
    var pendingChains: Int?
    /// L2 penalty ½λ‖W‖² (biases are not penalised).
    public var l2: Double
    /// L1 penalty λ‖W‖₁.
    public var l1: Double
    /// The generator of the Gibbs samples (and of the epoch shuffles of `trainEpoch`).
    public let generator: RandomGenerator

    /// CD-k.
    public static func cd(k: Int = 1, l2: Double = 0, l1: Double = 0, generator: RandomGenerator = .current) -> Self {
        Self(k: k, chains: nil, l2: l2, l1: l1, generator: generator)
    }

    /// PCD with `count` persistent chains started from uniform noise: now when `visible` is
    /// given, else at the first update with the model's visible size.
    public static func pcd(k: Int = 1, chains count: Int, visible: Int? = nil, l2: Double = 0, l1: Double = 0,
                           generator: RandomGenerator = .current) -> Self {
        check(count >= 1, "PCD: needs at least one chain, got \(count)")
        var trainer = Self(k: k, chains: visible.map { Tensor<Scalar>.bernoulli(Tensor(repeating: 0.5, shape: [count, $0]), generator: generator) },
                           l2: l2, l1: l1, generator: generator)
        if visible == nil { trainer.pendingChains = count }
        return trainer
    }

    /// True for PCD (persistent chains).
    public var isPersistent: Bool { chains != nil || pendingChains != nil }

    /// The trainer's own generator (epochs shuffle with it unless told otherwise).
    public var defaultGenerator: RandomGenerator { generator }

    /// The chains' hidden sample, kept from the last update's negative-phase field so the next
    /// update needs no extra GEMM (as in scikit-learn's BernoulliRBM): the chains' h step then uses
    /// the parameters from before the last update.
    var chainHidden: Tensor<Scalar>?

    /// "CD", or "PCD with N chains" (k may change during a run and is not part of it).
    public var checkpointSignature: String {
        guard let count = chains?.shape[0] ?? pendingChains else { return "CD" }
        return "PCD with \(count) chains"
    }

    /// PCD's chains ("chains") and the hidden sample kept from the last update ("chainHidden");
    /// empty for CD-k. Assigning restores them: "chains" replaces the chains when present (a
    /// missing one keeps them), and "chainHidden" is set or, when missing, cleared.
    public var stateTensors: [String: Tensor<Scalar>] {
        get {
            var state: [String: Tensor<Scalar>] = [:]
            state["chains"] = chains
            state["chainHidden"] = chainHidden
            return state
        }
        set {
            if let c = newValue["chains"] {
                chains = c
                pendingChains = nil
            }
            chainHidden = newValue["chainHidden"]
        }
    }

    /// The loss whose gradient is the CD/PCD update; call `backward()` on it.
    ///
    /// CD-k reuses the data's hidden field for both the first Gibbs step and the positive phase;
    /// PCD evaluates both phases in one GEMM over [data; chains]. Either way an update costs five
    /// GEMMs (the weight gradient one GEMM over data and negative rows together), and the
    /// gradient is exactly that of mean F(data) − mean F(stopgrad(v⁻)). The data are constants:
    /// a `batch` recorded on the tape is an error (no gradient would reach it).
    public mutating func loss(_ model: RBM<Scalar>, batch: Tensor<Scalar>) -> Tensor<Scalar> {
        check(k >= 1, "ContrastiveDivergence: k must be at least 1, got \(k)")
        check(!batch.requiresGrad || !GradMode.isEnabled,
              "ContrastiveDivergence: the batch is recorded on the tape, but CD/PCD treat the data as constants and no gradient would reach it; pass batch.detached()")
        check(batch.rank == 2 && batch.shape[1] == model.visibleCount,
              "ContrastiveDivergence: the batch has shape \(batch.shape) but the RBM has \(model.visibleCount) visible units (batches are [rows, visible])")
        let a = model.a
        if let count = pendingChains {
            chains = Tensor<Scalar>.bernoulli(Tensor(repeating: 0.5, shape: [count, model.visibleCount]), generator: generator)
            pendingChains = nil
        }
        // x holds [data; negative] rows, written in place (no concatenation): the data first,
        // the last Gibbs step's visible sample straight into the rows below.
        let nb = batch.shape[0], nv = model.visibleCount
        let x: Tensor<Scalar>, f: Tensor<Scalar>, p: Tensor<Scalar>
        if let c = chains {
            check(c.rank == 2 && c.shape[1] == nv,
                  "PCD: the persistent chains have shape \(c.shape) but the RBM has \(nv) visible units (chains are [count, visible])")
            let nc = c.shape[0]
            check(chainHidden.map { $0.shape == [nc, model.hiddenCount] } ?? true,
                  "PCD: the kept hidden sample has shape \(chainHidden?.shape ?? []) but the \(nc) chains need [\(nc), \(model.hiddenCount)] (restore \"chains\" and \"chainHidden\" together)")
            x = Tensor(uninitializedShape: [nb + nc, nv])
            x.setRows(0, to: batch)
            runChain(model, from: chainHidden ?? model.sampleHidden(c, generator: generator), into: x, row: nb)
            chains = x.sliced(axis: 0, nb..<(nb + nc))
            (f, p) = RBM.clampedFreeEnergyWithProbabilities(linear: matmul(x, a), field: model.hiddenField(x))
        } else {
            // The data's field comes first: its σ, from the pass that also sums its softplus for
            // the loss, gives the hidden sample that starts the chain (the samples
            // `bernoulli(logits:)` of the field would give, but for draws within a rounding of
            // σ). The chain's field follows after k steps, into the rows below, and both are
            // recorded as one product over all rows, so that, as in PCD, the weight gradient is
            // one GEMM over all rows instead of two summed.
            let w = model.w, b = model.b, nh = model.hiddenCount
            x = Tensor(uninitializedShape: [2 * nb, nv])
            let value = Tensor<Scalar>(uninitializedShape: [2 * nb, nh])
            let sums = Tensor<Scalar>(uninitializedShape: [2 * nb]), sigmoid = Tensor<Scalar>(uninitializedShape: [2 * nb, nh])
            x.setRows(0, to: batch)
            value.setRows(0, toProductOf: batch, w.detached(), adding: b.detached())
            value.setSoftplusSumWithSigmoid(rows: 0..<nb, sum: sums, sigmoid: sigmoid)
            runChain(model, from: Tensor.bernoulli(sigmoid.sliced(axis: 0, 0..<nb), generator: generator), into: x, row: nb)
            value.setRows(nb, toProductOf: x.sliced(axis: 0, nb..<(2 * nb)), w.detached(), adding: b.detached())
            value.setSoftplusSumWithSigmoid(rows: nb..<(2 * nb), sum: sums, sigmoid: sigmoid)
            let field = Tensor.recordingAddmm(value, x, w, b)
            (f, p) = (RBM.clampedFreeEnergy(linear: matmul(x, a), softplusSum: field.softplusSum(computed: sums, sigmoid: sigmoid)), sigmoid)
        }
        let nc = x.shape[0] - nb
        let weights = Tensor<Scalar>(shape: [nb + nc], scalars: Array(repeating: 1 / Scalar(nb), count: nb) + Array(repeating: -1 / Scalar(nc), count: nc))
        var l = (f * weights).sum()
        if chains != nil { chainHidden = Tensor.bernoulli(p.sliced(axis: 0, nb..<(nb + nc)), generator: generator) }
        if l2 != 0 { l = l + model.weights.squared().sum() * Scalar(0.5 * l2) }
        if l1 != 0 { l = l + model.weights.abs().sum() * Scalar(l1) }
        return l
    }

    /// The negative phase's Gibbs chain from hidden sample `h`: k − 1 full steps, then the last
    /// visible sample written into rows `row...` of x.
    private func runChain(_ model: RBM<Scalar>, from h: Tensor<Scalar>, into x: Tensor<Scalar>, row: Int) {
        var h = h
        for _ in 1..<k { h = model.sampleHidden(model.sampleVisible(h, generator: generator), generator: generator) }
        withoutGrad { x.setRows(row, toBernoulliSamplesFromLogits: model.visibleField(h), generator: generator) }
    }

}
