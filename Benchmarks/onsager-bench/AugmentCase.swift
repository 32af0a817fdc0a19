import Onsager

/// `ImageDeformation.ciresan2010` (elastic + affine) on batches of 100 28×28 images, in images
/// per second, beside the images per second that consume them: a training step (batch 32, tanh,
/// softmax cross-entropy, SGD) of the 784-1000-500-10 and 784-2500-2000-1500-1000-500-10 nets of
/// tutorial 10. Deformation keeps up when its rate exceeds the consumer's (in training it runs on
/// the batch loader's background thread, so it also needs a free core to hide entirely).
func benchAugmentBatch(threads: Int) {
    let g = RandomGenerator(seed: 21)
    let images = Tensor<Float>.uniform([100, 784], generator: g)
    let deform = measureRate(target: 0.4) { _ = ImageDeformation.ciresan2010(images, height: 28, width: 28, generator: g) }
    var consumers: [String: Any] = [:]
    for (name, sizes) in [("small", [784, 1000, 500, 10]), ("big", [784, 2500, 2000, 1500, 1000, 500, 10])] {
        var layers: [any Layer<Float>] = []
        for i in 0..<(sizes.count - 1) {
            layers.append(Dense<Float>(inputSize: sizes[i], outputSize: sizes[i + 1], initializer: .uniform(limit: 0.05), generator: g))
            if i < sizes.count - 2 { layers.append(Activation<Float>(.tanh)) }
        }
        var model = Sequential<Float>(layers)
        var sgd = SGD<Float>(learningRate: 0.01)
        let x = Tensor<Float>.uniform([32, 784], generator: g)
        let labels = (0..<32).map { _ in g.nextInt(below: 10) }
        let r = measureRate(target: 0.4) {
            model.zeroGradients()
            Loss.softmaxCrossEntropy(logits: model(x), labels: labels).backward()
            model.update(with: &sgd)
        }
        consumers["train_\(name)_images_per_s"] = (r.median * 32).rounded()
    }
    emit("augment-batch", threads: threads, value: deform.median * 100, unit: "images/s",
         extra: consumers.merging(["min": deform.min * 100, "max": deform.max * 100]) { a, _ in a })
}
