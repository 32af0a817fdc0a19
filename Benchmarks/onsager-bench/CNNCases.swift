import Onsager

/// One SGD step (batch 64, softmax cross-entropy, learning rate 0.01) of the convolutional
/// network of PyTorch's MNIST example without its dropout: Conv2d(1→32, 3) ReLU, Conv2d(32→64, 3)
/// ReLU, MaxPool2d(2), Flatten, Dense(9216→128) ReLU, Dense(128→10), on 28×28 images. Steps per
/// second; the reference scripts run the same network.
func benchCNNStep(threads: Int) {
    let r = measureRate(target: 0.6, cnnStepWorkload())
    emit("cnn-step", threads: threads, value: r.median, unit: "steps/s", extra: ["min": r.min, "max": r.max])
}

/// The body of `cnn-step`: one call is one SGD step.
func cnnStepWorkload() -> () -> Void {
    let g = RandomGenerator(seed: 11)
    var model = Sequential<Float>([
        Conv2d<Float>(inChannels: 1, outChannels: 32, kernel: 3, generator: g), Activation<Float>(.relu),
        Conv2d<Float>(inChannels: 32, outChannels: 64, kernel: 3, generator: g), Activation<Float>(.relu),
        MaxPool2d<Float>(kernel: 2), Flatten<Float>(),
        Dense<Float>(inputSize: 9216, outputSize: 128, initializer: .heNormal, generator: g), Activation<Float>(.relu),
        Dense<Float>(inputSize: 128, outputSize: 10, initializer: .heNormal, generator: g),
    ])
    var sgd = SGD<Float>(learningRate: 0.01)
    let x = Tensor<Float>.uniform([64, 1, 28, 28], generator: g)
    let labels = (0..<64).map { _ in g.nextInt(below: 10) }
    return {
        model.zeroGradients()
        Loss.softmaxCrossEntropy(logits: model(x), labels: labels).backward()
        model.update(with: &sgd)
    }
}
