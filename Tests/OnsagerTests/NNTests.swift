import Foundation
import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData
@testable import OnsagerLinearAlgebra

@Suite struct OptimizerGoldenTests {
    struct File: Decodable {
        let optimizers: [String: [[Double]]]
        let schedules: [String: [Double]]
        struct Clip: Decodable { let norm: Double; let grad: [Double] }
        let clip: Clip
    }
    static let golden: File = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/torch.json")
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }()
    // Separate declarations: `static let c = …, d = …` with closure initialisers evaluated the
    // first initialiser for both under Swift 6.3.1 (found by this test).
    static let c = Tensor<Double>((0..<6).map { 1 + Double($0) / 4 })
    static let d = Tensor<Double>((0..<6).map { sin(Double($0)) })

    static func trace<O: Optimizer>(_ opt: O) -> [[Double]] where O.Scalar == Double {
        var o = opt
        var ps = [Tensor<Double>((0..<6).map { cos(0.7 * Double($0)) }).requiringGrad()]
        var out: [[Double]] = []
        for _ in 0..<5 {
            ps[0].zeroGrad()
            let loss = (c * ps[0] * ps[0] * 0.5 + d * ps[0]).sum()
            loss.backward()
            o.step(&ps)
            out.append(ps[0].scalars)
        }
        return out
    }

    static let configs: [(String, @Sendable () -> [[Double]])] = [
        ("sgd", { trace(SGD<Double>(learningRate: 0.1)) }),
        ("sgd_momentum", { trace(SGD<Double>(learningRate: 0.1, momentum: 0.9)) }),
        ("sgd_nesterov_wd", { trace(SGD<Double>(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.05)) }),
        ("sgd_dampening", { trace(SGD<Double>(learningRate: 0.1, momentum: 0.8, dampening: 0.3)) }),
        ("adam", { trace(Adam<Double>(learningRate: 0.05)) }),
        ("adam_wd", { trace(Adam<Double>(learningRate: 0.05, weightDecay: 0.1)) }),
        ("adamw", { trace(Adam<Double>(learningRate: 0.05, weightDecay: 0.1, decoupledWeightDecay: true)) }),
        ("rmsprop", { trace(RMSProp<Double>(learningRate: 0.01)) }),
        ("rmsprop_momentum_centered", { trace(RMSProp<Double>(learningRate: 0.01, weightDecay: 0.01, momentum: 0.9, centered: true)) }),
        ("adagrad", { trace(AdaGrad<Double>(learningRate: 0.1)) }),
        ("adagrad_decay", { trace(AdaGrad<Double>(learningRate: 0.1, learningRateDecay: 0.05, weightDecay: 0.02, initialAccumulator: 0.1)) }),
    ]

    @Test(arguments: configs.map(\.0))
    func optimizerMatchesPyTorch(_ name: String) {
        let got = Self.configs.first { $0.0 == name }!.1(), want = Self.golden.optimizers[name]!
        for (step, (g, w)) in zip(got, want).enumerated() {
            #expect(maxRelativeError(g, w, floor: 1e-12) < 1e-10, "\(name) step \(step + 1): \(g) vs \(w)")
        }
    }

    @Test func everyGoldenOptimizerIsChecked() { #expect(Set(Self.golden.optimizers.keys) == Set(Self.configs.map(\.0))) }

    @Test func schedulesMatchPyTorch() {
        let s = Self.golden.schedules
        let ours: [String: any LearningRateSchedule] = [
            "step": StepDecay(initial: 0.5, stepSize: 3, gamma: 0.5), "exponential": ExponentialDecay(initial: 0.5, gamma: 0.9),
            "cosine": CosineAnnealing(initial: 0.5, period: 10, minimum: 0.01),
            "linear_warmup": LinearWarmup(steps: 4, startFactor: 0.25, then: ExponentialDecay(initial: 0.5, gamma: 1)),
        ]
        for (name, sched) in ours {
            let got = (0..<12).map { sched.rate(at: $0) }
            #expect(maxRelativeError(got, s[name]!, floor: 1e-12) < 1e-12, "\(name): \(got) vs \(s[name]!)")
        }
        #expect(InverseTimeDecay(initial: 1, decay: 0.5).rate(at: 2) == 0.5)
    }

    @Test func clippingMatchesPyTorch() {
        let p = Tensor<Double>([3, -4, 12]).requiringGrad()
        (p * p).sum().backward()
        let norm = clipGradientNorm([p], maxNorm: 5)
        #expect(Swift.abs(norm - Self.golden.clip.norm) < 1e-12)
        #expect(maxRelativeError(p.grad!.scalars, Self.golden.clip.grad) < 1e-12)
    }
}

@Suite struct LayerTests {
    typealias T = Tensor<Double>

    @Test func layersAndLossesPassGradcheck() {
        let g = RandomGenerator(seed: 3)
        let dense = Dense<Double>(inputSize: 4, outputSize: 3, generator: g)
        let ln = LayerNorm<Double>(size: 3)
        let x = T.normal([5, 4], generator: g)
        let labels = [0, 2, 1, 1, 0]
        let cases: [(String, ([T]) -> T, [T])] = [
            ("dense + tanh", { p in Activation<Double>(.tanh)(Dense(weight: p[0], bias: p[1])(p[2])) }, dense.parameters + [x]),
            ("layer norm", { p in var l = ln; l.scale = p[0]; l.shift = p[1]; return l(p[2]) }, [T.normal([3], generator: g), T.normal([3], generator: g), T.normal([4, 3], generator: g)]),
            ("batch norm (training)", { p in var l = BatchNorm<Double>(features: 3); l.scale = p[0]; l.shift = p[1]; return l(p[2]) }, [T.normal([3], generator: g), T.normal([3], generator: g), T.normal([6, 3], generator: g)]),
            ("batch norm of images (training)", { p in var l = BatchNorm<Double>(features: 3); l.scale = p[0]; l.shift = p[1]; return l(p[2]) }, [T.normal([3], generator: g), T.normal([3], generator: g), T.normal([2, 3, 2, 3], generator: g)]),
            ("batch norm of sequences (evaluation)", { p in var l = BatchNorm<Double>(features: 2); l.isTraining = false; l.scale = p[0]; l.shift = p[1]; return l(p[2]) }, [T.normal([2], generator: g), T.normal([2], generator: g), T.normal([3, 2, 4], generator: g)]),
            ("mse", { Loss.meanSquaredError($0[0], $0[1]) }, [T.normal([4, 2], generator: g), T.normal([4, 2], generator: g)]),
            ("bce probabilities", { Loss.binaryCrossEntropy(probabilities: $0[0].sigmoid(), $0[1]) }, [T.normal([6], generator: g), T.uniform([6], generator: g)]),
            ("bce logits", { Loss.binaryCrossEntropy(logits: $0[0], $0[1], reduction: .sum) }, [T.normal([6], generator: g), T.uniform([6], generator: g)]),
            ("softmax cross-entropy", { Loss.softmaxCrossEntropy(logits: $0[0], labels: labels) }, [T.normal([5, 3], generator: g)]),
            ("nll, no reduction", { Loss.negativeLogLikelihood(logProbabilities: $0[0].logSoftmax(axis: 1), labels: labels, reduction: .none) }, [T.normal([5, 3], generator: g)]),
            ("l1 + l2 penalties", { Loss.l1Penalty([$0[0]]) + Loss.l2Penalty([$0[0], $0[1]]) }, [T([0.5, -1.2, 2]), T.normal([2, 2], generator: g)]),
        ]
        for (name, f, inputs) in cases {
            let r = gradcheck(f, at: inputs)
            #expect(r.passed, "\(name): \(r)")
        }
    }

    @Test func sequentialRegistersParametersByName() {
        let g = RandomGenerator(seed: 4)
        var model = Sequential<Float>([Dense(inputSize: 4, outputSize: 8, generator: g), Activation(.relu), Dropout(probability: 0.5, generator: g),
                                       BatchNorm(features: 8), Dense(inputSize: 8, outputSize: 2, initializer: .heNormal, generator: g)])
        #expect(model.namedParameters.map(\.name) == ["0.weight", "0.bias", "3.weight", "3.bias", "4.weight", "4.bias"])
        #expect(model.namedBuffers.map(\.name) == ["3.running_mean", "3.running_var", "3.num_batches_tracked"])
        let x = Tensor<Float>.normal([16, 4], generator: g)
        let y = model(x)
        #expect(y.shape == [16, 2])
        #expect(model.namedBuffers[0].value.scalars != [Float](repeating: 0, count: 8), "training updates the running mean")
        model.evaluationMode()
        #expect(!model.isTraining)
        let e1 = model(x), e2 = model(x)
        #expect(e1.scalars == e2.scalars, "evaluation is deterministic (no dropout, running statistics)")
        var sgd = SGD<Float>(learningRate: 0.1)
        model.trainingMode()
        let before = model.parameters[0].scalars
        Loss.meanSquaredError(model(x), Tensor.zeros([16, 2])).backward()
        model.update(with: &sgd)
        #expect(model.parameters[0].scalars != before)
    }

    @Test func dropoutScalesByInverseKeepProbability() {
        let d = Dropout<Double>(probability: 0.25, generator: RandomGenerator(seed: 5))
        let y = d(T.ones([100_000]))
        let kept = y.scalars.filter { $0 != 0 }
        #expect(kept.allSatisfy { Swift.abs($0 - 4.0 / 3) < 1e-12 })
        #expect(Swift.abs(y.mean().item - 1) < 0.01, "expected value preserved")
        var e = d
        e.evaluationMode()
        #expect(e(T.ones([10])).scalars == [Double](repeating: 1, count: 10))
    }

    @Test func initializersHaveTheirVariances() {
        let g = RandomGenerator(seed: 6)
        let w: Tensor<Double> = Initializer.glorotUniform.make([300, 200], generator: g)
        #expect(Swift.abs(w.variance().item - 2.0 / 500) < 2e-4)
        let h: Tensor<Double> = Initializer.heNormal.make([400, 300], generator: g)
        #expect(Swift.abs(h.variance().item - 2.0 / 400) < 2e-4)
    }
}

@Suite struct TrainingLoopTests {
    static func blobs() -> (Tensor<Float>, Tensor<Float>) {
        let g = RandomGenerator(seed: 8)
        let x = Tensor<Float>.normal([200, 2], generator: g)
        let labels = x.scalars.chunked(2).map { $0[0] + 0.5 * $0[1] > 0 ? Float(1) : 0 }
        return (x, Tensor(shape: [200], scalars: labels))
    }

    @Test func trainsWritesMetricsAndIsReproducible() throws {
        let (x, y) = Self.blobs()
        let csv = scratchURL("onsager-metrics.csv")
        func run() throws -> ([Float], [EpochRecord]) {
            let g = RandomGenerator(seed: 9)
            let model = Sequential<Float>([Dense(inputSize: 2, outputSize: 16, generator: g), Activation(.relu), Dense(inputSize: 16, outputSize: 2, generator: g)])
            var loop = TrainingLoop(model: model, optimizer: SGD<Float>(learningRate: 0.1, momentum: 0.9), batchSize: 20,
                                    schedule: CosineAnnealing(initial: 0.1, period: 100), clipNorm: 5, generator: g, metricsFile: csv)
            loop.showProgress = false
            try loop.fit(inputs: x, targets: y, epochs: 10, loss: { m, xb, yb in
                Loss.softmaxCrossEntropy(logits: m(xb), labels: yb.scalars.map { Int($0) })
            }, evaluate: { m in
                let pred = m(x).argmax(axis: 1)
                return [("accuracy", Double(zip(pred, y.scalars).filter { Float($0.0) == $0.1 }.count) / 200)]
            })
            return (loop.model.parameters[0].scalars, loop.history)
        }
        let (w1, h1) = try run(), (w2, _) = try run()
        #expect(w1 == w2)
        #expect(h1.count == 10 && h1.last!.loss < h1.first!.loss)
        #expect(h1.last!.metrics[0].1 > 0.95, "accuracy \(h1.last!.metrics[0].1)")
        let text = try String(contentsOf: csv, encoding: .utf8)
        #expect(text.hasPrefix("epoch,step,loss,learning_rate,seconds,samples_per_second,accuracy\n"))
        #expect(text.split(separator: "\n").count == 11)
    }

    @Test func stopsAtTheFirstNonFiniteValueNamingTheOp() {
        let (x, y) = Self.blobs()
        let model = Sequential<Float>([Dense(inputSize: 2, outputSize: 1, generator: RandomGenerator(seed: 10))])
        var loop = TrainingLoop(model: model, optimizer: SGD<Float>(learningRate: 0.1), batchSize: 50)
        loop.showProgress = false
        do {
            // log of a linear output goes NaN for negative outputs.
            try loop.fit(inputs: x, targets: y, epochs: 1, loss: { m, xb, _ in m(xb).log().mean() })
            Issue.record("expected a TrainingError")
        } catch let e as TrainingError {
            guard case let .nonFinite(epoch, step, _, op) = e else { return }
            #expect(epoch == 1 && step == 0 && op == "log", "\(e)")
            #expect("\(e)".contains("'log'"))
        } catch { Issue.record("unexpected \(error)") }
    }

    /// Sequential runs a Dense followed by a ReLU as one op (linearReLU, the ReLU applied by the
    /// GEMM): the output and every gradient, the input's included, are the bits of the layers
    /// applied one by one. Under anomaly detection it runs the two layers, so a −∞ pre-activation
    /// (which the ReLU turns into 0) is still reported, at "linear".
    @Test func sequentialRunsDenseAndReLUAsOneOp() throws {
        let g = RandomGenerator(seed: 21)
        let d1 = Dense<Float>(inputSize: 30, outputSize: 40, generator: g), d2 = Dense<Float>(inputSize: 40, outputSize: 20, generator: g)
        let d3 = Dense<Float>(inputSize: 20, outputSize: 3, generator: g)
        let model = Sequential<Float>([d1, Activation(.relu), d2, Activation(.relu), d3])
        let x = Tensor<Float>.normal([16, 30], generator: g).requiringGrad()
        let fused = model(x)
        let reference = linear(linear(linear(x, weight: d1.weight, bias: d1.bias).relu(), weight: d2.weight, bias: d2.bias).relu(),
                               weight: d3.weight, bias: d3.bias)
        #expect(fused.scalars == reference.scalars)
        let inputs = [x, d1.weight, d1.bias!, d2.weight, d2.bias!, d3.weight, d3.bias!]
        let gf = gradients(of: (fused * fused).sum(), wrt: inputs), gr = gradients(of: (reference * reference).sum(), wrt: inputs)
        for (i, (a, b)) in zip(gf, gr).enumerated() { #expect(a.scalars == b.scalars, "gradient \(i)") }
        let h = Sequential<Float>([d1, Activation(.relu)])(x)
        #expect(h.node?.op.description == "linear_relu")
        #expect(h.scalars.contains(0) && h.scalars.contains { $0 > 0 }, "the ReLU is active on some units and not others")
        #expect(Sequential<Float>([d1, Activation(.sigmoid)])(x).node?.op.description == "sigmoid", "only a ReLU is fused")
        // A bias of −∞ on unit 3: the fused op's output is finite (the ReLU makes it 0).
        var bias = d1.bias!.scalars
        bias[3] = -.infinity
        var d1Inf = d1
        d1Inf.bias = Tensor(shape: [40], scalars: bias)
        let infModel = Sequential<Float>([d1Inf, Activation(.relu), d2])
        let infOut = infModel(x).scalars
        #expect(infOut.allSatisfy { $0.isFinite })
        do {
            _ = try AnomalyDetection.run { infModel(x).sum() }
            Issue.record("expected a NonFiniteError")
        } catch let e as NonFiniteError {
            #expect(e.op == "linear" && e.count == 16, "\(e)")
        }
    }

    /// Sequential runs a Conv2d followed by a ReLU as one op (conv2dReLU), and with a MaxPool2d
    /// after them as one op too: the output and every gradient are the bits of the layers one by
    /// one; other activations are not fused, and under
    /// anomaly detection a −∞ pre-activation is reported at "conv2d".
    @Test func sequentialRunsConvolutionAndReLUAsOneOp() throws {
        let g = RandomGenerator(seed: 22)
        let c1 = Conv2d<Float>(inChannels: 2, outChannels: 4, kernel: 3, padding: 1, generator: g)
        let c2 = Conv2d<Float>(inChannels: 4, outChannels: 3, kernel: 2, stride: 2, generator: g)
        let model = Sequential<Float>([c1, Activation(.relu), c2, Activation(.relu), Flatten()])
        let x = Tensor<Float>.normal([5, 2, 8, 8], generator: g).requiringGrad()
        let fused = model(x)
        let h = conv2d(x, weight: c1.weight, bias: c1.bias, padding: (1, 1)).relu()
        let reference = conv2d(h, weight: c2.weight, bias: c2.bias, stride: (2, 2)).relu().reshaped([5, -1])
        #expect(fused.scalars == reference.scalars)
        let inputs = [x, c1.weight, c1.bias!, c2.weight, c2.bias!]
        let gf = gradients(of: (fused * fused).sum(), wrt: inputs), gr = gradients(of: (reference * reference).sum(), wrt: inputs)
        for (i, (a, b)) in zip(gf, gr).enumerated() { #expect(a.scalars == b.scalars, "gradient \(i)") }
        let first = Sequential<Float>([c1, Activation(.relu)])(x)
        #expect(first.node?.op.description == "conv2d_relu")
        #expect(first.scalars.contains(0) && first.scalars.contains { $0 > 0 }, "the ReLU is active on some outputs and not others")
        #expect(Sequential<Float>([c1, Activation(.tanh)])(x).node?.op.description == "tanh", "only a ReLU is fused")
        // With a MaxPool2d after the ReLU, the three layers are one op, with the same bits.
        let pooledModel = Sequential<Float>([c1, Activation(.relu), MaxPool2d(kernel: 2), c2, Activation(.relu), Flatten()])
        let pooled = pooledModel(x)
        let h2 = conv2d(x, weight: c1.weight, bias: c1.bias, padding: (1, 1)).relu()
        let pooledReference = conv2d(maxPool2d(h2, kernel: (2, 2)), weight: c2.weight, bias: c2.bias, stride: (2, 2)).relu().reshaped([5, -1])
        #expect(pooled.scalars == pooledReference.scalars)
        let gp = gradients(of: (pooled * pooled).sum(), wrt: inputs), gpr = gradients(of: (pooledReference * pooledReference).sum(), wrt: inputs)
        for (i, (a, b)) in zip(gp, gpr).enumerated() { #expect(a.scalars == b.scalars, "pooled model, gradient \(i)") }
        #expect(Sequential<Float>([c1, Activation(.relu), MaxPool2d(kernel: 2)])(x).node?.op.description == "conv2d_relu_max_pool2d")
        #expect(Sequential<Float>([c1, Activation(.relu), MaxPool2d(kernel: 3, stride: 1)])(x).shape == [5, 4, 6, 6])
        var c1Inf = c1
        var bias = c1.bias!.scalars
        bias[2] = -.infinity
        c1Inf.bias = Tensor(shape: [4], scalars: bias)
        let infModel = Sequential<Float>([c1Inf, Activation(.relu)])
        #expect(infModel(x).scalars.allSatisfy { $0.isFinite })
        do {
            _ = try AnomalyDetection.run { infModel(x).sum() }
            Issue.record("expected a NonFiniteError")
        } catch let e as NonFiniteError {
            #expect(e.op == "conv2d" && e.count == 5 * 64, "\(e)")
        }
    }
}

@Suite struct PreprocessingTests {
    @Test func splitAndScale() {
        let g = RandomGenerator(seed: 12)
        let x = Tensor<Double>.normal([100, 3], mean: 5, std: 2, generator: g), y = Tensor<Double>.arange(0, 100)
        let (train, val) = Preprocessing.trainValidationSplit(x, y, validationFraction: 0.2, generator: g)
        #expect(train.0.shape == [80, 3] && val.0.shape == [20, 3])
        #expect(Set(train.1.scalars + val.1.scalars).count == 100, "a partition of the rows")
        let s = Preprocessing.Scaler.standard(fitting: train.0)
        let z = s.transform(train.0)
        #expect(z.mean(axis: 0).scalars.allSatisfy { Swift.abs($0) < 1e-12 })
        #expect(z.variance(axes: [0]).scalars.allSatisfy { Swift.abs($0 - 1) < 1e-12 })
        let m = Preprocessing.Scaler.minMax(fitting: train.0).transform(train.0)
        #expect(Swift.abs(m.min().item) < 1e-12 && Swift.abs(m.max().item - 1) < 1e-12)
    }
}
