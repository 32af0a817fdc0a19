import Onsager

/// The sgemm-* cases: two square products and the RBM's three batch-sized ones.
let sgemmCases: [(name: String, m: Int, n: Int, k: Int, transA: Bool, transB: Bool)] = [
    ("sgemm-512", 512, 512, 512, false, false),
    ("sgemm-1024", 1024, 1024, 1024, false, false),
    ("sgemm-rbm-fwd", 100, 500, 784, false, false),   // [100x784]·[784x500]
    ("sgemm-rbm-bwdT", 100, 784, 500, false, true),   // [100x500]·[784x500]ᵀ
    ("sgemm-rbm-vTh", 784, 500, 100, true, false),    // [784x100]ᵀ·[100x500]
]

/// Products of one and four rows on the RBM's weights: a single sample's fields (the TAP solver's
/// one particle, inference on one input) and a mini-batch of four. They read all of the weights for
/// a few FMAs per value, so they run at the speed the weights stream from the caches, not the FMA
/// peak: named apart from `sgemm-*` for the same reason as `binary-*`.
let fewRowCases: [(name: String, m: Int, n: Int, k: Int, transA: Bool, transB: Bool)] = [
    ("matvec-rbm-fwd", 1, 500, 784, false, false),    // [1x784]·[784x500]
    ("matvec-rbm-bwdT", 1, 784, 500, false, true),    // [1x500]·[784x500]ᵀ
    ("rows4-rbm-fwd", 4, 500, 784, false, false),     // [4x784]·[784x500]
    ("rows4-rbm-bwdT", 4, 784, 500, false, true),     // [4x500]·[784x500]ᵀ
]

/// The RBM's three products with their left operand 0/1 (Bernoulli(0.3) samples, as an RBM's
/// visible and hidden samples): on a CPU with AMX tiles these take the exact-operand path
/// (`Kernels.usesMatrixTiles`), on Zen 4 (or with `ONSAGER_ZERO_ONE=1`) the masked adds (`Kernels.usesMaskedAdds`),
/// elsewhere the same kernels as `sgemm-rbm-*`. Named apart from
/// `sgemm-*` so that the FLOP bounds, which take the best `sgemm-*` rate, stay vector-kernel bounds.
let binaryOperandCases: [(name: String, m: Int, n: Int, k: Int, transA: Bool, transB: Bool)] = [
    ("binary-rbm-fwd", 100, 500, 784, false, false),   // [100x784, 0/1]·[784x500]
    ("binary-rbm-bwdT", 100, 784, 500, false, true),   // [100x500, 0/1]·[784x500]ᵀ
    ("binary-rbm-vTh", 784, 500, 100, true, false),    // [784x100, 0/1]ᵀ·[100x500]
]

/// SGEMM on the square and RBM/MLP batch shapes, in GFLOPS.
/// `binaryA`: the left operand 0/1 (the `binary-*` cases).
func benchSgemm(_ name: String, m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false, binaryA: Bool = false,
                threads: Int) {
    let r = measureRate(target: 0.25, sgemmWorkload(m: m, n: n, k: k, transA: transA, transB: transB, binaryA: binaryA))
    let flops = 2.0 * Double(m * n * k)
    emit(name, threads: threads, value: r.median * flops / 1e9, unit: "GFLOPS",
         extra: ["min": (r.min * flops / 1e7).rounded() / 100, "max": (r.max * flops / 1e7).rounded() / 100, "shape": "\(m)x\(n)x\(k)"])
}

/// The body of the `sgemm-*` cases: one call is one product of the given shape (2mnk FLOPs).
func sgemmWorkload(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false, binaryA: Bool = false) -> () -> Void {
    let g = RandomGenerator(seed: 1)
    let shapeA = transA ? [k, m] : [m, k]
    let a = binaryA ? Tensor<Float>.bernoulli(Tensor(repeating: 0.3, shape: shapeA), generator: g)
        : Tensor<Float>.normal(shapeA, generator: g)
    let b = Tensor<Float>.normal(transB ? [n, k] : [k, n], generator: g)
    let lhs = transA ? a.T : a, rhs = transB ? b.T : b
    return { _ = matmul(lhs, rhs) }
}

/// A 10-element add, sum and backward per iteration (PyTorch: add+sum+backward()), in µs.
func benchTinyOp(threads: Int) {
    let x = Tensor<Float>.normal([10]).requiringGrad()
    let b = Tensor<Float>.normal([10])
    let r = measureRate(target: 0.3, reps: 9) {
        let y = (x + b).sum()
        y.backward()
    }
    emit("tiny-op-backward", threads: threads, value: 1e6 / r.median, unit: "us",
         extra: ["min": (1e8 / r.max).rounded() / 100, "max": (1e8 / r.min).rounded() / 100])
}
