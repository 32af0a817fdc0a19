// # Tutorial 02 — A Bernoulli RBM on MNIST: CD-1 vs PCD, scored by AIS
//
// Run:  swift run -c release 02-rbm-mnist [--epochs N] [--data PATH]
//
// We train two 784-500 RBMs on stochastically binarised MNIST, one with CD-1 and one with
// persistent CD (PCD-1, 100 chains), under the same budget. Training is a graph: the loss
// mean F(data) − mean F(stopgrad(negatives)) goes through the tape, and its gradient is the CD
// update. We then estimate ln Z with annealed importance sampling (Salakhutdinov & Murray 2008:
// 100 runs, 14,500 intervals) and report the test log-likelihood per image.
//
// Published (Salakhutdinov & Murray 2008, 500 hidden units, long training): CD-1 ≈ −125.5,
// CD-3 ≈ −105.5, CD-25 −86.34 nats. Their models trained for far longer than this tutorial's
// default budget; the ordering (PCD, which follows the model's own distribution, beats CD-1 on
// likelihood) is what we reproduce here.

import Foundation
import Onsager
import OnsagerCommandLine

Console.useLineBuffering()   // progress lines appear as they happen, also in a log file

var options = CommandLineOptions(program: "02-rbm-mnist", summary: "784-500 RBMs on binarised MNIST, CD-1 vs PCD-1, scored by AIS")
let epochs = options.value("--epochs", default: 10, help: "training epochs per model", valid: { $0 > 0 }, "a positive integer")
let learningRate = options.value("--lr", default: 0.02, help: "initial learning rate", valid: { $0 > 0 }, "a positive number")
let finalMomentum = options.value("--momentum", default: 0.5, help: "momentum after the first epochs", valid: { (0..<1).contains($0) },
                                  "a number in [0, 1)")
let dataPath = options.path("--data", help: "MNIST folder (default: $ONSAGER_DATA/mnist, ../shared/data/mnist)")
options.threads()
options.finish()
let outDir = OutputFolder.url("02-rbm-mnist")

// ## 1. Data
// Pixels in [0, 1] are binarised once by sampling (seeded), the usual protocol for "binarised MNIST".
let seed: UInt64 = 2008
let g = RandomGenerator(seed: seed)
let (train, test) = exitOnError("cannot load MNIST") {
    let dir = try MNIST<Float>.locate("mnist", explicit: dataPath)
    let train = try MNIST<Float>(directory: dir, split: .train).images.stochasticallyBinarized(generator: g)
    let test = try MNIST<Float>(directory: dir, split: .test).images.stochasticallyBinarized(generator: g)
    print("MNIST from \(dir): \(train.shape[0]) training and \(test.shape[0]) test images, binarised (seed \(seed))")
    return (train, test)
}
print("\(Kernels.threadCount) thread(s), instruction set \(Kernels.instructionSet)")

// ## 2. Training
// Both models: W ~ N(0, 0.01²), visible biases from the data marginals, batch 100, SGD with
// momentum 0.5 (then --momentum after epoch 5), L2 weight decay 2e-4 on W, learning rate --lr
// decaying as lr/(1 + epoch/5). Each epoch we record the exact pseudo-log-likelihood of 1000 test images.
struct Run { var name: String; var model: RBM<Float>; var trainer: ContrastiveDivergence<Float>; var pll: [Double] = []; var seconds = 0.0 }
let probe = test.sliced(axis: 0, 0..<1000)
var runs: [Run] = []
for (name, persistent) in [("CD-1", false), ("PCD-1", true)] {
    let mg = RandomGenerator(seed: seed &+ 1)
    let model = RBM<Float>(visible: 784, hidden: 500, weightStd: 0.01, data: train, generator: mg)
    let trainer: ContrastiveDivergence<Float> = persistent
        ? .pcd(k: 1, chains: 100, visible: 784, l2: 2e-4, generator: mg) : .cd(k: 1, l2: 2e-4, generator: mg)
    runs.append(Run(name: name, model: model, trainer: trainer))
}
for i in runs.indices {
    var opt = SGD<Float>(learningRate: learningRate, momentum: 0.5)
    let start = Date()
    for e in 1...epochs {
        opt.learningRate = learningRate / (1 + Double(e - 1) / 5)
        if e > 5 { opt.momentum = finalMomentum }
        var model = runs[i].model, trainer = runs[i].trainer
        exitOnError("\(runs[i].name) training stopped") { try trainer.trainEpoch(&model, data: train, batchSize: 100, optimizer: &opt) }
        runs[i].model = model
        runs[i].trainer = trainer
        let pll = model.pseudoLogLikelihood(probe).mean().item
        runs[i].pll.append(Double(pll))
        print(String(format: "  %@ epoch %2d  %6.1f s  test pseudo-log-likelihood %.2f", runs[i].name, e, Date().timeIntervalSince(start), pll))
    }
    runs[i].seconds = Date().timeIntervalSince(start)
}

// ## 3. Annealed importance sampling
// The base model has the data's marginals as visible biases, so the annealing starts close to
// the data. The ±3σ band comes from the spread of the importance weights.
print("\nAIS (100 runs, 14,500 intervals) and test log-likelihood per image:")
let base = AnnealedImportanceSampling.baseRateBiases(data: train)
var table: [(String, Double, Double, Double, Double)] = []
for r in runs {
    let t0 = Date()
    let ais = AnnealedImportanceSampling(runs: 100).logPartition(of: r.model, baseBiases: base, generator: RandomGenerator(seed: seed &+ 7))
    let meanNegF = Double(-withoutGrad { r.model.freeEnergy(test) }.mean().item)
    let ll = meanNegF - ais.logZ
    table.append((r.name, ll, meanNegF - ais.logZUpper, meanNegF - ais.logZLower, r.seconds))
    print(String(format: "  %@: %@ (%.1f s)", r.name, ais.description, Date().timeIntervalSince(t0)))
}
print("\n| model | epochs | training time | test log-likelihood (nats/image) | ±3σ band |")
print("|---|---|---|---|---|")
for (name, ll, lo, hi, secs) in table {
    print(String(format: "| %@ | %d | %.0f s | %.2f | %.2f to %.2f |", name, epochs, secs, ll, lo, hi))
}
print("| CD-25, Salakhutdinov & Murray 2008 (published) | long | — | −86.34 | — |")

// ## 4. Figures: learning curves, filters, samples
do {
    var plot = LinePlot(title: "Test pseudo-log-likelihood (1000 images)", xLabel: "epoch", yLabel: "nats per image")
    for r in runs { plot.add(r.name, x: (1...epochs).map(Double.init), y: r.pll, markers: true) }
    try plot.write(to: outDir.appendingPathComponent("pseudo-likelihood.svg"))
    for r in runs {
        let tag = r.name.lowercased().replacingOccurrences(of: "-", with: "")
        let filters = r.model.weights.detached().T.sliced(axis: 0, 0..<100).contiguous()
        try ImageGrid(images: filters, height: 28, width: 28, columns: 10, normalizeEach: true)
            .write(to: outDir.appendingPathComponent("filters-\(tag).svg"), title: "\(r.name): weights of the first 100 hidden units")
        let samples = r.model.fantasies(chains: 100, steps: 1000, generator: RandomGenerator(seed: seed &+ 11))
        try ImageGrid(images: samples, height: 28, width: 28, columns: 10)
            .write(to: outDir.appendingPathComponent("samples-\(tag).svg"), title: "\(r.name): 100 chains after 1000 Gibbs steps from noise")
    }
    print("\nfigures written to \(outDir.path)/ (pseudo-likelihood.svg, filters-*.svg, samples-*.svg)")
} catch {
    print("could not write figures: \(error)")
    exit(1)
}
