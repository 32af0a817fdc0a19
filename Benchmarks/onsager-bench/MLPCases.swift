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

/// The body of `mlp-small-step` / `mlp-big-step`: one call is one SGD step.
func mlpStepWorkload(sizes: [Int]) -> () -> Void { mlpStepWorkload(sizes: sizes, optimizer: SGD<Float>(learningRate: 0.01)) }

/// One step of the MLP of `sizes` with `optimizer`.
func mlpStepWorkload<O: Optimizer>(sizes: [Int], optimizer: O) -> () -> Void where O.Scalar == Float {
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
    return {
        model.zeroGradients()
        Loss.softmaxCrossEntropy(logits: model(x), labels: labels).backward()
        model.update(with: &opt)
    }
}
