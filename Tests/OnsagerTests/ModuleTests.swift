import Foundation
import Testing
@testable import OnsagerCore
@testable import OnsagerNN

/// A custom model as a user writes it: a nested Sequential with Dropout, an optional child, an
/// array of children, and a parameter shared with another module (tied weights).
private struct Encoder: Layer {
    typealias Scalar = Double
    var body = Sequential<Double>([Dense(inputSize: 4, outputSize: 6, generator: RandomGenerator(seed: 1)), Activation(.tanh),
                                   Dropout(probability: 0.5, generator: RandomGenerator(seed: 2))])
    var blocks = [Residual(Dense<Double>(inputSize: 6, outputSize: 6, generator: RandomGenerator(seed: 3))),
                  Residual(Dense<Double>(inputSize: 6, outputSize: 6, generator: RandomGenerator(seed: 4)))]
    var norm: BatchNorm<Double>? = BatchNorm(features: 6)
    var absent: Dense<Double>? = nil
    mutating func visit<V: ModuleVisitor<Double>>(_ v: inout V) {
        v.child("body", &body); v.children("blocks", &blocks); v.child("norm", &norm); v.child("absent", &absent)
    }
    func callAsFunction(_ x: Tensor<Double>) -> Tensor<Double> {
        let h = blocks.reduce(body(x)) { $1($0) }
        return norm.map { $0(h) } ?? h
    }
}

private struct TiedAutoencoder: Layer {
    typealias Scalar = Double
    var encoder = Encoder()
    var head: Dense<Double>
    var decoder: Dense<Double>
    init() {
        head = Dense(inputSize: 6, outputSize: 3, generator: RandomGenerator(seed: 5))
        decoder = Dense(weight: head.weight, bias: nil)          // the same tensor: one parameter, two names
    }
    mutating func visit<V: ModuleVisitor<Double>>(_ v: inout V) {
        v.child("encoder", &encoder); v.child("head", &head); v.child("decoder", &decoder)
    }
    func callAsFunction(_ x: Tensor<Double>) -> Tensor<Double> {
        let z = head(encoder(x))
        return matmul(z, decoder.weight)                           // decode with Wᵀᵀ = W: [n, 3] × [3, 6]
    }
}

@Suite struct ModuleTests {
    let x = Tensor<Double>.normal([8, 4], generator: RandomGenerator(seed: 9))

    @Test func everyChildIsFoundOnceByName() {
        let m = TiedAutoencoder()
        let names = m.namedParameters.map(\.name)
        #expect(names == ["encoder.body.0.weight", "encoder.body.0.bias",
                          "encoder.blocks.0.body.weight", "encoder.blocks.0.body.bias",
                          "encoder.blocks.1.body.weight", "encoder.blocks.1.body.bias",
                          "encoder.norm.weight", "encoder.norm.bias", "head.weight", "head.bias"],
                "nested, array-held and optional children found once each; the shared weight once, by its first name")
        #expect(m.namedBuffers.map(\.name) == ["encoder.norm.running_mean", "encoder.norm.running_var", "encoder.norm.num_batches_tracked"])
        #expect(m.stateDict.map(\.name).contains("decoder.weight"), "the state dict names a shared parameter wherever it is held, as PyTorch's")
        #expect(m.parameterCount == 4 * 6 + 6 + 2 * (36 + 6) + 12 + 18 + 3)
        #expect(m.modes.map(\.path) == ["encoder.body.2", "encoder.norm"])
    }

    /// A child left out of `visit` is reported by its property path; well-formed trees report nothing.
    @Test func anUndeclaredChildIsReported() {
        struct Forgetful: Layer {
            typealias Scalar = Double
            var used = Dense<Double>(inputSize: 2, outputSize: 2)
            var forgotten: [Dense<Double>?] = [nil, Dense<Double>(inputSize: 2, outputSize: 2)]
            var mask = Tensor<Double>.ones([2])                          // a constant: not a parameter
            mutating func visit<V: ModuleVisitor<Double>>(_ v: inout V) { v.child("used", &used) }
            func callAsFunction(_ x: Tensor<Double>) -> Tensor<Double> { used(x) * mask }
        }
        #expect(Forgetful().undeclaredTrainableTensors == ["forgotten.1.weight", "forgotten.1.bias"])
        #expect(TiedAutoencoder().undeclaredTrainableTensors.isEmpty)
        #expect(Sequential<Float>([Dense(inputSize: 2, outputSize: 2), BatchNorm(features: 2), Dropout(probability: 0.1)]).undeclaredTrainableTensors.isEmpty)
        let url = scratchURL("onsager-forgetful.safetensors")
        #expect(throws: CheckpointError.undeclared(path: url.path, names: ["forgotten.1.weight", "forgotten.1.bias"])) {
            try Checkpoint.save(Forgetful(), to: url)
        }
        #expect(Forgetful().description.hasSuffix("warning: trainable tensors not declared in visit(_:): forgotten.1.weight, forgotten.1.bias"))
        var frozen = Forgetful()
        frozen.forgotten[1]!.weight = frozen.forgotten[1]!.weight.detached()
        #expect(frozen.undeclaredTrainableTensors == ["forgotten.1.bias"])
    }

    @Test func modesRecurseThroughEveryLevel() {
        var m = TiedAutoencoder()
        _ = m(x)
        m.evaluationMode()
        #expect(m.modes.allSatisfy { !$0.isTraining } && !m.isTraining)
        let a = m(x), b = m(x)
        #expect(a.scalars == b.scalars, "no dropout and running statistics deep inside, so evaluation is deterministic")
        m.trainingMode()
        #expect(m.modes.allSatisfy(\.isTraining) && m.isTraining)
        #expect(m(x).scalars != m(x).scalars, "dropout is back")
    }

    @Test func aSharedParameterStaysSharedThroughUpdatesAndLoading() throws {
        var m = TiedAutoencoder()
        m.evaluationMode()
        var opt = Adam<Double>(learningRate: 0.01)
        for _ in 0..<3 {
            m.zeroGradients()
            Loss.meanSquaredError(m(x), Tensor.zeros([8, 6])).backward()
            m.update(with: &opt)
        }
        #expect(m.head.weight.identity == m.decoder.weight.identity && m.head.weight.scalars == m.decoder.weight.scalars)
        #expect(opt.state.slots.keys.sorted().contains("head.weight") && opt.state.slots["decoder.weight"] == nil,
                "one optimizer state for the shared parameter, under its first name")
        let url = scratchURL("onsager-tied.safetensors")
        try Checkpoint.save(m, to: url)
        var n = TiedAutoencoder()
        try Checkpoint.load(into: &n, from: url)
        #expect(n.head.weight.identity == n.decoder.weight.identity && n.head.weight.scalars == m.head.weight.scalars)
    }

    @Test func freezingExcludesFromGradientsAndTheOptimizer() throws {
        var m = TiedAutoencoder()
        m.evaluationMode()
        m.freeze("encoder.blocks")
        #expect(m.frozenParameterNames == ["encoder.blocks.0.body.weight", "encoder.blocks.0.body.bias",
                                          "encoder.blocks.1.body.weight", "encoder.blocks.1.body.bias"])
        #expect(m.trainableParameterCount == m.parameterCount - 2 * 42)
        let before = m.stateDict
        var opt = SGD<Double>(learningRate: 0.1, momentum: 0.9)
        m.zeroGradients()
        Loss.meanSquaredError(m(x), Tensor.zeros([8, 6])).backward()
        #expect(m.encoder.blocks[0].body.weight.grad == nil, "a frozen parameter gets no gradient")
        m.update(with: &opt)
        let after = Dictionary(uniqueKeysWithValues: m.stateDict.map { ($0.name, $0.value.scalars) })
        for b in before where b.name.contains("blocks") { #expect(after[b.name] == b.value.scalars, "\(b.name) unchanged") }
        #expect(after["head.weight"] != before.first { $0.name == "head.weight" }!.value.scalars)
        #expect(opt.state.slots["encoder.blocks.0.body.weight"] == nil)
        // Freezing by the second name of a shared parameter freezes it everywhere.
        m.freeze("decoder.weight")
        #expect(!m.head.weight.requiresGrad && !m.decoder.weight.requiresGrad)
        m.unfreeze()
        #expect(m.frozenParameterNames.isEmpty && m.head.weight.identity == m.decoder.weight.identity)
        // Loading keeps the frozen state.
        m.freeze("head")
        let url = scratchURL("onsager-frozen.safetensors")
        try Checkpoint.save(m, to: url)
        try Checkpoint.load(into: &m, from: url)
        #expect(m.frozenParameterNames == ["head.weight", "head.bias"])
    }

    @Test func theTreePrintsLikePyTorch() {
        let m = Sequential<Float>([Dense(inputSize: 784, outputSize: 128, generator: RandomGenerator(seed: 1)), Activation(.relu),
                                   Dropout(probability: 0.2), Dense(inputSize: 128, outputSize: 10, generator: RandomGenerator(seed: 1))])
        #expect(m.description == """
            Sequential(
              (0): Dense(784 → 128)
              (1): Activation(relu)
              (2): Dropout(p: 0.2)
              (3): Dense(128 → 10)
            )
            101,770 parameters (101,770 trainable)
            """)
        #expect(TiedAutoencoder().description.contains("  (encoder): Encoder(\n    (body): Sequential(\n      (0): Dense(4 → 6)"))
    }

    /// Optimizer state follows names: a model whose parameters are declared in another order, with
    /// an extra one, continues from saved state exactly as the original does.
    @Test func optimizerStateIsKeyedByName() throws {
        struct Two: Module {
            typealias Scalar = Double
            var a = Tensor<Double>([1, 2, 3]).requiringGrad(), b = Tensor<Double>([[0.5, -1], [2, 0.25]]).requiringGrad()
            var extra: Tensor<Double>? = nil
            var reversed = false
            mutating func visit<V: ModuleVisitor<Double>>(_ v: inout V) {
                if reversed { v.parameter("extra", &extra); v.parameter("b", &b); v.parameter("a", &a) }
                else { v.parameter("a", &a); v.parameter("b", &b) }
            }
            func loss() -> Tensor<Double> { (a * a).sum() + (b * b * b).sum() + (extra.map { ($0 * $0).sum() } ?? Tensor(0)) }
        }
        func step(_ m: inout Two, _ o: inout Adam<Double>) { m.zeroGradients(); m.loss().backward(); m.update(with: &o) }
        var m = Two(), o = Adam<Double>(learningRate: 0.05)
        for _ in 0..<3 { step(&m, &o) }
        let url = scratchURL("onsager-opt.safetensors")
        try Checkpoint.save(optimizer: o, to: url)
        var r = m
        r.reversed = true
        r.extra = Tensor<Double>([4]).requiringGrad()
        var ro = Adam<Double>(learningRate: 0.05)
        try Checkpoint.load(optimizer: &ro, from: url)
        for _ in 0..<2 { step(&m, &o); step(&r, &ro) }
        #expect(r.a.scalars == m.a.scalars && r.b.scalars == m.b.scalars, "reordered and extended, each buffer stays with its parameter")
        #expect(ro.state.steps["extra"] == 2 && ro.state.steps["a"] == 5)
    }

    @Test func parameterGroupsSetRateAndDecayBySubset() {
        var m = Sequential<Double>([Dense(inputSize: 3, outputSize: 2, generator: RandomGenerator(seed: 2))])
        let x = Tensor<Double>.normal([5, 3], generator: RandomGenerator(seed: 3))
        m.zeroGradients()
        Loss.meanSquaredError(m(x), Tensor.ones([5, 2])).backward()
        let w = m.namedParameters[0].value, b = m.namedParameters[1].value
        let gw = w.grad!, gb = b.grad!
        var opt = SGD<Double>(learningRate: 0.1, weightDecay: 0.5)
        opt.groups = [ParameterGroup("biases", learningRateFactor: 2, weightDecay: 0) { $0.hasSuffix("bias") }]
        m.update(with: &opt)
        #expect(allClose(m.namedParameters[0].value.detached(), w.detached() - (gw + w.detached() * 0.5) * 0.1, rtol: 1e-14, atol: 1e-15))
        #expect(allClose(m.namedParameters[1].value.detached(), b.detached() - gb * 0.2, rtol: 1e-14, atol: 1e-15),
                "the bias group: twice the rate, no decay")
    }
}

/// The README's custom-model example, at a smaller size: it compiles and does what it says.
private struct ReadmeClassifier: Layer {
    typealias Scalar = Float
    var encoder = Dense<Float>(inputSize: 6, outputSize: 5, initializer: .heNormal, generator: RandomGenerator(seed: 1))
    var body = Sequential<Float>([Activation(.relu), Dropout(probability: 0.2, generator: RandomGenerator(seed: 2))])
    var head = Dense<Float>(inputSize: 5, outputSize: 3, generator: RandomGenerator(seed: 3))
    mutating func visit<V: ModuleVisitor<Float>>(_ v: inout V) { v.child("encoder", &encoder); v.child("body", &body); v.child("head", &head) }
    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { head(body(encoder(x))) }
}

@Suite struct ReadmeExampleTests {
    @Test func theCustomModelExampleRuns() throws {
        var model = ReadmeClassifier()
        model.freeze("encoder")
        var sgd = SGD<Float>(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4)
        sgd.groups = [ParameterGroup("biases", weightDecay: 0) { $0.hasSuffix("bias") }]
        var loop = TrainingLoop(model: model, optimizer: sgd, batchSize: 10, schedule: CosineAnnealing(initial: 0.1, period: 100),
                                generator: RandomGenerator(seed: 4))
        loop.showProgress = false
        loop.earlyStopping = EarlyStopping(metric: "val_loss", patience: 3)
        let x = Tensor<Float>.normal([40, 6], generator: RandomGenerator(seed: 5)), y = (0..<40).map { $0 % 3 }
        let encoderBefore = model.encoder.weight.scalars
        try loop.fit(inputs: x, labels: y, epochs: 3, validation: (x, y), loss: { m, x, y in Loss.softmaxCrossEntropy(logits: m(x), labels: y) })
        #expect(loop.history.count == 3 && loop.history.allSatisfy { $0.metrics[0].0 == "val_loss" })
        #expect(loop.model.encoder.weight.scalars == encoderBefore, "the frozen encoder is untouched")
        #expect(model.description.hasPrefix("ReadmeClassifier(\n  (encoder): Dense(6 → 5)\n  (body): Sequential("))
        #expect(hessian({ x in (x * x * x).sum() }, at: Tensor<Double>([1, 2])).scalars == [6, 0, 0, 12])
    }
}
