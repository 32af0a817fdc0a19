import Foundation
import Testing
@testable import OnsagerCore
@testable import OnsagerNN

@Suite struct TrainingPipelineTests {
    let x = Tensor<Float>.normal([37, 3], generator: RandomGenerator(seed: 31))

    func epochRows(_ loader: inout BatchLoader<Float>) -> [[Int]] { loader.epoch().map(\.indices) }

    @Test func loaderIsSeededCompleteAndDropsLastOnRequest() {
        var a = BatchLoader(inputs: x, labels: Array(0..<37).map { $0 % 5 }, batchSize: 8, prefetch: true, generator: RandomGenerator(seed: 4))
        var b = BatchLoader(inputs: x, labels: Array(0..<37).map { $0 % 5 }, batchSize: 8, prefetch: false, generator: RandomGenerator(seed: 4))
        let ea = epochRows(&a), eb = epochRows(&b)
        #expect(ea == eb, "prefetching changes nothing")
        #expect(ea.map(\.count) == [8, 8, 8, 8, 5] && ea.flatMap { $0 }.sorted() == Array(0..<37))
        #expect(epochRows(&a) != ea, "each epoch has its own order")
        var d = BatchLoader(inputs: x, batchSize: 8, dropLast: true, generator: RandomGenerator(seed: 4))
        #expect(epochRows(&d).map(\.count) == [8, 8, 8, 8] && d.batchesPerEpoch == 4)
        var c = BatchLoader(inputs: x, labels: Array(0..<37).map { $0 % 5 }, batchSize: 8, shuffle: false)
        let first = c.epoch().first { _ in true }!
        #expect(first.labels == [0, 1, 2, 3, 4, 0, 1, 2] && first.inputs.scalars == Array(x.scalars[0..<24]))
    }

    /// Random augmentation gives the same bits with or without the background thread, and again
    /// on a second run: each batch has its own generator.
    @Test func transformsAreDeterministicUnderPrefetch() {
        let noise: BatchLoader<Float>.Transform = { b, g in
            var b = b
            b.inputs = b.inputs + Tensor<Float>.normal(b.inputs.shape, std: 0.1, generator: g)
            return b
        }
        func run(prefetch: Bool) -> [[Float]] {
            var l = BatchLoader(inputs: x, batchSize: 10, prefetch: prefetch, generator: RandomGenerator(seed: 8), transform: noise)
            return (0..<2).flatMap { _ in l.epoch().map(\.inputs.scalars) }
        }
        let a = run(prefetch: true)
        #expect(a == run(prefetch: false) && a == run(prefetch: true))
        #expect(a[0] != a[4], "different batches get different noise")
        #expect(BatchLoader(inputs: x, batchSize: 10, transform: noise).prefetches, "by default a transformed batch is prepared in the background")
        #expect(!BatchLoader(inputs: x, batchSize: 10).prefetches, "by default a plain gather runs on the calling thread")
        #expect(BatchLoader(inputs: x, batchSize: 10, prefetch: true).prefetches && !BatchLoader(inputs: x, batchSize: 10, prefetch: false, transform: noise).prefetches)
    }

    /// A model whose output differs between modes, to see which mode validation ran in.
    struct Probe: Layer {
        typealias Scalar = Float
        var dense = Dense<Float>(inputSize: 3, outputSize: 1, generator: RandomGenerator(seed: 2))
        var dropout = Dropout<Float>(probability: 0.5, generator: RandomGenerator(seed: 3))
        mutating func visit<V: ModuleVisitor<Float>>(_ v: inout V) { v.child("dense", &dense); v.child("dropout", &dropout) }
        func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { dropout(dense(x)) }
    }

    @Test func zeroEpochsTrainNothing() throws {
        var loop = TrainingLoop(model: Probe(), optimizer: SGD<Float>(learningRate: 0.05), batchSize: 8)
        loop.showProgress = false
        let before = loop.model.stateDict.map(\.value.scalars)
        try loop.fit(inputs: x, targets: x.sum(axis: 1, keepDims: true), epochs: 0, loss: { m, a, b in Loss.meanSquaredError(m(a), b) })
        #expect(loop.history.isEmpty && loop.model.stateDict.map(\.value.scalars) == before)
    }

    @Test func validationRunsInEvaluationMode() throws {
        let y = x.sum(axis: 1, keepDims: true)
        var loop = TrainingLoop(model: Probe(), optimizer: SGD<Float>(learningRate: 0.05), batchSize: 8, generator: RandomGenerator(seed: 5))
        loop.showProgress = false
        var snapshot: Probe?
        try loop.fit(inputs: x, targets: y, epochs: 1, validation: (x, y), loss: { m, a, b in Loss.meanSquaredError(m(a), b) },
                     evaluate: { m in snapshot = m; return [("training", m.isTraining ? 1 : 0)] })
        #expect(loop.history[0].metrics.map(\.0) == ["val_loss", "training"] && loop.history[0].metrics[1].1 == 0)
        var eval = snapshot!
        eval.evaluationMode()
        #expect(abs(loop.history[0].metrics[0].1 - Double(Loss.meanSquaredError(eval(x), y).item)) < 1e-5)
        #expect(loop.model.isTraining, "back in training mode after validation")
    }

    @Test func earlyStoppingStopsAndRestoresTheBest() throws {
        // A rate so large that the loss soon rises: training should stop and put back the best epoch.
        let y = x.sum(axis: 1, keepDims: true)
        var loop = TrainingLoop(model: Dense<Float>(inputSize: 3, outputSize: 1, generator: RandomGenerator(seed: 2)),
                                optimizer: SGD<Float>(learningRate: 0.9), batchSize: 37, generator: RandomGenerator(seed: 5))
        loop.showProgress = false
        loop.earlyStopping = EarlyStopping(metric: "val_loss", patience: 2)
        var states: [[Float]] = []
        try loop.fit(inputs: x, targets: y, epochs: 50, validation: (x, y), loss: { m, a, b in Loss.meanSquaredError(m(a), b) },
                     evaluate: { m in states.append(m.weight.scalars); return [] })
        let losses = loop.history.map { $0.metrics[0].1 }
        let best = losses.indices.min { losses[$0] < losses[$1] }!
        #expect(loop.stoppedEarly && loop.history.count == best + 3, "stopped two epochs after the best: \(losses)")
        #expect(loop.model.weight.scalars == states[best], "the best epoch's parameters are back")
    }

    /// Interrupted after epoch 2 and resumed: the same bits as the uninterrupted run, with
    /// dropout, momentum, a schedule and shuffling all depending on restored state.
    @Test func resumeContinuesBitForBit() throws {
        let y = x.sum(axis: 1, keepDims: true).tanh()
        let dir = scratchURL("onsager-resume")
        try? FileManager.default.removeItem(at: dir)
        func makeLoop() -> TrainingLoop<Sequential<Float>, Adam<Float>> {
            let g = RandomGenerator(seed: 12)
            let model = Sequential<Float>([Dense(inputSize: 3, outputSize: 16, generator: g), Activation(.relu),
                                           Dropout(probability: 0.3, generator: RandomGenerator(seed: 13)), Dense(inputSize: 16, outputSize: 1, generator: g)])
            var loop = TrainingLoop(model: model, optimizer: Adam<Float>(learningRate: 0.01), batchSize: 8,
                                    schedule: StepDecay(initial: 0.01, stepSize: 7, gamma: 0.5), generator: RandomGenerator(seed: 14))
            loop.showProgress = false
            return loop
        }
        let loss: (Sequential<Float>, Tensor<Float>, Tensor<Float>) -> Tensor<Float> = { m, a, b in Loss.meanSquaredError(m(a), b) }
        var whole = makeLoop()
        try whole.fit(inputs: x, targets: y, epochs: 5, loss: loss)
        var first = makeLoop()
        first.checkpointing = CheckpointPolicy(directory: dir, every: 2)
        try first.fit(inputs: x, targets: y, epochs: 3, loss: loss)     // checkpoints after epochs 2 and 3
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path))
        var resumed = makeLoop()
        try resumed.resume(from: dir)
        #expect(resumed.history.count == 3 && resumed.globalStep == 15)
        try resumed.fit(inputs: x, targets: y, epochs: 5, loss: loss)
        #expect(resumed.model.stateDict.map(\.value.scalars) == whole.model.stateDict.map(\.value.scalars))
        #expect(resumed.history.map(\.loss) == whole.history.map(\.loss))
        var wrong = TrainingLoop(model: Dense<Float>(inputSize: 3, outputSize: 1), optimizer: Adam<Float>(), batchSize: 8)
        #expect(throws: CheckpointError.self) { try wrong.resume(from: dir) }
    }

    /// Early stopping across an interruption: the best epoch's state is in the checkpoint, so the
    /// resumed run stops and restores exactly as the uninterrupted one; a run in several `fit`
    /// calls never rewinds between them.
    @Test func earlyStoppingSurvivesResumeAndChunkedFits() throws {
        final class Script: @unchecked Sendable { var epoch = 0; var weights: [[Float]] = []; let scores = [1.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999] }
        let y = x.sum(axis: 1, keepDims: true)
        let dir = scratchURL("onsager-best")
        try? FileManager.default.removeItem(at: dir)
        func makeLoop() -> TrainingLoop<Dense<Float>, SGD<Float>> {
            var loop = TrainingLoop(model: Dense<Float>(inputSize: 3, outputSize: 1, generator: RandomGenerator(seed: 2)),
                                    optimizer: SGD<Float>(learningRate: 0.05, momentum: 0.5), batchSize: 8, generator: RandomGenerator(seed: 5))
            loop.showProgress = false
            loop.earlyStopping = EarlyStopping(metric: "score", patience: 3)
            return loop
        }
        let loss: (Dense<Float>, Tensor<Float>, Tensor<Float>) -> Tensor<Float> = { m, a, b in Loss.meanSquaredError(m(a), b) }
        func fit(_ loop: inout TrainingLoop<Dense<Float>, SGD<Float>>, _ epochs: Int, _ script: Script) throws {
            try loop.fit(inputs: x, targets: y, epochs: epochs, loss: loss, evaluate: { m in
                script.weights.append(m.weight.scalars); script.epoch += 1; return [("score", script.scores[script.epoch - 1])]
            })
        }
        var whole = makeLoop()
        let w = Script()
        try fit(&whole, 10, w)
        let w1 = w.weights
        #expect(whole.stoppedEarly && whole.history.count == 5 && whole.model.weight.scalars == w1[1], "stopped at 5, epoch 2 restored")

        var first = makeLoop()
        first.checkpointing = CheckpointPolicy(directory: dir, every: 3)
        let s = Script()
        try fit(&first, 3, s)
        #expect(first.model.weight.scalars == s.weights[2], "a fit that reaches its last epoch keeps that epoch's state")
        var resumed = makeLoop()
        try resumed.resume(from: dir)
        try fit(&resumed, 10, s)
        #expect(resumed.stoppedEarly && resumed.history.count == 5 && resumed.model.weight.scalars == whole.model.weight.scalars)

        var chunked = makeLoop()
        let c = Script()
        try fit(&chunked, 3, c)
        try fit(&chunked, 10, c)
        #expect(c.weights == w1, "fit in two calls trains through the same states")
    }

    @Test func resumeRefusesAnotherSetup() throws {
        let y = x.sum(axis: 1, keepDims: true)
        let dir = scratchURL("onsager-setup")
        try? FileManager.default.removeItem(at: dir)
        func model() -> Sequential<Float> {
            Sequential([Dense(inputSize: 3, outputSize: 4, generator: RandomGenerator(seed: 1)), Dropout(probability: 0.2, generator: RandomGenerator(seed: 9)),
                        Dense(inputSize: 4, outputSize: 1, generator: RandomGenerator(seed: 2))])
        }
        var m = model()
        m.freeze("2")
        var loop = TrainingLoop(model: m, optimizer: Adam<Float>(), batchSize: 8, generator: RandomGenerator(seed: 3))
        loop.showProgress = false
        loop.checkpointing = CheckpointPolicy(directory: dir)
        try loop.fit(inputs: x, targets: y, epochs: 1, loss: { m, a, b in Loss.meanSquaredError(m(a), b) })
        var sameSetup = TrainingLoop(model: model(), optimizer: Adam<Float>(), batchSize: 8, generator: RandomGenerator(seed: 3))
        try sameSetup.resume(from: dir)
        #expect(sameSetup.model.frozenParameterNames == ["2.weight", "2.bias"], "frozen parameters come back frozen")
        var otherOptimizer = TrainingLoop(model: model(), optimizer: SGD<Float>(learningRate: 0.1), batchSize: 8, generator: RandomGenerator(seed: 3))
        #expect(throws: CheckpointError.self) { try otherOptimizer.resume(from: dir) }
        var otherSeed = TrainingLoop(model: model(), optimizer: Adam<Float>(), batchSize: 8, generator: RandomGenerator(seed: 4))
        do { try otherSeed.resume(from: dir); Issue.record("expected an error") } catch let e as CheckpointError {
            guard case let .incompatible(_, reason) = e else { Issue.record("\(e)"); return }
            #expect(reason.contains("seeded with 3") && reason.contains("here with 4"))
        }
        #expect(otherSeed.history.isEmpty, "nothing changed")
    }
}
