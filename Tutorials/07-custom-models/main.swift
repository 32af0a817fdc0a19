// # Tutorial 07 — Custom models: a denoising convolutional autoencoder on MNIST
//
// Run:  swift run -c release 07-custom-models [--epochs N] [--train-size N] [--data PATH] [--fresh]
//
// A model written the way a PyTorch user writes one: a struct holding its submodules, one line
// declaring them, a forward function. Everything else is found from that line: parameters by
// dotted name, train/eval mode deep inside, the printed tree, optimizer state, checkpoints that
// PyTorch loads. Trained with `BatchLoader` (a seeded noise transform, prefetched in the
// background) and `TrainingLoop` (validation in evaluation mode, early stopping, a checkpoint
// every epoch: interrupt it and run again to resume, bit for bit).
// Target: test reconstruction MSE of clean digits from noisy ones ≤ 0.02 after 5 epochs.

import Foundation
import Onsager
import OnsagerCommandLine

Console.useLineBuffering()
var options = CommandLineOptions(program: "07-custom-models", summary: "a denoising convolutional autoencoder on MNIST, from custom modules")
let epochs = options.value("--epochs", default: 5, help: "training epochs", valid: { $0 > 0 }, "a positive integer")
let trainSize = options.value("--train-size", default: 60000, help: "training images used", valid: { $0 >= 100 && $0 <= 60000 }, "100…60000")
let noise = options.value("--noise", default: 0.3, help: "std of the Gaussian noise added to inputs", valid: { $0 >= 0 }, "a non-negative number")
let dataPath = options.path("--data", help: "MNIST folder (default: $ONSAGER_DATA/mnist, ../shared/data/mnist)")
let fresh = options.flag("--fresh", help: "ignore an existing checkpoint and start over")
options.threads()
options.finish()
let outDir = OutputFolder.url("07-custom-models")
let checkpoints = outDir.appendingPathComponent("checkpoint")

// ## 1. Data: images as [N, 1, 28, 28] in [0, 1].
let (train, test) = exitOnError("cannot load MNIST") {
    let dir = try MNIST<Float>.locate("mnist", explicit: dataPath)
    let train = try MNIST<Float>(directory: dir, split: .train), test = try MNIST<Float>(directory: dir, split: .test)
    print("MNIST from \(dir): using \(trainSize) training and 2000 test images; \(Kernels.threadCount) thread(s)")
    return (train.images.sliced(axis: 0, 0..<trainSize).reshaped([-1, 1, 28, 28]),
            test.images.sliced(axis: 0, 0..<2000).reshaped([-1, 1, 28, 28]))
}

// ## 2. The model: two custom modules and the autoencoder that holds them.
// Each declares its children in `visit`, one line; the compiler checks the types, and every
// walk of the tree (parameters, modes, checkpoints) goes through that line.
struct Encoder: Layer {
    typealias Scalar = Float
    var conv1: Conv2d<Float>, conv2: Conv2d<Float>, pool = MaxPool2d<Float>(kernel: 2), code: Dense<Float>
    init(codeSize: Int, generator g: RandomGenerator) {
        conv1 = Conv2d(inChannels: 1, outChannels: 16, kernel: 3, padding: 1, generator: g)
        conv2 = Conv2d(inChannels: 16, outChannels: 8, kernel: 3, padding: 1, generator: g)
        code = Dense(inputSize: 8 * 7 * 7, outputSize: codeSize, generator: g)
    }
    mutating func visit<V: ModuleVisitor<Float>>(_ v: inout V) {
        v.child("conv1", &conv1); v.child("conv2", &conv2); v.child("pool", &pool); v.child("code", &code)
    }
    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
        let h = pool(conv2(pool(conv1(x).relu())).relu())            // [n, 8, 7, 7]
        return code(h.reshaped([h.shape[0], -1]))
    }
}

struct DenoisingAutoencoder: Layer {
    typealias Scalar = Float
    var encoder: Encoder
    var decoder: Sequential<Float>
    init(codeSize: Int = 32, seed: UInt64) {
        let g = RandomGenerator(seed: seed)
        encoder = Encoder(codeSize: codeSize, generator: g)
        decoder = Sequential([Dense(inputSize: codeSize, outputSize: 256, generator: g), Activation(.gelu),
                              Dropout(probability: 0.1, generator: RandomGenerator(seed: seed + 1)),
                              Dense(inputSize: 256, outputSize: 784, generator: g), Activation(.sigmoid), Unflatten([1, 28, 28])])
    }
    mutating func visit<V: ModuleVisitor<Float>>(_ v: inout V) { v.child("encoder", &encoder); v.child("decoder", &decoder) }
    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { decoder(encoder(x)) }
}

var model = DenoisingAutoencoder(seed: 7)
print("\n\(model)\n")
print("parameters by name: " + model.namedParameters.map { "\($0.name) \($0.value.shape)" }.joined(separator: ", "))

// ## 3. Batches: the loader adds noise to the inputs (the targets stay clean). Each batch's noise
// comes from its own seeded generator, so prefetching on a background thread changes nothing.
let noiseStd = Float(noise)
let loader = BatchLoader(inputs: train, targets: train, batchSize: 64, generator: RandomGenerator(seed: 70)) { batch, g in
    var b = batch
    b.inputs = (b.inputs + Tensor<Float>.normal(b.inputs.shape, std: noiseStd, generator: g)).clamped(min: 0, max: 1)
    return b
}
let noisyTest = (test + Tensor<Float>.normal(test.shape, std: noiseStd, generator: RandomGenerator(seed: 71))).clamped(min: 0, max: 1)
let validation = BatchLoader(inputs: noisyTest, targets: test, batchSize: 500, shuffle: false)

// ## 4. Training: Adam without weight decay on biases (a parameter group), validation MSE on noisy
// test digits in evaluation mode (dropout off), early stopping, a checkpoint after every epoch.
var optimizer = Adam<Float>(learningRate: 2e-3, weightDecay: 1e-5, decoupledWeightDecay: true)
optimizer.groups = [ParameterGroup("biases", weightDecay: 0) { $0.hasSuffix("bias") }]
var loop = TrainingLoop(model: model, optimizer: optimizer, batchSize: 64, metricsFile: outDir.appendingPathComponent("metrics.csv"))
loop.earlyStopping = EarlyStopping(metric: "val_loss", patience: 2)
loop.checkpointing = CheckpointPolicy(directory: checkpoints, every: 1)
if !fresh && FileManager.default.fileExists(atPath: checkpoints.appendingPathComponent("training.safetensors").path) {
    exitOnError("cannot resume from \(checkpoints.path) (run with --fresh to start over)") { try loop.resume(from: checkpoints) }
    print("resumed after epoch \(loop.history.count) from \(checkpoints.path)")
}
let start = Date()
exitOnError("training stopped") {
    try loop.fit(loader, epochs: epochs, validation: validation, loss: { m, b in Loss.meanSquaredError(m(b.inputs), b.targets!) })
}
model = loop.model
model.evaluationMode()
let testMSE = withoutGrad { Double(Loss.meanSquaredError(model(noisyTest), test).item) }
let noisyMSE = Double(Loss.meanSquaredError(noisyTest, test).item)
print(String(format: "\ntest MSE: %.4f for the reconstructions (%.4f for the noisy inputs themselves); %.0f s this run%@",
             testMSE, noisyMSE, Date().timeIntervalSince(start), loop.stoppedEarly ? ", stopped early" : ""))

// ## 5. Checkpoint round trip: save, load into a fresh model, same outputs.
let file = outDir.appendingPathComponent("autoencoder.safetensors")
let sample = noisyTest.sliced(axis: 0, 0..<16)
exitOnError("checkpoint round trip failed") {
    try Checkpoint.save(model, metadata: ["epochs": "\(loop.history.count)"], to: file)
    var reloaded = DenoisingAutoencoder(seed: 999)
    try Checkpoint.load(into: &reloaded, from: file)
    reloaded.evaluationMode()
    let same = reloaded(sample).scalars == model(sample).scalars
    print("saved \(file.lastPathComponent); reloaded model gives \(same ? "the same" : "DIFFERENT") outputs")
    if !same { exit(1) }
}

// ## 6. Figures: noisy inputs, reconstructions and originals; the loss curves.
let rows = concat([sample.reshaped([16, 784]), model(sample).reshaped([16, 784]), test.sliced(axis: 0, 0..<16).reshaped([16, 784])])
print(String(format: "key result: denoising autoencoder test MSE %.4f after %d epochs", loop.history.last!.metrics[0].1, loop.history.count))
var plot = LinePlot(title: "Denoising autoencoder on MNIST", xLabel: "epoch", yLabel: "mean squared error", logY: true)
plot.add("training (noisy → clean)", x: loop.history.map { Double($0.epoch) }, y: loop.history.map(\.loss), markers: true)
plot.add("test, evaluation mode", x: loop.history.map { Double($0.epoch) }, y: loop.history.map { $0.metrics[0].1 }, markers: true)
exitOnError("cannot write figures") {
    try ImageGrid(images: rows, height: 28, width: 28, columns: 16)
        .write(to: outDir.appendingPathComponent("reconstructions.svg"), title: "noisy inputs (top), reconstructions (middle), originals (bottom)")
    try plot.write(to: outDir.appendingPathComponent("loss.svg"))
    try Safetensors.write([("input", sample), ("output", model(sample))], to: outDir.appendingPathComponent("sample.safetensors"))
}

// ## 7. PyTorch: where python3 has torch, the committed script builds the same model in a few
// lines, loads our checkpoint with load_state_dict(strict=True) and compares outputs.
let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("torch_equivalent.py")
let python = ProcessInfo.processInfo.environment["ONSAGER_PYTHON"] ?? "python3"
let process = Process()
process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
process.arguments = [python, script.path, "--check", file.path, outDir.appendingPathComponent("sample.safetensors").path]
do {
    try process.run()
    process.waitUntilExit()
    if process.terminationStatus != 0 { print("(PyTorch check skipped or failed: status \(process.terminationStatus); set ONSAGER_PYTHON to a python with torch)") }
} catch { print("(PyTorch check skipped: \(error))") }
print("\nfigures, metrics, checkpoints written to \(outDir.path)/")
