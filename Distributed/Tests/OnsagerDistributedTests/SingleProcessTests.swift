import Foundation
import Testing
import Onsager
import OnsagerDistributed

/// What can be checked in one process (`swift test`; the job then has one rank). The multi-rank
/// equivalences run under `mpirun -np 2 onsager-mpi check` (see `.ci/run`).
@Suite(.serialized) struct SingleProcessTests {
    @Test func collectivesOnOneRankAreTheIdentity() throws {
        let world = try Communicator.world()
        #expect(world.size >= 1 && (0..<world.size).contains(world.rank))
        guard world.size == 1 else { return }
        let t = Tensor<Double>(shape: [2, 2], scalars: [1, 2, 3, 4])
        #expect(try world.allReduce(t, .sum).scalars == t.scalars)
        #expect(try world.allReduce(t, .mean).scalars == t.scalars)
        #expect(try world.broadcast(t).scalars == t.scalars)
        #expect(try world.allGather(t).shape == [2, 2])
        try world.barrier()
    }

    @Test func oneRankDataParallelTrainingEqualsPlainTraining() throws {
        let world = try Communicator.world()
        guard world.size == 1 else { return }
        func train(_ dp: DataParallel<Float>?) throws -> [Float] {
            let g = RandomGenerator(seed: 1)
            let x = Tensor<Float>.normal([50, 5], generator: g), y = (0..<50).map { $0 % 2 }
            let model = Sequential<Float>([Dense<Float>(inputSize: 5, outputSize: 8, generator: g), Activation<Float>(.tanh),
                                           Dense<Float>(inputSize: 8, outputSize: 2, generator: g)])
            var loop = TrainingLoop(model: model, optimizer: SGD<Float>(learningRate: 0.1), batchSize: 16, generator: RandomGenerator(seed: 2))
            loop.showProgress = false
            loop.showsProgressBar = false
            loop.dataParallel = dp
            try loop.fit(inputs: x, labels: y, epochs: 2) { m, x, y in Loss.softmaxCrossEntropy(logits: m(x), labels: y) }
            return loop.model.parameters.flatMap(\.scalars)
        }
        #expect(try train(DataParallel(world, bucketBytes: 64, checkEvery: 1)) == train(nil))
    }

    @Test func shardedAISEqualsItsChunksCombined() throws {
        let world = try Communicator.world()
        let model = RBM<Double>(visible: 10, hidden: 6, weightStd: 0.3, generator: RandomGenerator(seed: 3))
        let ais = AnnealedImportanceSampling(betas: AnnealedImportanceSampling.schedule(coarse: 0.1, middle: 0.02, fine: 0.01), runs: 20)
        let sharded = ShardedAIS(ais, chunkRuns: 5)
        let a = try sharded.logPartition(of: model, seed: 7, communicator: world), b = try sharded.logPartition(of: model, seed: 7)
        #expect(a.logZ == b.logZ && a.band == b.band)
        // The chunks by hand: the first chunk's weights are those of a 5-run AIS with seed 7.
        var chunk = ais
        chunk.runs = 5
        #expect(Array(b.logWeights.prefix(5)) == chunk.logPartition(of: model, generator: RandomGenerator(seed: 7)).logWeights)
        #expect(abs(b.logZ - model.exactLogPartition()) < 0.1)
        // A chunk size that does not divide the runs: a shorter last chunk, every run counted.
        let ragged = try ShardedAIS(ais, chunkRuns: 6).logPartition(of: model, seed: 7)
        #expect(ragged.logWeights.count == 20 && ragged.logWeights.allSatisfy { $0 != 0 } && abs(ragged.logZ - model.exactLogPartition()) < 0.1)
    }

    @Test func errorsNameTheCallAndTheRank() {
        #expect(DistributedError.timeout(call: "MPI_Iallreduce", rank: 3, seconds: 5).description.contains("MPI_Iallreduce on rank 3"))
        #expect(DistributedError.parametersDiverged(step: 40, rank: 0, differingRanks: [2]).description.contains("step 40"))
    }
}
