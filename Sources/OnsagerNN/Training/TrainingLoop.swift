import OnsagerCore
import Foundation

/// A minibatch training loop: seeded shuffling, an optional schedule and gradient clipping, a
/// progress bar (redrawn in place on a terminal, one line per epoch otherwise), CSV metrics, and
/// a stop with the op's name at the first NaN/Inf.
///
/// One loop serves every model with parameters: layers trained on inputs and targets
/// (`fit(inputs:targets:…)`, switching between training and evaluation mode), and models trained
/// on inputs alone, such as energy models whose loss comes from a training rule
/// (`fit(inputs:…)`; the RBM trainers' `trainEpoch` runs one epoch of this loop).
///
/// Modes are switched when the loop is made for a statically known `Layer` (the constrained
/// initialiser is chosen at compile time): code generic over `ParameterContainer` that builds a
/// loop for what is really a layer gets no mode switching.
public struct TrainingLoop<Model: ParameterContainer, Opt: Optimizer> where Opt.Scalar == Model.Scalar {
    /// The element type of the model and optimizer.
    public typealias S = Model.Scalar
    /// The model being trained (updated in place by every step).
    public var model: Model
    /// The update rule.
    public var optimizer: Opt
    /// Rows per minibatch (the last batch of an epoch may be smaller).
    public var batchSize: Int
    /// Learning rate as a function of the global step, applied before each step, if any.
    public var schedule: (any LearningRateSchedule)?
    /// Joint gradient-norm bound applied before each update, if any.
    public var clipNorm: Double?
    /// The generator that shuffles each epoch.
    public var generator: RandomGenerator
    /// Where to write one CSV row per epoch (rewritten atomically after each epoch), if anywhere.
    public var metricsFile: URL?
    /// Whether to draw progress (default: yes).
    public var showProgress = true
    /// One record per finished epoch.
    public private(set) var history: [EpochRecord] = []
    private var globalStep = 0
    /// Switches a layer between training and evaluation mode; nil for models without modes.
    private let setTraining: ((inout Model, Bool) -> Void)?

    /// A loop for a model without training and evaluation modes (an RBM, a custom container).
    public init(model: Model, optimizer: Opt, batchSize: Int, schedule: (any LearningRateSchedule)? = nil, clipNorm: Double? = nil,
                generator: RandomGenerator = .current, metricsFile: URL? = nil) {
        self.init(model: model, optimizer: optimizer, batchSize: batchSize, schedule: schedule, clipNorm: clipNorm,
                  generator: generator, metricsFile: metricsFile, setTraining: nil)
    }

    /// A loop for a layer: training mode while it trains, evaluation mode while `evaluate` runs.
    public init(model: Model, optimizer: Opt, batchSize: Int, schedule: (any LearningRateSchedule)? = nil, clipNorm: Double? = nil,
                generator: RandomGenerator = .current, metricsFile: URL? = nil) where Model: Layer {
        self.init(model: model, optimizer: optimizer, batchSize: batchSize, schedule: schedule, clipNorm: clipNorm,
                  generator: generator, metricsFile: metricsFile, setTraining: { $0.isTraining = $1 })
    }

    private init(model: Model, optimizer: Opt, batchSize: Int, schedule: (any LearningRateSchedule)?, clipNorm: Double?,
                 generator: RandomGenerator, metricsFile: URL?, setTraining: ((inout Model, Bool) -> Void)?) {
        check(batchSize > 0, "TrainingLoop: batch size must be positive")
        self.model = model; self.optimizer = optimizer; self.batchSize = batchSize; self.schedule = schedule
        self.clipNorm = clipNorm; self.generator = generator; self.metricsFile = metricsFile; self.setTraining = setTraining
    }

    /// Trains for `epochs` passes over rows of `inputs`/`targets`. `loss(model, x, y)` gives the batch
    /// loss; `evaluate(model)` (run in evaluation mode, without grad) gives named metrics per epoch.
    public mutating func fit(inputs: Tensor<S>, targets: Tensor<S>, epochs: Int,
                             loss: (Model, Tensor<S>, Tensor<S>) -> Tensor<S>,
                             evaluate: ((Model) -> [(String, Double)])? = nil) throws {
        check(inputs.shape[0] == targets.shape[0], "TrainingLoop.fit: \(inputs.shape[0]) inputs but \(targets.shape[0]) targets")
        try run(rows: inputs.shape[0], epochs: epochs, evaluate: evaluate) { m, rows in
            loss(m, inputs.indexSelect(axis: 0, indices: rows), targets.indexSelect(axis: 0, indices: rows))
        }
    }

    /// Trains for `epochs` passes over rows of `inputs` alone (autoencoders, energy models):
    /// `loss(model, x)` gives the batch loss and may advance the caller's state (chains, particles).
    public mutating func fit(inputs: Tensor<S>, epochs: Int, loss: (Model, Tensor<S>) -> Tensor<S>,
                             evaluate: ((Model) -> [(String, Double)])? = nil) throws {
        try run(rows: inputs.shape[0], epochs: epochs, evaluate: evaluate) { m, rows in
            loss(m, inputs.indexSelect(axis: 0, indices: rows))
        }
    }

    /// The loop itself: `batchLoss(model, rows)` is the loss of the minibatch made of those rows.
    private mutating func run(rows n: Int, epochs: Int, evaluate: ((Model) -> [(String, Double)])?,
                              batchLoss: (Model, [Int]) -> Tensor<S>) throws {
        let stepsPerEpoch = (n + batchSize - 1) / batchSize
        let tty = isatty(STDOUT_FILENO) != 0
        for epoch in (history.count + 1)..<(history.count + 1 + epochs) {
            setTraining?(&model, true)
            let order = generator.permutation(n)
            let start = Date()
            var total = 0.0
            for s in 0..<stepsPerEpoch {
                if let schedule { optimizer.learningRate = schedule.rate(at: globalStep) }
                let rows = Array(order[(s * batchSize)..<Swift.min(n, (s + 1) * batchSize)])
                model.zeroGradients()
                let l = batchLoss(model, rows)
                l.backward()
                let value = Double(l.item)
                let badGrad = model.parameters.contains { $0.grad.map { AnomalyDetection.nonFiniteCount($0) > 0 } ?? false }
                if !value.isFinite || badGrad {
                    throw TrainingError.nonFinite(epoch: epoch, step: globalStep, what: value.isFinite ? "gradient" : "loss \(value)",
                                                  op: locateNonFinite { batchLoss($0, rows) })
                }
                if let clipNorm { clipGradientNorm(model.parameters, maxNorm: clipNorm) }
                model.update(with: &optimizer)
                total += value
                globalStep += 1
                if showProgress && tty && (s % 20 == 0 || s == stepsPerEpoch - 1) {
                    let done = Double(s + 1) / Double(stepsPerEpoch), width = 30
                    let bar = String(repeating: "█", count: Int(done * Double(width))) + String(repeating: "·", count: width - Int(done * Double(width)))
                    let rate = Double((s + 1) * batchSize) / Date().timeIntervalSince(start)
                    print(String(format: "\r  epoch %3d %@ %3.0f%%  loss %.4f  %.0f samples/s", epoch, bar, 100 * done, total / Double(s + 1), rate),
                          terminator: "")
                    fflush(nil)
                }
            }
            let seconds = Date().timeIntervalSince(start)
            var metrics: [(String, Double)] = []
            if let evaluate {
                setTraining?(&model, false)
                metrics = withoutGrad { evaluate(model) }
                setTraining?(&model, true)
            }
            let record = EpochRecord(epoch: epoch, steps: globalStep, loss: total / Double(stepsPerEpoch), learningRate: optimizer.learningRate,
                                     seconds: seconds, samplesPerSecond: Double(n) / seconds, metrics: metrics)
            history.append(record)
            if showProgress {
                let m = metrics.map { String(format: "  %@ %.4f", $0.0, $0.1) }.joined()
                print((tty ? "\r" : "") + String(format: "  epoch %3d  loss %.4f  lr %.4g  %.1f s  %.0f samples/s", epoch, record.loss,
                                                 record.learningRate, seconds, record.samplesPerSecond) + m + (tty ? "          " : ""))
            }
            try writeMetrics()
        }
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
