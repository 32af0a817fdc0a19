import Onsager

/// The `op-*` cases: forward and backward of one op or layer on Float data of the sizes a
/// network gives it, µs per call, beside `torch` in `reference_torch.py` (same shapes, same
/// expression: the output times fixed weights, summed, then backward).
var layerOpCases: [(name: String, run: (Int) -> Void)] { [
    ("op-gelu", { benchLayerOp("op-gelu", threads: $0, shape: [256, 1024]) { $0.gelu() } }),
    ("op-softmax", { benchLayerOp("op-softmax", threads: $0, shape: [8, 4, 128, 128]) { $0.softmax(axis: -1) } }),
    ("op-layernorm", { t in
        let ln = LayerNorm<Float>(size: 1024)
        benchLayerOp("op-layernorm", threads: t, shape: [256, 1024]) { ln($0) }
    }),
    ("op-batchnorm2d", { t in
        let bn = BatchNorm<Float>(features: 32)
        benchLayerOp("op-batchnorm2d", threads: t, shape: [64, 32, 26, 26]) { bn($0) }
    }),
    ("op-embedding", { t in
        // 4096 token ids into a 10000 × 256 table; the gradient is the whole table, as torch's (dense).
        let emb = Embedding<Float>(count: 10000, size: 256, generator: RandomGenerator(seed: 3))
        let ids = (0..<4096).map { ($0 * 7919) % 10000 }
        let r = measureRate(target: 0.3) { emb(ids).sum().backward() }
        emit("op-embedding", threads: t, value: 1e6 / r.median, unit: "us", extra: ["min": 1e6 / r.max, "max": 1e6 / r.min])
    }),
    ("op-cross-entropy", { t in
        // A 1000-class classifier's mean loss over a batch of 1024 logit rows, and its backward.
        let logits = Tensor<Float>.normal([1024, 1000], generator: RandomGenerator(seed: 3))
        let labels = (0..<1024).map { ($0 * 7919) % 1000 }
        let r = measureRate(target: 0.3) { Loss.softmaxCrossEntropy(logits: logits.requiringGrad(), labels: labels).backward() }
        emit("op-cross-entropy", threads: t, value: 1e6 / r.median, unit: "us", extra: ["min": 1e6 / r.max, "max": 1e6 / r.min])
    }),
    ("op-linear-head", { t in
        // A 10-class head on 784 features at batch 1024 (x·Wᵀ + b, then the backward to x, W and b):
        // a product of few columns, which runs as dot products without packing.
        let g = RandomGenerator(seed: 3)
        let head = Dense<Float>(inputSize: 784, outputSize: 10, generator: g)
        let x = Tensor<Float>.normal([1024, 784], generator: g), w = Tensor<Float>.normal([1024, 10], generator: g)
        let r = measureRate(target: 0.3) { (head(x.requiringGrad()) * w).sum().backward() }
        emit("op-linear-head", threads: t, value: 1e6 / r.median, unit: "us", extra: ["min": 1e6 / r.max, "max": 1e6 / r.min])
    }),
] }

/// (f(x) ⊙ w).sum() and its backward to x, x and w normal of `shape`: µs per call.
func benchLayerOp(_ name: String, threads: Int, shape: [Int], _ f: @escaping (Tensor<Float>) -> Tensor<Float>) {
    let g = RandomGenerator(seed: 3)
    let x = Tensor<Float>.normal(shape, generator: g), w = Tensor<Float>.normal(shape, generator: g)
    let r = measureRate(target: 0.3) {
        let xi = x.requiringGrad()
        (f(xi) * w).sum().backward()
    }
    emit(name, threads: threads, value: 1e6 / r.median, unit: "us", extra: ["min": 1e6 / r.max, "max": 1e6 / r.min])
}
