import Foundation
import Onsager
import OnsagerDistributed

/// A two-rank (or N-rank) training run of an MLP on synthetic 4-class data: the same program on
/// every rank, each training on its shard of every global batch of 100, gradients all-reduced,
/// parameters checked identical every 10 steps, a checkpoint written by rank 0 alone.
func runDemo(_ world: Communicator) throws {
    let g = RandomGenerator(seed: 2026)
    let centres = Tensor<Float>.normal([4, 20], std: 1.5, generator: g)
    let labels = (0..<4000).map { ($0 * 37) % 4 }
    let x = Tensor<Float>(shape: [4000, 20], scalars: labels.flatMap { c in centres.sliced(axis: 0, c..<(c + 1)).scalars })
        + Tensor<Float>.normal([4000, 20], generator: g)
    let model = Sequential<Float>([Dense<Float>(inputSize: 20, outputSize: 64, generator: g), Activation<Float>(.relu),
                                   Dense<Float>(inputSize: 64, outputSize: 4, generator: g)])
    var loop = TrainingLoop(model: model, optimizer: Adam<Float>(learningRate: 1e-3), batchSize: 100, generator: RandomGenerator(seed: 1))
    loop.dataParallel = DataParallel<Float>(world, checkEvery: 10)
    loop.showProgress = world.rank == 0
    loop.showsProgressBar = false
    loop.checkpointing = CheckpointPolicy(directory: URL(fileURLWithPath: "onsager-output/mpi-demo"), every: 5)
    let shard = loop.dataParallel!.shard(ofBatchWith: 100)
    print("rank \(world.rank) of \(world.size): trains on rows \(shard.lowerBound)..<\(shard.upperBound) of every batch of 100")
    fflush(nil)
    try world.barrier()
    let t0 = Date()
    try loop.fit(inputs: x, labels: labels, epochs: 5) { m, x, y in Loss.softmaxCrossEntropy(logits: m(x), labels: y) }
    let accuracy = withoutGrad { zip(loop.model(x).argmax(axis: 1), labels).filter { $0 == $1 }.count }
    if world.rank == 0 {
        print(String(format: "%d ranks: 5 epochs in %.2f s, training accuracy %.1f %%; checkpoint (rank 0 only) in onsager-output/mpi-demo/",
                     world.size, Date().timeIntervalSince(t0), 100 * Double(accuracy) / 4000))
    }
}
