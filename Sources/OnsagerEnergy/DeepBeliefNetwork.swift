import OnsagerCore
import OnsagerNN

/// A stack of RBMs trained greedily, layer by layer (Hinton, Osindero & Teh 2006): each RBM
/// models the hidden probabilities of the one below. Its use here is the historical one, as
/// initialisation: `classifier(classes:)` copies the stack into a sigmoid MLP to fine-tune with
/// backprop.
public struct DeepBeliefNetwork<Scalar: TensorScalar>: Module {
    /// The RBMs, bottom first ("layers.0", …).
    public var layers: [RBM<Scalar>]

    /// Untrained RBMs of the given layer sizes (sizes[0] is the input), W ~ N(0, weightStd²).
    public init(sizes: [Int], weightStd: Scalar = 0.01, generator: RandomGenerator = .current) {
        check(sizes.count >= 2 && sizes.allSatisfy { $0 > 0 }, "DeepBeliefNetwork: needs at least two positive layer sizes, got \(sizes)")
        layers = (1..<sizes.count).map { RBM(visible: sizes[$0 - 1], hidden: sizes[$0], weightStd: weightStd, generator: generator) }
    }

    /// Trains each RBM in turn for `epochs` epochs on the hidden probabilities of the trained
    /// layers below (the data for the first), with `method` and a fresh `optimizer` copy per
    /// layer; each visible bias starts at the logit of its input's mean. `progress(layer, epoch, loss)` is called after every epoch.
    public mutating func pretrain<O: Optimizer>(on data: Tensor<Scalar>, epochs: Int, batchSize: Int, method: RBMTrainingMethod,
                                                optimizer: O, l2: Double = 0, generator: RandomGenerator,
                                                progress: (Int, Int, Double) -> Void = { _, _, _ in }) throws where O.Scalar == Scalar {
        check(epochs >= 1, "DeepBeliefNetwork.pretrain: epochs must be at least 1, got \(epochs)")
        var input = data
        for i in layers.indices {
            // Visible biases from the input's marginals (Hinton's practical guide), as RBM(data:) does.
            let p = withoutGrad { input.mean(axis: 0).clamped(min: 0.001, max: 0.999) }
            layers[i].visibleBias = withoutGrad { (p / (1 - p)).log() }.requiringGrad()
            var trainer: any RBMTrainer<Scalar> = method.makeTrainer(visible: layers[i].visibleCount, l2: l2, generator: generator)
            var opt = optimizer
            for e in 1...epochs {
                let loss = try trainer.trainEpoch(&layers[i], data: input, batchSize: batchSize, optimizer: &opt, generator: generator)
                progress(i, e, loss)
            }
            input = layers[i].transform(input)
        }
    }

    /// The stack as a sigmoid MLP — layer i computes σ(b + x W), Dense weight Wᵀ and bias b,
    /// exactly P(h | v) — with a Glorot-initialised head of `classes` outputs on top. The copies are fresh leaves: fine-tuning leaves the RBMs alone.
    public func classifier(classes: Int, generator: RandomGenerator = .current) -> Sequential<Scalar> {
        var out: [any Layer<Scalar>] = []
        for r in layers {
            // β-scaled, as P(h | v) = σ(β(b + vW)) uses them.
            let w = Tensor<Scalar>(shape: [r.hiddenCount, r.visibleCount], scalars: r.w.detached().transposed().contiguous().scalars)
            out.append(Dense(weight: w, bias: Tensor<Scalar>(r.b.detached().scalars)))
            out.append(Activation(.sigmoid))
        }
        out.append(Dense(inputSize: layers.last!.hiddenCount, outputSize: classes, generator: generator))
        return Sequential(out)
    }

    /// The RBMs as children "layers.0", …
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar { v.children("layers", &layers) }
}
