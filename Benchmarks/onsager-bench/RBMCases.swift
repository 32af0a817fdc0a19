import COnsagerKernels
import Foundation
import Onsager

/// CD-1 on a 784×500 RBM, batch 100, through the tape (loss F(v0) − F(v1), backward, SGD):
/// the workload of PyTorch's autograd version in the reference script. Updates per second.
func benchRBMCD1Autodiff(threads: Int) {
    let r = measureRate(target: 0.5, rbmCD1Workload())
    emit("rbm-cd1-autodiff", threads: threads, value: r.median, unit: "upd/s", extra: ["min": r.min, "max": r.max])
}

/// The body of `rbm-cd1-autodiff`: one call is one CD-1 update.
func rbmCD1Workload() -> () -> Void {
    let g = RandomGenerator(seed: 1)
    var model = RBM<Float>(visible: 784, hidden: 500, weightStd: 0.01, generator: g)
    let v0 = Tensor<Float>.bernoulli(Tensor(repeating: 0.3, shape: [100, 784]), generator: g)
    var cd = ContrastiveDivergence<Float>.cd(k: 1, generator: g)
    var opt = SGD<Float>(learningRate: 0.01)
    return { cd.step(&model, batch: v0, optimizer: &opt) }
}

/// `rbm-cd1-mnist`: the update of `rbm-cd1-autodiff` on MNIST's first 6,000 training images,
/// binarised at 0.5 (about 13 % of the pixels on), in 60 batches of 100 taken in turn: tutorial
/// 10's workload. Each row of its visible samples is sparse, so the products v·W compute each row
/// of C from its nonzeros (sparse_rows.c), where `rbm-cd1-autodiff`'s samples, 30 % on, are too
/// dense for that. Skipped, with a message, when MNIST is not found.
func benchRBMCD1MNIST(threads: Int) {
    guard let batches = mnistBatches else {
        FileHandle.standardError.write("onsager-bench: rbm-cd1-mnist skipped: MNIST not found (set ONSAGER_DATA)\n".data(using: .utf8)!)
        return
    }
    let binary = batches.map { Tensor<Float>(shape: $0.x.shape, scalars: $0.x.scalars.map { $0 > 0.5 ? 1 : 0 }) }
    let g = RandomGenerator(seed: 1)
    var model = RBM<Float>(visible: 784, hidden: 500, weightStd: 0.01, generator: g)
    var cd = ContrastiveDivergence<Float>.cd(k: 1, generator: g)
    var opt = SGD<Float>(learningRate: 0.01)
    var next = 0
    let r = measureRate(target: 0.5) {
        cd.step(&model, batch: binary[next], optimizer: &opt)
        next = (next + 1) % binary.count
    }
    emit("rbm-cd1-mnist", threads: threads, value: r.median, unit: "upd/s", extra: ["min": r.min, "max": r.max])
}

/// scikit-learn's BernoulliRBM workload: one epoch of PCD-1 (100 chains) over 10,000 × 784
/// binary rows, 500 hidden, batch 100, learning rate 0.1. Seconds per epoch (median of 5).
func benchRBMEpoch10k(threads: Int) {
    let epoch = rbmEpochWorkload()
    let r = Measurement(of: (0..<5).map { rep in epoch(UInt64(rep)) })
    emit("rbm-epoch-10k", threads: threads, value: r.median, unit: "s", extra: ["min": r.min, "max": r.max])
}

/// The body of `rbm-epoch-10k`: a call trains one epoch from a new model and chains (seeded by
/// its argument) and returns the epoch's seconds, the model's creation not counted.
func rbmEpochWorkload() -> (UInt64) -> Double {
    let g = RandomGenerator(seed: 2)
    let x = Tensor<Float>.bernoulli(Tensor(repeating: 0.3, shape: [10_000, 784]), generator: g)
    return { seed in
        let mg = RandomGenerator(seed: seed)
        var model = RBM<Float>(visible: 784, hidden: 500, weightStd: 0.01, generator: mg)
        var pcd = ContrastiveDivergence<Float>.pcd(k: 1, chains: 100, visible: 784, generator: mg)
        var opt = SGD<Float>(learningRate: 0.1)
        return seconds { try! pcd.trainEpoch(&model, data: x, batchSize: 100, optimizer: &opt) }
    }
}

/// AIS on a 784×500 RBM: 100 runs, the standard 14,500 intervals. Seconds.
func benchAISMNIST(threads: Int) {
    let g = RandomGenerator(seed: 3)
    let model = RBM<Float>(visible: 784, hidden: 500, weightStd: 0.05, generator: g)
    let t0 = now()
    let r = AnnealedImportanceSampling(runs: 100).logPartition(of: model, generator: g)
    emit("ais-mnist", threads: threads, value: now() - t0, unit: "s", extra: ["logZ": (r.logZ * 1000).rounded() / 1000, "intervals": r.intervals])
}

/// Damped TAP sweeps on a 784×500 RBM (sweeps per second), orders 1–4 with hand-written fields
/// and orders 2 and 4 with fields derived by the tape, for 1 and 100 particles. Orders 1–3 cost
/// one GEMM per power of W per layer (O(Nv·Nh) per particle); order 4 adds the 4-cycle products,
/// with hand-written fields each layer's Gram matrix over the other, its lower part only: about
/// 0.6·(Nv² Nh + Nh² Nv) multiply-adds per particle per sweep (their rate reported as "gflops").
func benchTAPIteration(threads: Int) {
    let g = RandomGenerator(seed: 4)
    let model = RBM<Float>(visible: 784, hidden: 500, weightStd: 0.05, generator: g)
    for particles in [1, 100] {
        let start = TAPSolver.start(from: Tensor<Float>.bernoulli(Tensor(repeating: 0.3, shape: [particles, 784]), generator: g), model: model)
        let cases = PlefkaOrder.allCases.map { ($0, false) } + [(PlefkaOrder.tap2, true), (.tap4, true)]
        for (order, fromTape) in cases {
            let sweeps = order == .tap4 && particles > 1 ? 1 : 10
            let solver = TAPSolver(order: order, iterations: sweeps, fieldsFromTape: fromTape)
            let r = measureRate(target: 0.4) { _ = withoutGrad { solver.solve(model, from: start) } }
            var extra: [String: Any] = ["order": order.rawValue, "particles": particles, "fields": fromTape ? "tape" : "hand",
                                        "min": r.min * Double(sweeps), "max": r.max * Double(sweeps)]
            if order == .tap4 && !fromTape {
                // The 4-cycle products per particle and sweep, as the kernel counts them: each
                // layer's field is squaredGramProduct over wₓ [Ny, Nx].
                let flops = 2 * (onsager_gram_square_multiply_adds(500, 784) + onsager_gram_square_multiply_adds(784, 500))
                extra["gflops"] = (r.median * Double(sweeps) * flops * Double(particles) / 1e9).rounded()
            }
            emit("tap-iteration", threads: threads, value: r.median * Double(sweeps), unit: "iter/s", extra: extra)
        }
    }
}

/// One EMF update (3 damped sweeps from persistent magnetizations of 100 particles, the loss,
/// and its envelope gradient) on a 784×H RBM, H = 100 and 500, orders 2–4 (updates per second).
func benchEMFUpdate(threads: Int) {
    let g = RandomGenerator(seed: 6)
    for hidden in [100, 500] {
        let model = RBM<Float>(visible: 784, hidden: hidden, weightStd: 0.05, generator: g)
        let batch = Tensor<Float>.bernoulli(Tensor(repeating: 0.3, shape: [100, 784]), generator: g)
        for order in [PlefkaOrder.tap2, .tap3, .tap4] {
            var emf = EMFTrainer<Float>(solver: TAPSolver(order: order, iterations: 3))
            emf.makePersistent(from: batch, model: model)
            let r = measureRate(target: 0.4, reps: hidden == 500 && order == .tap4 ? 3 : 7, warm: 1) {
                _ = gradients(of: emf.loss(model, batch: batch), wrt: model.parameters)
            }
            emit("emf-update", threads: threads, value: r.median, unit: "updates/s", extra: ["order": order.rawValue, "hidden": hidden])
        }
    }
}

/// One epoch of EMF training (TAP2, 3 sweeps, envelope gradient) over 10,000 × 784 rows, batch
/// 100, beside PCD-1 on the same data (seconds).
func benchEMFEpoch(threads: Int) {
    let g = RandomGenerator(seed: 5)
    let x = Tensor<Float>.bernoulli(Tensor(repeating: 0.3, shape: [10_000, 784]), generator: g)
    for order in [PlefkaOrder.tap2, .tap3] {
        var model = RBM<Float>(visible: 784, hidden: 500, weightStd: 0.01, generator: g)
        var emf = EMFTrainer<Float>(solver: TAPSolver(order: order, iterations: 3), l2: 0.001)
        var opt = SGD<Float>(learningRate: 0.005, momentum: 0.5)
        let t0 = now()
        try! emf.trainEpoch(&model, data: x, batchSize: 100, optimizer: &opt, generator: g)
        emit("emf-epoch", threads: threads, value: now() - t0, unit: "s", extra: ["order": order.rawValue, "method": "EMF-\(order)"])
    }
    var model = RBM<Float>(visible: 784, hidden: 500, weightStd: 0.01, generator: g)
    var pcd = ContrastiveDivergence<Float>.pcd(k: 1, chains: 100, visible: 784, generator: g)
    var opt = SGD<Float>(learningRate: 0.005, momentum: 0.5)
    let t0 = now()
    try! pcd.trainEpoch(&model, data: x, batchSize: 100, optimizer: &opt)
    emit("emf-epoch", threads: threads, value: now() - t0, unit: "s", extra: ["method": "PCD-1"])
}

/// CD-25 on a 784×500 RBM, batch 100 (tutorial 10's reproduction of Salakhutdinov & Murray):
/// 53 GEMMs of 78.4 MFLOP per update plus 50 sampled layers. Updates per second, with the
/// fraction of the time the GEMMs would take at the sgemm-rbm-fwd rate measured just before.
func benchRBMCD25(threads: Int) {
    let g = RandomGenerator(seed: 1)
    var model = RBM<Float>(visible: 784, hidden: 500, weightStd: 0.01, generator: g)
    let v0 = Tensor<Float>.bernoulli(Tensor(repeating: 0.3, shape: [100, 784]), generator: g)
    var cd = ContrastiveDivergence<Float>.cd(k: 25, generator: g)
    var opt = SGD<Float>(learningRate: 0.01)
    let r = measureRate(target: 1.0, reps: 3, warm: 1) { cd.step(&model, batch: v0, optimizer: &opt) }
    emit("rbm-cd25-update", threads: threads, value: r.median, unit: "upd/s", extra: ["min": r.min, "max": r.max, "gemm_gflop_per_update": 53 * 0.0784])
}
