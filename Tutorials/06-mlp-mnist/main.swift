// # Tutorial 06 — A multilayer perceptron on MNIST (and Fashion-MNIST)
//
// Run:  swift run -c release 06-mlp-mnist [--dataset mnist|fashion-mnist] [--epochs N] [--data PATH]
//
// A 784-500-10 network, in a ReLU and a sigmoid variant, trained with minibatch SGD and Nesterov
// momentum on softmax cross-entropy — defined in a few lines with `Sequential`, trained with
// `TrainingLoop` (progress bar, CSV metrics, NaN detection), saved as a safetensors checkpoint and
// loaded back. Target: ≤ 1.8 % test error on MNIST; about 89 % accuracy on Fashion-MNIST.

import Foundation
import Onsager
import OnsagerCommandLine

Console.useLineBuffering()
var options = CommandLineOptions(program: "06-mlp-mnist", summary: "784-500-10 MLPs (ReLU and sigmoid) on MNIST or Fashion-MNIST")
let dataset = options.choice("--dataset", among: ["mnist", "fashion-mnist"], help: "which dataset")
let epochs = options.value("--epochs", default: 30, help: "training epochs per model", valid: { $0 > 0 }, "a positive integer")
let sigmoidLR = options.value("--sigmoid-lr", default: 2.0, help: "learning rate of the sigmoid net", valid: { $0 > 0 }, "a positive number")
let dataPath = options.path("--data", help: "dataset folder (default: $ONSAGER_DATA/<dataset>, ../shared/data/<dataset>)")
options.threads()
options.finish()
let outDir = OutputFolder.url("06-mlp-\(dataset)")

// ## 1. Data: pixels scaled to [0, 1]; labels stay integers.
let (train, test) = exitOnError("cannot load \(dataset)") {
    let dir = try MNIST<Float>.locate(dataset, explicit: dataPath)
    let train = try MNIST<Float>(directory: dir, split: .train), test = try MNIST<Float>(directory: dir, split: .test)
    print("\(dataset) from \(dir): \(train.count) training, \(test.count) test images; \(Kernels.threadCount) thread(s)")
    return (train, test)
}

// ## 2. Models: layers in a Sequential, their parameters named "0.weight", … as in PyTorch.
func makeModel(_ act: Activation<Float>.Kind, seed: UInt64) -> Sequential<Float> {
    let g = RandomGenerator(seed: seed)
    let initializer: Initializer = { if case .relu = act { return .heNormal } else { return .glorotUniform } }()
    return Sequential([Dense(inputSize: 784, outputSize: 500, initializer: initializer, generator: g), Activation(act),
                       Dense(inputSize: 500, outputSize: 10, initializer: .glorotUniform, generator: g)])
}
@MainActor func testError(_ m: Sequential<Float>) -> Double {
    var wrong = 0
    for start in stride(from: 0, to: test.count, by: 1000) {
        let x = test.images.sliced(axis: 0, start..<Swift.min(test.count, start + 1000))
        wrong += zip(m(x).argmax(axis: 1), test.labels[start...]).filter { $0.0 != $0.1 }.count
    }
    return Double(wrong) / Double(test.count)
}

// ## 3. Training: batch 100, Nesterov momentum 0.9, cosine-annealed learning rate over the run
// (0.1 for ReLU; 2.0 for the sigmoid units, whose gradients are 4× smaller at best), L2
// weight decay 1e-4, 30 epochs.
var plotLoss = LinePlot(title: "\(dataset): training loss", xLabel: "epoch", yLabel: "softmax cross-entropy", logY: true)
var plotError = LinePlot(title: "\(dataset): test error", xLabel: "epoch", yLabel: "test error (%)")
var results: [(String, Double, Double)] = []
for (name, act, lr) in [("ReLU", Activation<Float>.Kind.relu, 0.1), ("sigmoid", .sigmoid, sigmoidLR)] {
    print("\n784-500-10 \(name)")
    let steps = epochs * (train.count / 100)
    var loop = TrainingLoop(model: makeModel(act, seed: 6), optimizer: SGD<Float>(learningRate: lr, momentum: 0.9, nesterov: true, weightDecay: 1e-4),
                            batchSize: 100, schedule: CosineAnnealing(initial: lr, period: steps), generator: RandomGenerator(seed: 60),
                            metricsFile: outDir.appendingPathComponent("metrics-\(name.lowercased()).csv"))
    let start = Date()
    do {
        try loop.fit(inputs: train.images, labels: train.labels, epochs: epochs,
                     loss: { m, x, labels in Loss.softmaxCrossEntropy(logits: m(x), labels: labels) },
                     evaluate: { m in [("test_error", testError(m))] })
    } catch { print("training stopped: \(error)"); exit(1) }
    let err = loop.history.last!.metrics[0].1
    results.append((name, err, Date().timeIntervalSince(start)))
    plotLoss.add(name, x: loop.history.map { Double($0.epoch) }, y: loop.history.map(\.loss), markers: true)
    plotError.add(name, x: loop.history.map { Double($0.epoch) }, y: loop.history.map { 100 * $0.metrics[0].1 }, markers: true)

    // ## 4. Save, reload into a fresh model, and check the reloaded model predicts the same.
    let file = outDir.appendingPathComponent("mlp-\(name.lowercased()).safetensors")
    do {
        try Checkpoint.save(loop.model, metadata: ["dataset": dataset, "epochs": "\(epochs)"], to: file)
        var reloaded = makeModel(act, seed: 999)
        try Checkpoint.load(into: &reloaded, from: file)
        reloaded.evaluationMode()
        print(String(format: "  saved %@; reloaded test error %.2f %%", file.lastPathComponent, 100 * testError(reloaded)))
    } catch { print("checkpoint failed: \(error)"); exit(1) }
}

print("\n| model | epochs | test error | training time |\n|---|---|---|---|")
for (name, err, secs) in results { print(String(format: "| 784-500-10 %@ | %d | %.2f %% | %.0f s |", name, epochs, 100 * err, secs)) }
print("key result: \(dataset) test error " + results.map { String(format: "%@ %.2f %%", $0.0, 100 * $0.1) }.joined(separator: ", ") + " after \(epochs) epochs")
do {
    try plotLoss.write(to: outDir.appendingPathComponent("loss.svg"))
    try plotError.write(to: outDir.appendingPathComponent("test-error.svg"))
    print("\nfigures, metrics CSVs and checkpoints written to \(outDir.path)/")
} catch { print("could not write figures: \(error)"); exit(1) }
