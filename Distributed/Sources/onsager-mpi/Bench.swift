import Foundation
import Onsager
import OnsagerDistributed

/// 1 rank against all ranks on the same global work, and the all-reduce bandwidth. Every rank
/// should run with one kernel thread (ONSAGER_THREADS=1) so ranks do not compete for cores.
/// Prints one JSON object per line (rank 0).
func runBench(_ world: Communicator) throws {
    func emit(_ fields: [String: Any]) {
        guard world.rank == 0, let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        print(String(decoding: data, as: UTF8.self))
        fflush(nil)
    }
    let solo = try world.split(color: world.rank == 0 ? 0 : 1, key: world.rank)!
    // All-reduce bandwidth: algorithm bandwidth bytes/t, and bus bandwidth 2(n−1)/n · bytes/t
    // (what each link carries in a ring all-reduce).
    for exponent in stride(from: 10, through: 26, by: 4) {
        var values = [Float](repeating: 1, count: (1 << exponent) / 4)
        try world.barrier()
        let reps = exponent >= 24 ? 5 : 50
        let t0 = Date()
        for _ in 0..<reps { try world.allReduce(&values, .sum) }
        let t = Date().timeIntervalSince(t0) / Double(reps)
        let n = Double(world.size), bytes = Double(1 << exponent)
        emit(["bench": "allreduce", "ranks": world.size, "bytes": 1 << exponent, "seconds": t, "algbw_GBps": bytes / t / 1e9,
              "busbw_GBps": 2 * (n - 1) / n * bytes / t / 1e9])
    }
    // The plain loop (no data parallelism) for reference, then the same global work on one rank
    // (rank 0 alone) and on all ranks.
    if world.rank == 0 { emit(["bench": "mlp-small-step", "ranks": 1, "value": try benchMLP(nil), "unit": "steps/s", "label": "plain TrainingLoop"]) }
    for (label, comm) in [("1 rank", world.rank == 0 ? solo : nil), ("\(world.size) ranks", world)] {
        try world.barrier()
        if let comm {
            let mlp = try benchMLP(comm)
            emit(["bench": "mlp-small-step", "ranks": comm.size, "value": mlp, "unit": "steps/s", "label": label])
            let rbm = try benchRBMEpoch(comm)
            emit(["bench": "rbm-epoch-10k", "ranks": comm.size, "value": rbm, "unit": "s", "label": label])
            let ais = try benchAIS(comm)
            emit(["bench": "ais-mnist", "ranks": comm.size, "value": ais, "unit": "s", "label": label])
        }
        try world.barrier()
    }
}

/// mlp-small-step (784-500-10 ReLU, global batch 100, SGD) with data parallelism: steps/s.
func benchMLP(_ comm: Communicator?) throws -> Double {
    let g = RandomGenerator(seed: 11)
    let model = Sequential<Float>([Dense<Float>(inputSize: 784, outputSize: 500, initializer: .heNormal, generator: g), Activation<Float>(.relu),
                                   Dense<Float>(inputSize: 500, outputSize: 10, initializer: .heNormal, generator: g)])
    let x = Tensor<Float>.uniform([3000, 784], generator: g), y = (0..<3000).map { $0 % 10 }
    var loop = TrainingLoop(model: model, optimizer: SGD<Float>(learningRate: 0.01), batchSize: 100, generator: RandomGenerator(seed: 1))
    loop.dataParallel = comm.map { DataParallel<Float>($0, checkEvery: 0) }
    loop.showProgress = false
    loop.showsProgressBar = false
    let loss: (Sequential<Float>, Tensor<Float>, [Int]) -> Tensor<Float> = { m, x, y in Loss.softmaxCrossEntropy(logits: m(x), labels: y) }
    try loop.fit(inputs: x, labels: y, epochs: 1, loss: loss)   // warm-up
    let t0 = Date()
    try loop.fit(inputs: x, labels: y, epochs: 4, loss: loss)
    return 120 / Date().timeIntervalSince(t0)   // 4 epochs of 30 batches
}

/// rbm-epoch-10k (PCD-1, 100 chains per rank, 784×500, batch 100) with data parallelism: seconds.
func benchRBMEpoch(_ comm: Communicator) throws -> Double {
    let g = RandomGenerator(seed: 2)
    let x = Tensor<Float>.bernoulli(Tensor(repeating: 0.3, shape: [10_000, 784]), generator: g)
    var model = RBM<Float>(visible: 784, hidden: 500, weightStd: 0.01, generator: g)
    var pcd = ContrastiveDivergence<Float>.pcd(k: 1, chains: 100 / comm.size, visible: 784, generator: RandomGenerator(seed: UInt64(10 + comm.rank)))
    var opt = SGD<Float>(learningRate: 0.1)
    let t0 = Date()
    try pcd.trainEpoch(&model, data: x, batchSize: 100, optimizer: &opt, generator: RandomGenerator(seed: 3), dataParallel: DataParallel<Float>(comm, checkEvery: 0))
    return Date().timeIntervalSince(t0)
}

/// ais-mnist (784×500, 100 runs, 14,500 intervals) sharded over the ranks: seconds.
func benchAIS(_ comm: Communicator) throws -> Double {
    let model = RBM<Float>(visible: 784, hidden: 500, weightStd: 0.05, generator: RandomGenerator(seed: 3))
    let t0 = Date()
    _ = try ShardedAIS(AnnealedImportanceSampling(runs: 100), chunkRuns: 50).logPartition(of: model, seed: 1, communicator: comm)
    return Date().timeIntervalSince(t0)
}
