import Foundation
import Onsager
import OnsagerDistributed

/// Equivalence checks under mpirun: collectives against local computation, data-parallel training
/// against one process on the same batches, identical parameters on every rank, sharded AIS
/// against one process, and resuming with a different number of ranks. Returns the failures.
func runChecks(_ world: Communicator) -> Int {
    var failures = 0
    func expect(_ ok: Bool, _ what: String) {
        let all = (try? world.allReduce(ok ? 0 : 1, .max)) ?? 1
        if world.rank == 0 { print((all == 0 ? "PASS " : "FAIL ") + what) }
        if all != 0 { failures += 1 }
    }
    func attempt(_ what: String, _ body: () throws -> Void) {
        do { try body() } catch { print("rank \(world.rank): \(what) threw \(error)"); expect(false, what) }
    }
    let r = Double(world.rank), n = Double(world.size)

    attempt("collectives") {
        // Rank r holds r + i: sums, means, extremes and gathers have closed forms.
        for double in [false, true] {
            func check<S: TensorScalar>(_: S.Type) throws {
                let t = Tensor<S>(shape: [2, 3], scalars: (0..<6).map { S(r + Double($0)) })
                let sum = try world.allReduce(t, .sum).scalars.map { Double($0) }
                let mean = try world.allReduce(t, .mean).scalars.map { Double($0) }
                let max = try world.allReduce(t, .max).scalars.map { Double($0) }
                let ranksSum = n * (n - 1) / 2
                expect(sum == (0..<6).map { n * Double($0) + ranksSum }, "all-reduce sum (\(S.self))")
                expect(zip(mean, (0..<6).map { Double($0) + (n - 1) / 2 }).allSatisfy { abs($0 - $1) < 1e-6 }, "all-reduce mean (\(S.self))")
                expect(max == (0..<6).map { Double($0) + n - 1 }, "all-reduce max (\(S.self))")
                let b = try world.broadcast(t, root: world.size - 1).scalars.map { Double($0) }
                expect(b == (0..<6).map { n - 1 + Double($0) }, "broadcast from the last rank (\(S.self))")
                let g = try world.allGather(t)
                expect(g.shape == [2 * world.size, 3] && g.scalars.map { Double($0) } == (0..<world.size).flatMap { q in (0..<6).map { Double(q + $0) } },
                       "all-gather in rank order (\(S.self))")
            }
            if double { try check(Double.self) } else { try check(Float.self) }
        }
        if world.size > 1 {
            var values = [Double](repeating: 1, count: world.rank == 0 ? 3 : 5)
            do {
                try world.broadcast(&values)
                expect(false, "an array count mismatch is reported")
            } catch let e as DistributedError {
                expect(e.description.contains("[3]") && e.description.contains("[5]"), "an array count mismatch names both counts: \(e)")
            }
            let shape = world.rank == 0 ? [3] : [4]
            do {
                _ = try world.allReduce(Tensor<Double>(repeating: 1, shape: shape))
                expect(false, "a shape mismatch is reported")
            } catch let e as DistributedError {
                expect(e.description.contains("[3]") && e.description.contains("[4]"), "a shape mismatch names both shapes: \(e)")
            }
        }
    }

    attempt("data-parallel training") {
        // A Double MLP on 60 rows, global batch 16 (a last partial batch of 12): DDP against the
        // same loop in one process, on every rank.
        func train(_ dp: DataParallel<Double>?, epochs: Int = 3) throws -> TrainingLoop<Sequential<Double>, SGD<Double>> {
            let g = RandomGenerator(seed: 42)
            let x = Tensor<Double>.normal([60, 8], generator: g)
            let y = (0..<60).map { $0 % 3 }
            let model = Sequential<Double>([Dense<Double>(inputSize: 8, outputSize: 16, generator: RandomGenerator(seed: UInt64(7 + (dp == nil ? 0 : world.rank)))),
                                            Activation<Double>(.tanh), Dense<Double>(inputSize: 16, outputSize: 3, generator: g)])
            var loop = TrainingLoop(model: model, optimizer: SGD<Double>(learningRate: 0.1, momentum: 0.9), batchSize: 16, generator: RandomGenerator(seed: 3))
            loop.showProgress = false
            loop.showsProgressBar = false
            loop.dataParallel = dp
            try loop.fit(inputs: x, labels: y, epochs: epochs) { m, x, y in Loss.softmaxCrossEntropy(logits: m(x), labels: y) }
            return loop
        }
        let dp = DataParallel<Double>(world, bucketBytes: 512, checkEvery: 1)   // small buckets: several per step
        let distributed = try train(dp), local = try train(nil)
        let diff = zip(distributed.model.parameters, local.model.parameters).map { zip($0.scalars, $1.scalars).map { abs($0 - $1) }.max()! }.max()!
        expect(diff < 1e-12, String(format: "DDP on %d ranks equals one process on the global batches (max |Δθ| %.1e ≤ 1e-12)", world.size, diff))
        expect(abs(distributed.history.last!.loss - local.history.last!.loss) < 1e-12, "the logged loss is the global batch's")
        try dp.checkIdentical(distributed.model.parameters, step: -1)
        expect(true, "parameters bit-identical on every rank (rank 0 broadcast differently seeded models at the start)")
        if world.size > 1 {
            // Drift: the last rank's parameters nudged by one ulp must stop every rank.
            var drifted = distributed.model.parameters.map { Tensor<Double>(shape: $0.shape, scalars: $0.scalars) }
            if world.rank == world.size - 1 { drifted[0] = Tensor(shape: drifted[0].shape, scalars: drifted[0].scalars.map { $0.nextUp }) }
            do {
                try dp.checkIdentical(drifted, step: 7)
                expect(false, "drifted parameters are detected")
            } catch let e as DistributedError {
                expect(e == .parametersDiverged(step: 7, rank: world.rank, differingRanks: [world.size - 1]), "drifted parameters stop every rank naming the drifted one: \(e)")
            }
        }
    }

    attempt("data-parallel BatchNorm statistics") {
        // Each rank's running statistics come from its own shards; at the end of every epoch they
        // are averaged, so all ranks (and the checkpoint) hold the same, all-shard statistics.
        let g = RandomGenerator(seed: 5)
        let x = Tensor<Double>.normal([64, 6], generator: g) + Tensor<Double>(shape: [64, 1], scalars: (0..<64).map { Double($0) / 16 })
        let model = Sequential<Double>([Dense<Double>(inputSize: 6, outputSize: 4, generator: RandomGenerator(seed: 6)), BatchNorm<Double>(features: 4),
                                        Activation<Double>(.tanh), Dense<Double>(inputSize: 4, outputSize: 2, generator: RandomGenerator(seed: 7))])
        var loop = TrainingLoop(model: model, optimizer: SGD<Double>(learningRate: 0.05), batchSize: 16, generator: RandomGenerator(seed: 8))
        loop.showProgress = false
        loop.showsProgressBar = false
        let dp = DataParallel<Double>(world)
        loop.dataParallel = dp
        try loop.fit(inputs: x, labels: (0..<64).map { $0 % 2 }, epochs: 2) { m, x, y in Loss.softmaxCrossEntropy(logits: m(x), labels: y) }
        let buffers = loop.model.namedBuffers.map(\.value)
        expect(!buffers.isEmpty && buffers.contains { $0.scalars.contains { $0 != 0 && $0 != 1 } }, "BatchNorm keeps running statistics (\(buffers.count) buffers)")
        try dp.checkIdentical(buffers, step: -2)
        expect(true, "BatchNorm running statistics are identical on every rank after data-parallel training")
    }

    attempt("data-parallel misuse") {
        guard world.size > 1 else { return }
        func loop() -> TrainingLoop<Sequential<Double>, SGD<Double>> {
            var l = TrainingLoop(model: Sequential<Double>([Dense<Double>(inputSize: 4, outputSize: 2, generator: RandomGenerator(seed: 1))]),
                                 optimizer: SGD<Double>(learningRate: 0.1), batchSize: 10, generator: RandomGenerator(seed: 2))
            l.showProgress = false
            l.showsProgressBar = false
            l.dataParallel = DataParallel<Double>(world)
            return l
        }
        // Ranks that load different data would combine gradients of different batches.
        let rows = world.rank == 0 ? 40 : 30
        var a = loop()
        do {
            try a.fit(inputs: Tensor<Double>.normal([rows, 4], generator: RandomGenerator(seed: 3)), labels: (0..<rows).map { $0 % 2 }, epochs: 1) { m, x, y in
                Loss.softmaxCrossEntropy(logits: m(x), labels: y)
            }
            expect(false, "ranks with different data are refused")
        } catch let e as DistributedError {
            expect(e.description.contains("rows 40 on rank 0, 30 on rank 1"), "ranks with different data are refused at the start of fit: \(e)")
        }
        // A NaN in one rank's rows stops every rank with the same error.
        var x = Tensor<Double>.normal([40, 4], generator: RandomGenerator(seed: 3)).scalars
        x[39 * 4] = .nan   // the last row: rank 1's shard of the last batch
        var b = loop()
        do {
            try b.fit(inputs: Tensor(shape: [40, 4], scalars: x), labels: (0..<40).map { $0 % 2 }, epochs: 1) { m, x, y in
                Loss.softmaxCrossEntropy(logits: m(x), labels: y)
            }
            expect(false, "a NaN on one rank stops training")
        } catch let e as TrainingError {
            expect("\(e)".contains("epoch 1"), "a NaN in one rank's rows stops every rank: \(e)")
        }
    }

    attempt("data-parallel EMF") {
        func train(_ dp: DataParallel<Double>?) throws -> RBM<Double> {
            let g = RandomGenerator(seed: 5)
            let data = Tensor<Double>.bernoulli(Tensor(repeating: 0.3, shape: [40, 12]), generator: g)
            var model = RBM<Double>(visible: 12, hidden: 6, weightStd: 0.1, generator: g)
            var trainer = EMFTrainer<Double>(solver: TAPSolver(order: .tap2, iterations: 5))
            var opt = SGD<Double>(learningRate: 0.05)
            for _ in 0..<2 { try trainer.trainEpoch(&model, data: data, batchSize: 10, optimizer: &opt, generator: RandomGenerator(seed: 9), dataParallel: dp) }
            return model
        }
        let a = try train(DataParallel<Double>(world)), b = try train(nil)
        let diff = zip(a.parameters, b.parameters).map { zip($0.scalars, $1.scalars).map { abs($0 - $1) }.max()! }.max()!
        expect(diff < 1e-12, String(format: "EMF (TAP2) trainer with DDP equals one process (max |Δθ| %.1e)", diff))
    }

    attempt("sharded AIS") {
        let model = RBM<Double>(visible: 20, hidden: 10, weightStd: 0.3, generator: RandomGenerator(seed: 8))
        let sharded = ShardedAIS(AnnealedImportanceSampling(betas: AnnealedImportanceSampling.schedule(coarse: 0.05, middle: 0.01, fine: 0.005), runs: 40), chunkRuns: 10)
        let together = try sharded.logPartition(of: model, seed: 100, communicator: world)
        let alone = try sharded.logPartition(of: model, seed: 100)
        expect(together.logZ == alone.logZ && together.band == alone.band && together.logWeights == alone.logWeights,
               String(format: "sharded AIS on %d ranks equals one process bit for bit (ln Z %.6f, exact %.6f)", world.size, together.logZ, model.exactLogPartition()))
    }

    attempt("resume with another rank count") {
        // Train 2 epochs on all ranks with a checkpoint, continue to 4; rank 0 alone resumes the
        // checkpoint and trains to 4 as a job of one: the same parameters.
        var tokenValues = [Double(getpid())]
        try world.broadcast(&tokenValues, root: 0)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("onsager-mpi-resume-\(Int(tokenValues[0]))")
        func makeLoop(_ dp: DataParallel<Double>) -> TrainingLoop<Sequential<Double>, SGD<Double>> {
            let model = Sequential<Double>([Dense<Double>(inputSize: 6, outputSize: 10, generator: RandomGenerator(seed: 1)), Activation<Double>(.relu),
                                            Dense<Double>(inputSize: 10, outputSize: 2, generator: RandomGenerator(seed: 2))])
            var loop = TrainingLoop(model: model, optimizer: SGD<Double>(learningRate: 0.05, momentum: 0.9), batchSize: 12, generator: RandomGenerator(seed: 4))
            loop.showProgress = false
            loop.showsProgressBar = false
            loop.dataParallel = dp
            return loop
        }
        let x = Tensor<Double>.normal([48, 6], generator: RandomGenerator(seed: 6)), y = (0..<48).map { ($0 * 7) % 2 }
        let loss: (Sequential<Double>, Tensor<Double>, [Int]) -> Tensor<Double> = { m, x, y in Loss.softmaxCrossEntropy(logits: m(x), labels: y) }
        var full = makeLoop(DataParallel(world))
        full.checkpointing = CheckpointPolicy(directory: dir, every: 2)
        try full.fit(inputs: x, labels: y, epochs: 2, loss: loss)
        try world.barrier()
        full.checkpointing = nil
        try full.fit(inputs: x, labels: y, epochs: 4, loss: loss)
        let solo = try world.split(color: world.rank == 0 ? 0 : nil)
        var ok = true
        if let solo {
            var resumed = makeLoop(DataParallel(solo))
            try resumed.resume(from: dir)
            try resumed.fit(inputs: x, labels: y, epochs: 4, loss: loss)
            let diff = zip(resumed.model.parameters, full.model.parameters).map { zip($0.scalars, $1.scalars).map { abs($0 - $1) }.max()! }.max()!
            print(String(format: "  %d ranks → 1 rank: max |Δθ| after the resumed epochs %.1e", world.size, diff))
            ok = diff < 1e-12
            try? FileManager.default.removeItem(at: dir)
        }
        expect(ok, "a checkpoint written by rank 0 of \(world.size) resumes in a job of 1 rank, continuing as the \(world.size)-rank run did")
    }
    return failures
}
