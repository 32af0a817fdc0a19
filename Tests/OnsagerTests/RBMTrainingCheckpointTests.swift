import Foundation
import Testing
import Onsager
@testable import OnsagerEnergy

/// A long RBM run stopped and resumed from `RBMTrainingCheckpoint` must end bit for bit where the
/// uninterrupted run ends: model, momentum, persistent chains or particles, and random streams.
@Suite struct RBMTrainingCheckpointTests {
    static func data() -> Tensor<Float> {
        Tensor<Float>.bernoulli(Tensor(repeating: 0.3, shape: [60, 12]), generator: RandomGenerator(seed: 11))
    }

    /// Trains `epochs` epochs of `method`, checkpointing after `stopAfter` and continuing in a
    /// fresh model, trainer and optimizer restored from the file when `stopAfter` is set.
    /// With `dropTrainerState`, the trainer's state (chains, particles) is left out on resuming:
    /// the negative control that shows the test notices a state that is not restored.
    static func run(_ method: RBMTrainingMethod, epochs: Int, stopAfter: Int?, dropTrainerState: Bool = false) throws -> RBM<Float> {
        let data = data()
        let url = scratchURL("rbm-resume-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        func fresh() -> (RBM<Float>, any RBMTrainer<Float>, SGD<Float>, RandomGenerator) {
            let g = RandomGenerator(seed: 5)
            let model = RBM<Float>(visible: 12, hidden: 7, weightStd: 0.1, data: data, generator: g)
            return (model, method.makeTrainer(visible: 12, l2: 1e-3, generator: g), SGD(learningRate: 0.05, momentum: 0.5), g)
        }
        var (model, trainer, opt, g) = fresh()
        var first = 1
        if let stop = stopAfter {
            for _ in 1...stop { try trainer.trainEpoch(&model, data: data, batchSize: 16, optimizer: &opt, generator: g) }
            try RBMTrainingCheckpoint.save(to: url, model: model, trainer: trainer, optimizer: opt, generators: ["main": g], epoch: stop)
            (model, trainer, opt, g) = fresh()
            let fresh = trainer.stateTensors
            first = try RBMTrainingCheckpoint.resume(from: url, model: &model, trainer: &trainer, optimizer: &opt, generators: ["main": g]).epoch + 1
            if dropTrainerState { trainer.stateTensors = fresh }
            #expect(first == stop + 1)
        }
        for _ in first...epochs { try trainer.trainEpoch(&model, data: data, batchSize: 16, optimizer: &opt, generator: g) }
        return model
    }

    @Test(arguments: [RBMTrainingMethod.cd(k: 2), .pcd(k: 1, chains: 8), .emf(order: .tap2, iterations: 3, persistentAfter: 5)])
    func resumedRunEqualsUninterruptedRun(method: RBMTrainingMethod) throws {
        let whole = try Self.run(method, epochs: 4, stopAfter: nil)
        let resumed = try Self.run(method, epochs: 4, stopAfter: 2)
        #expect(whole.weights.scalars == resumed.weights.scalars, "\(method): weights differ after resuming")
        #expect(whole.visibleBias.scalars == resumed.visibleBias.scalars && whole.hiddenBias.scalars == resumed.hiddenBias.scalars)
        if case .cd = method { return }   // CD-k keeps no state between updates
        let stateless = try Self.run(method, epochs: 4, stopAfter: 2, dropTrainerState: true)
        #expect(whole.weights.scalars != stateless.weights.scalars, "\(method): resuming without the trainer's state should change the run")
    }

    @Test func resumeRefusesAnotherSeedAndAnotherShape() throws {
        let url = scratchURL("rbm-resume-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let g = RandomGenerator(seed: 1)
        var model = RBM<Float>(visible: 5, hidden: 3, weightStd: 0.1, generator: g)
        var trainer = ContrastiveDivergence<Float>.pcd(k: 1, chains: 4, visible: 5, generator: g)
        var opt = SGD<Float>(learningRate: 0.1, momentum: 0.9)
        try RBMTrainingCheckpoint.save(to: url, model: model, trainer: trainer, optimizer: opt, generators: ["main": g], epoch: 3)
        #expect(throws: CheckpointError.self) {
            try RBMTrainingCheckpoint.resume(from: url, model: &model, trainer: &trainer, optimizer: &opt, generators: ["main": RandomGenerator(seed: 2)])
        }
        var other = RBM<Float>(visible: 6, hidden: 3, weightStd: 0.1, generator: g)
        #expect(throws: CheckpointError.self) {
            try RBMTrainingCheckpoint.resume(from: url, model: &other, trainer: &trainer, optimizer: &opt, generators: ["main": g])
        }
        #expect(other.visibleCount == 6, "a failed resume leaves the model unchanged")
    }

    /// A checkpoint is not resumed into another kind of trainer or optimizer, nor without one of
    /// the generators it records (each would silently change the run).
    @Test func resumeRefusesAnotherTrainerOptimizerOrMissingGenerator() throws {
        let url = scratchURL("rbm-resume-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let g = RandomGenerator(seed: 1)
        var model = RBM<Float>(visible: 5, hidden: 3, weightStd: 0.1, generator: g)
        let pcd = ContrastiveDivergence<Float>.pcd(k: 1, chains: 4, visible: 5, generator: g)
        var sgd = SGD<Float>(learningRate: 0.1, momentum: 0.9)
        try RBMTrainingCheckpoint.save(to: url, model: model, trainer: pcd, optimizer: sgd, generators: ["main": g], epoch: 1)
        func refuses<T: RBMTrainer<Float>, O: Optimizer>(_ trainer: T, _ optimizer: O, _ generators: [String: RandomGenerator], _ expected: String)
        where O.Scalar == Float {
            var t = trainer, o = optimizer
            do {
                try RBMTrainingCheckpoint.resume(from: url, model: &model, trainer: &t, optimizer: &o, generators: generators)
                Issue.record("resumed, expected a refusal mentioning \(expected)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
        refuses(ContrastiveDivergence<Float>.cd(k: 1, generator: g), sgd, ["main": g], "PCD with 4 chains")
        refuses(ContrastiveDivergence<Float>.pcd(k: 1, chains: 8, visible: 5, generator: g), sgd, ["main": g], "PCD with 8 chains")
        refuses(EMFTrainer<Float>(solver: TAPSolver(order: .tap2)), sgd, ["main": g], "EMF")
        refuses(pcd, Adam<Float>(learningRate: 0.01), ["main": g], "Adam")
        refuses(pcd, sgd, [:], "'main'")
        var same = pcd
        #expect(try RBMTrainingCheckpoint.resume(from: url, model: &model, trainer: &same, optimizer: &sgd, generators: ["main": g]).epoch == 1)
    }
}
