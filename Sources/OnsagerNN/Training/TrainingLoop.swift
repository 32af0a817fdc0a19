import OnsagerCore
import Foundation

/// A minibatch training loop for any module: batches from a `BatchLoader` (seeded shuffling,
/// transformed batches prepared in the background), an optional schedule and gradient clipping,
/// training mode while training and evaluation mode (recursively, without grad) while validating, early stopping,
/// checkpoints every N epochs with a resume that continues bit for bit, a progress bar, CSV
/// metrics, and a stop with the op's name at the first NaN/Inf.
///
/// `fit(…, epochs: n)` trains until n epochs are done in all, so a loop resumed from a
/// checkpoint after epoch k runs epochs k+1…n, exactly as the uninterrupted run did.
public struct TrainingLoop<Model: Module, Opt: Optimizer> where Opt.Scalar == Model.Scalar {
    /// The element type of the model and optimizer.
    public typealias S = Model.Scalar
    /// The model being trained (updated in place by every step).
    public var model: Model
    /// The update rule.
    public var optimizer: Opt
    /// Rows per minibatch for the `fit(inputs:…)` forms.
    public var batchSize: Int
    /// Learning rate as a function of the global step, applied before each step, if any.
    public var schedule: (any LearningRateSchedule)?
    /// Joint gradient-norm bound applied before each update, if any.
    public var clipNorm: Double?
    /// The generator that shuffles each epoch (for the `fit(inputs:…)` forms).
    public var generator: RandomGenerator
    /// Where to write one CSV row per epoch (rewritten atomically after each epoch), if anywhere.
    public var metricsFile: URL?
    /// Whether to print a line per epoch (loss, learning rate, time, metrics) and the progress
    /// bar (default: yes).
    public var showProgress = true
    /// Whether to report batch progress through `ProgressReporter` (a bar on a terminal, or the program's
    /// callback) even when `showProgress` is off (default: yes; the RBM trainers' epochs use this).
    public var showsProgressBar = true
    /// When to stop before the last epoch, if ever.
    public var earlyStopping: EarlyStopping?
    /// Where and how often to write a resumable checkpoint, if at all.
    public var checkpointing: CheckpointPolicy?
    /// Generators the loss draws from outside the model (a CD chain's samples, say): their
    /// seeds and stream positions go into checkpoints and come back on `resume`, by position.
    public var lossGenerators: [RandomGenerator] = []
    /// Data-parallel training across processes, if any (see `DataParallelism`): each process
    /// trains on its shard of every batch and the gradients are combined before each step.
    public var dataParallel: (any DataParallelism<S>)?
    /// One record per finished epoch.
    public internal(set) var history: [EpochRecord] = []
    /// Whether the last `fit` ended because `earlyStopping` said so.
    public private(set) var stoppedEarly = false
    /// Optimizer steps taken so far.
    public internal(set) var globalStep = 0
    var best: (epoch: Int, state: [NamedTensor<S>])?
    /// The shuffling generator of the loader being trained on, whose stream a checkpoint records.
    var dataGenerator: RandomGenerator?
    /// A data stream position read by `resume`, applied to the next loader `fit` is given.
    var pendingDataStream: (seed: UInt64, position: UInt64)?

    /// A loop training `model` with `optimizer`.
    public init(model: Model, optimizer: Opt, batchSize: Int, schedule: (any LearningRateSchedule)? = nil, clipNorm: Double? = nil,
                generator: RandomGenerator = .current, metricsFile: URL? = nil) {
        check(batchSize > 0, "TrainingLoop: batch size must be positive")
        let undeclared = model.undeclaredTrainableTensors
        check(undeclared.isEmpty, "TrainingLoop: \(Model.self) holds trainable tensors its visit(_:) does not declare, so they would never be trained or saved: \(undeclared.joined(separator: ", ")) (declare them with v.child or v.parameter)")
        self.model = model; self.optimizer = optimizer; self.batchSize = batchSize; self.schedule = schedule
        self.clipNorm = clipNorm; self.generator = generator; self.metricsFile = metricsFile
    }

    /// Trains on rows of `inputs`/`targets` until `epochs` epochs are done. `loss(model, x, y)` gives
    /// the batch loss. With `validation`, the same loss on it (evaluation mode, no grad) is the
    /// metric "val_loss"; `evaluate(model)` (also in evaluation mode) adds named metrics.
    public mutating func fit(inputs: Tensor<S>, targets: Tensor<S>, epochs: Int,
                             validation: (inputs: Tensor<S>, targets: Tensor<S>)? = nil,
                             loss: (Model, Tensor<S>, Tensor<S>) -> Tensor<S>,
                             evaluate: ((Model) -> [(String, Double)])? = nil) throws {
        let loader = BatchLoader(inputs: inputs, targets: targets, batchSize: batchSize, generator: generator)
        let validationLoader = validation.map { BatchLoader(inputs: $0.inputs, targets: $0.targets, batchSize: batchSize, shuffle: false) }
        try fit(loader, epochs: epochs, validation: validationLoader, loss: { m, b in loss(m, b.inputs, b.targets!) }, evaluate: evaluate)
    }

    /// Trains on rows of `inputs` with integer class `labels` until `epochs` epochs are done.
    public mutating func fit(inputs: Tensor<S>, labels: [Int], epochs: Int,
                             validation: (inputs: Tensor<S>, labels: [Int])? = nil,
                             loss: (Model, Tensor<S>, [Int]) -> Tensor<S>,
                             evaluate: ((Model) -> [(String, Double)])? = nil) throws {
        let loader = BatchLoader(inputs: inputs, labels: labels, batchSize: batchSize, generator: generator)
        let validationLoader = validation.map { BatchLoader(inputs: $0.inputs, labels: $0.labels, batchSize: batchSize, shuffle: false) }
        try fit(loader, epochs: epochs, validation: validationLoader, loss: { m, b in loss(m, b.inputs, b.labels!) }, evaluate: evaluate)
    }

    /// Trains on rows of `inputs` alone (autoencoders, energy models) until `epochs` epochs are
    /// done: `loss(model, x)` gives the batch loss and may advance the caller's state (chains).
    public mutating func fit(inputs: Tensor<S>, epochs: Int, validation: Tensor<S>? = nil, loss: (Model, Tensor<S>) -> Tensor<S>,
                             evaluate: ((Model) -> [(String, Double)])? = nil) throws {
        let loader = BatchLoader(inputs: inputs, batchSize: batchSize, generator: generator)
        let validationLoader = validation.map { BatchLoader(inputs: $0, batchSize: batchSize, shuffle: false) }
        try fit(loader, epochs: epochs, validation: validationLoader, loss: { m, b in loss(m, b.inputs) }, evaluate: evaluate)
    }

    /// Trains on the loader's batches until `epochs` epochs are done. With `validation`, the mean
    /// of `loss` over its batches (evaluation mode, no grad, weighted by rows) is "val_loss".
    public mutating func fit(_ loader: BatchLoader<S>, epochs: Int, validation: BatchLoader<S>? = nil,
                             loss: (Model, Batch<S>) -> Tensor<S>, evaluate: ((Model) -> [(String, Double)])? = nil) throws {
        var loader = loader
        loader.epochsStarted = history.count           // a resumed loop seeds transforms as the uninterrupted one did
        if let pending = pendingDataStream {
            guard pending.seed == loader.generator.seed else {
                throw CheckpointError.incompatible(path: "(resumed loop)", reason: "the loader's generator was seeded with \(pending.seed) in the checkpointed run, here with \(loader.generator.seed)")
            }
            loader.generator.position = pending.position
            pendingDataStream = nil
        }
        dataGenerator = loader.generator
        stoppedEarly = false
        if let dataParallel {
            try dataParallel.checkAgreement([loader.rowCount, loader.batchSize, loader.batchesPerEpoch, epochs, Int(truncatingIfNeeded: loader.generator.seed)],
                                            names: ["rows", "batch size", "batches per epoch", "epochs", "shuffling seed"])
            try Self.broadcastState(&model, dataParallel)
        }
        let barOutput: ProgressReporter.Output? = showProgress || showsProgressBar ? nil : .silent
        while history.count < epochs {
            let epoch = history.count + 1
            model.isTraining = true
            let start = Date()
            var total = 0.0, rows = 0
            let steps = loader.batchesPerEpoch
            let progress = ProgressReporter("epoch \(epoch)", total: steps, output: barOutput)
            for (s, globalBatch) in loader.epoch().enumerated() {
                if let schedule { optimizer.learningRate = schedule.rate(at: globalStep) }
                model.zeroGradients()
                let batch = dataParallel.map { globalBatch.rows($0.shard(ofBatchWith: globalBatch.count)) } ?? globalBatch
                var value = 0.0
                if batch.count > 0 {
                    let l = loss(model, batch)
                    l.backward()
                    value = Double(l.item)
                }
                let localBad = !value.isFinite || model.parameters.contains { $0.grad.map { AnomalyDetection.nonFiniteCount($0) > 0 } ?? false }
                // Under data parallelism one sum gives the global batch's loss, and a NaN from any
                // process that saw a non-finite loss or gradient, so that all stop together.
                let globalValue = try dataParallel.map {
                    try $0.reduce(sum: localBad ? .nan : value * Double(batch.count)) / Double(Swift.max(globalBatch.count, 1))
                } ?? value
                if localBad || !globalValue.isFinite {
                    throw TrainingError.nonFinite(epoch: epoch, step: globalStep,
                                                  what: !localBad ? "loss or gradient on another process" : value.isFinite ? "gradient" : "loss \(value)",
                                                  op: localBad ? locateNonFinite { loss($0, batch) } : nil)
                }
                value = globalValue
                if let dataParallel {
                    try Self.reduceGradients(model.trainableParameters, dataParallel, rows: batch.count, totalRows: globalBatch.count)
                }
                if let clipNorm { clipGradientNorm(model.trainableParameters, maxNorm: clipNorm) }
                model.update(with: &optimizer)
                total += value
                rows += globalBatch.count
                globalStep += 1
                try dataParallel?.afterStep(globalStep, parameters: model.parameters)
                progress.update(s + 1, note: String(format: "loss %.4f  %.0f samples/s", total / Double(s + 1), Double(rows) / Date().timeIntervalSince(start)))
            }
            progress.finish()
            if let dataParallel { try Self.averageBuffers(&model, dataParallel) }
            let seconds = Date().timeIntervalSince(start)
            var metrics: [(String, Double)] = []
            if validation != nil || evaluate != nil {
                model.isTraining = false
                withoutGrad {
                    if var validation {
                        var sum = 0.0, count = 0
                        for b in validation.epoch() { sum += Double(loss(model, b).item) * Double(b.count); count += b.count }
                        metrics.append(("val_loss", sum / Double(Swift.max(count, 1))))
                    }
                    if let evaluate { metrics += evaluate(model) }
                }
                model.isTraining = true
            }
            let record = EpochRecord(epoch: epoch, steps: globalStep, loss: total / Double(Swift.max(steps, 1)), learningRate: optimizer.learningRate,
                                     seconds: seconds, samplesPerSecond: Double(rows) / seconds, metrics: metrics)
            history.append(record)
            if showProgress {
                let m = metrics.map { String(format: "  %@ %.4f", $0.0, $0.1) }.joined()
                print(String(format: "  epoch %3d  loss %.4f  lr %.4g  %.1f s  %.0f samples/s", epoch, record.loss,
                                 record.learningRate, seconds, record.samplesPerSecond) + m)
            }
            if dataParallel?.isWriter ?? true { try writeMetrics() }
            if let earlyStopping {
                if earlyStopping.restoreBest && earlyStopping.bestIndex(history) == history.count - 1 {
                    best = (epoch, model.stateDict)
                }
                stoppedEarly = earlyStopping.shouldStop(history)
            }
            if let checkpointing, dataParallel?.isWriter ?? true, epoch % checkpointing.every == 0 || history.count == epochs || stoppedEarly {
                try saveCheckpoint(to: checkpointing.directory)
            }
            if stoppedEarly { break }
        }
        if stoppedEarly, let best, earlyStopping?.restoreBest == true, best.epoch != history.count {
            try Checkpoint.apply(Dictionary(uniqueKeysWithValues: best.state.map { ($0.name, $0.value) }), to: &model,
                                 path: "(best epoch \(best.epoch))", strict: true)
            if showProgress { print("  restored the parameters of epoch \(best.epoch), the best by \(earlyStopping!.metric)") }
        }
    }

    /// Every process takes the writer's parameters and buffers (so all start identical).
    static func broadcastState(_ model: inout Model, _ dp: any DataParallelism<S>) throws {
        let state = model.stateDict
        var values = state.map(\.value)
        try dp.broadcast(&values)
        try Checkpoint.apply(Dictionary(uniqueKeysWithValues: zip(state.map(\.name), values).map { ($0, $1) }), to: &model,
                             path: "(data-parallel broadcast)", strict: true)
    }

    /// Every process takes the mean of all processes' buffers (BatchNorm's running statistics, each
    /// accumulated over its own shards), so evaluation and checkpoints see statistics of every
    /// shard and the processes stay identical. Called at the end of every epoch.
    static func averageBuffers(_ model: inout Model, _ dp: any DataParallelism<S>) throws {
        let buffers = model.namedBuffers
        guard !buffers.isEmpty else { return }
        var values = buffers.map(\.value)
        try dp.average(&values)
        try Checkpoint.apply(Dictionary(uniqueKeysWithValues: zip(buffers.map(\.name), values)), to: &model,
                             path: "(data-parallel buffers)", strict: false)
    }

    /// Combines the gradients of `parameters` across processes (a missing gradient counts as zeros).
    static func reduceGradients(_ parameters: [Tensor<S>], _ dp: any DataParallelism<S>, rows: Int, totalRows: Int) throws {
        var grads = parameters.map { $0.grad ?? Tensor<S>.zeros($0.shape) }
        try dp.reduce(gradients: &grads, rows: rows, totalRows: totalRows)
        for (p, g) in zip(parameters, grads) { p.setGrad(g) }
    }

    /// Replays a failing step with anomaly detection to name the op.
    func locateNonFinite(_ loss: (Model) -> Tensor<S>) -> String? {
        do {
            try AnomalyDetection.run {
                model.zeroGradients()
                loss(model).backward()
            }
        } catch let e as NonFiniteError { return e.op } catch {}
        return nil
    }

    func writeMetrics() throws {
        guard let url = metricsFile, let first = history.first else { return }
        var text = "epoch,step,loss,learning_rate,seconds,samples_per_second" + first.metrics.map { "," + $0.0 }.joined() + "\n"
        for r in history {
            text += "\(r.epoch),\(r.steps),\(r.loss),\(r.learningRate),\(r.seconds),\(r.samplesPerSecond)" + r.metrics.map { ",\($0.1)" }.joined() + "\n"
        }
        try AtomicFile.write(text, to: url)
    }
}
