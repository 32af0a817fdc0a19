import Foundation
import Onsager

// Floors: the part of a workload no implementation of it can skip, timed alone in the same run
// as the workload, so that "within 15 % of the FLOP bound" and "1.2× JAX" are read against a
// bound measured beside them rather than one assumed from another run. A floor runs the same
// GEMM calls (shapes, layouts, bias epilogues) as the workload, on untracked tensors, and for
// the MLP steps the optimizer's pass over the weights, which must stay separate so that
// gradients remain visible; it leaves out everything else (sampling, activations, losses, tape).

/// The GEMMs of one `rbm-epoch-10k` epoch alone: per update the fields of [data; chains]
/// ([200, 784]·[784, 500] + b), the chains' visible field ([100, 500]·[784, 500]ᵀ + a) and the
/// weight gradient ([200, 784]ᵀ·[200, 500]): five 784×500×100 products, 100 updates. Seconds
/// (median of 5), with the rate they ran at.
func benchRBMEpochGEMMs(threads: Int) {
    let epoch = rbmEpochGEMMsWorkload()
    epoch()
    let r = Measurement(of: (0..<5).map { _ in seconds(epoch) })
    emit("rbm-epoch-10k-gemms", threads: threads, value: r.median, unit: "s",
         extra: ["min": r.min, "max": r.max, "GFLOPS": (rbmEpochFLOPs / r.median / 1e7).rounded() / 100])
}

/// The floating-point operations of one `rbm-epoch-10k` epoch's GEMMs: 100 updates of five
/// 784×500×100 products (the FLOP bound is this at the measured GEMM rate).
let rbmEpochFLOPs = 500 * 2.0 * 784 * 500 * 100

/// The body of `rbm-epoch-10k-gemms`: one call runs one epoch's GEMMs.
func rbmEpochGEMMsWorkload() -> () -> Void {
    let g = RandomGenerator(seed: 2)
    let w = Tensor<Float>.normal([784, 500], generator: g) * 0.01
    let a = Tensor<Float>.zeros([784]), b = Tensor<Float>.zeros([500])
    let rows = Tensor<Float>.bernoulli(Tensor(repeating: 0.3, shape: [200, 784]), generator: g)
    let hidden = Tensor<Float>.bernoulli(Tensor(repeating: 0.5, shape: [100, 500]), generator: g)
    let fieldGradient = Tensor<Float>.normal([200, 500], generator: g) * 0.01
    return {
        for _ in 0..<100 {
            _ = matmul(rows, w, adding: b)
            _ = matmul(hidden, w.transposed(), adding: a)
            _ = matmul(rows.transposed(), fieldGradient)
        }
    }
}

/// The floor of `mlp-small-step` / `mlp-big-step`: per layer the forward product with its bias
/// epilogue (x·Wᵀ + b), the weight gradient (gᵀ·x) and, above the first layer, the input
/// gradient (g·W), the bias gradient (Σ over the batch of g), then one SGD pass over every weight
/// and bias (θ ← θ − lr·∇θ). Steps per second, directly comparable to the step's own rate.
func benchMLPFloor(_ name: String, sizes: [Int], threads: Int) {
    let g = RandomGenerator(seed: 11)
    let batch = 100
    var weights = (0..<(sizes.count - 1)).map { Tensor<Float>.normal([sizes[$0 + 1], sizes[$0]], generator: g) * 0.05 }
    var biases = (0..<(sizes.count - 1)).map { Tensor<Float>.zeros([sizes[$0 + 1]]) }
    let inputs = (0..<(sizes.count - 1)).map { Tensor<Float>.uniform([batch, sizes[$0]], generator: g) }
    let outputGradients = (0..<(sizes.count - 1)).map { Tensor<Float>.normal([batch, sizes[$0 + 1]], generator: g) * 0.01 }
    let r = measureRate(target: sizes.count > 3 ? 0.6 : 0.4) {
        for l in weights.indices { _ = matmul(inputs[l], weights[l].transposed(), adding: biases[l]) }
        var weightGradients: [Tensor<Float>] = []
        for l in weights.indices.reversed() {
            if l > 0 { _ = matmul(outputGradients[l], weights[l]) }
            weightGradients.append(matmul(outputGradients[l].transposed(), inputs[l]))
        }
        for (l, dW) in zip(weights.indices.reversed(), weightGradients) {
            weights[l].addInPlace(dW, alpha: -0.01)
            biases[l].addInPlace(outputGradients[l].sum(axis: 0), alpha: -0.01)
        }
    }
    emit(name, threads: threads, value: r.median, unit: "steps/s", extra: ["min": r.min, "max": r.max])
}
