import Foundation
import Onsager

/// The layer sizes of `mlp-small-step` and `mlp-big-step` (and of their floors), and of
/// `mlp-tiny-step`, whose products are so small that the step is the framework's own cost
/// (the tape, the module walks, the optimizer's bookkeeping, the kernels' dispatch).
let mlpTinySizes = [8, 8, 2]
let mlpSmallSizes = [784, 500, 10]
let mlpBigSizes = [784, 2500, 2000, 1500, 1000, 500, 10]

/// One SGD step (batch 100, softmax cross-entropy) of an MLP with ReLU hidden layers, through
/// Sequential, the tape and the optimizer — the reference scripts' workload. Steps per second.
/// With `adam`, the optimizer is Adam with PyTorch's defaults (`mlp-*-adam-step`).
func benchMLPStep(_ name: String, sizes: [Int], adam: Bool = false, threads: Int) {
    let work = adam ? mlpStepWorkload(sizes: sizes, optimizer: Adam<Float>()) : mlpStepWorkload(sizes: sizes)
    let r = measureRate(target: sizes.count > 3 ? 0.6 : 0.4, work)
    emit(name, threads: threads, value: r.median, unit: "steps/s", extra: ["min": r.min, "max": r.max])
}

/// `mlp-small-mnist-step` / `mlp-big-mnist-step`: the same steps on real images, the first 6,000
/// of MNIST's training set in 60 batches of 100 taken in turn (the reference scripts read the same
/// files). Unlike the uniform random input, images have pixels dark in every image of a batch
/// (277 of 784 on average), which the first layer's products skip (the same bits). Skipped, with a
/// message, when MNIST is not found (`$ONSAGER_DATA/mnist` or `../shared/data/mnist`).
func benchMLPMNISTStep(_ name: String, sizes: [Int], threads: Int) {
    guard let batches = mnistBatches else {
        FileHandle.standardError.write("onsager-bench: \(name) skipped: MNIST not found (set ONSAGER_DATA)\n".data(using: .utf8)!)
        return
    }
    let work = mlpStepWorkload(sizes: sizes, optimizer: SGD<Float>(learningRate: 0.01), batches: batches)
    let r = measureRate(target: sizes.count > 3 ? 0.6 : 0.4, work)
    emit(name, threads: threads, value: r.median, unit: "steps/s", extra: ["min": r.min, "max": r.max])
}

/// The first 60 batches of 100 MNIST training images (pixels / 255) and labels, read once.
let mnistBatches: [(x: Tensor<Float>, labels: [Int])]? = {
    guard let folder = try? MNIST<Float>.locate(), let data = try? MNIST<Float>(directory: folder, split: .train) else { return nil }
    return (0..<60).map { b in (data.images[(b * 100)..<(b * 100 + 100)].contiguous(), Array(data.labels[(b * 100)..<(b * 100 + 100)])) }
}()

/// The body of `mlp-small-step` / `mlp-big-step`: one call is one SGD step.
func mlpStepWorkload(sizes: [Int]) -> () -> Void { mlpStepWorkload(sizes: sizes, optimizer: SGD<Float>(learningRate: 0.01)) }

/// One step of the MLP of `sizes` with `optimizer`: on one batch of uniform random input, or on
/// `batches` in turn.
func mlpStepWorkload<O: Optimizer>(sizes: [Int], optimizer: O, batches: [(x: Tensor<Float>, labels: [Int])]? = nil) -> () -> Void
where O.Scalar == Float {
    let g = RandomGenerator(seed: 11)
    var layers: [any Layer<Float>] = []
    for i in 0..<(sizes.count - 1) {
        layers.append(Dense<Float>(inputSize: sizes[i], outputSize: sizes[i + 1], initializer: .heNormal, generator: g))
        if i < sizes.count - 2 { layers.append(Activation<Float>(.relu)) }
    }
    var model = Sequential<Float>(layers)
    var opt = optimizer
    let x = Tensor<Float>.uniform([100, sizes[0]], generator: g)
    let labels = (0..<100).map { _ in g.nextInt(below: sizes.last!) }
    let data = batches ?? [(x, labels)]
    var next = 0
    return {
        let batch = data[next]
        next = (next + 1) % data.count
        model.zeroGradients()
        Loss.softmaxCrossEntropy(logits: model(batch.x), labels: batch.labels).backward()
        model.update(with: &opt)
    }
}
