import Foundation
import OnsagerCore
import OnsagerNN

/// A resumable checkpoint of an RBM training run in one safetensors file: the model under
/// "model/", the optimizer's state under "optimizer/", the trainer's state (persistent chains,
/// particles) under "trainer/", and in the metadata the epoch, the seeds and stream positions of
/// the run's named generators, and whatever the caller adds. A run resumed from it continues
/// bit for bit as the uninterrupted run would have, given the same settings.
public enum RBMTrainingCheckpoint {
    /// Writes the checkpoint to `url` atomically (a crash leaves the previous one intact).
    public static func save<S: TensorScalar, T: RBMTrainer<S>, O: Optimizer>(
        to url: URL, model: RBM<S>, trainer: T, optimizer: O, generators: [String: RandomGenerator],
        epoch: Int, metadata: [String: String] = [:]
    ) throws where O.Scalar == S {
        var named = model.stateDict.map { ("model/" + $0.name, $0.value) }
        named += optimizer.stateTensors.sorted { $0.key < $1.key }.map { ("optimizer/" + $0.key, $0.value) }
        named += trainer.stateTensors.sorted { $0.key < $1.key }.map { ("trainer/" + $0.key, $0.value) }
        var meta = metadata
        meta["format"] = "onsager-rbm-training-1"
        meta["epoch"] = String(epoch)
        meta["trainer"] = trainer.checkpointSignature
        meta["optimizer"] = optimizer.checkpointSignature
        for (name, g) in generators { meta["rng/" + name] = g.checkpointStream }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Safetensors.write(named, metadata: meta, to: url)
    }

    /// Restores model, optimizer state, trainer state and generator positions from `url` and
    /// returns the epoch it was written after and its metadata. Throws, changing nothing, when the
    /// file is malformed; does not match the model; was written by another kind of trainer (CD,
    /// PCD with other chains, EMF of another order) or another optimizer; records a generator not
    /// passed here, or a generator was seeded differently.
    @discardableResult
    public static func resume<S: TensorScalar, T: RBMTrainer<S>, O: Optimizer>(
        from url: URL, model: inout RBM<S>, trainer: inout T, optimizer: inout O, generators: [String: RandomGenerator]
    ) throws -> (epoch: Int, metadata: [String: String]) where O.Scalar == S {
        let path = url.path
        let (tensors, metadata) = try Safetensors.read(url, as: S.self)
        guard metadata["format"] == "onsager-rbm-training-1", let epoch = metadata["epoch"].flatMap({ Int($0) }) else {
            throw CheckpointError.malformed(path: path, offset: 8, reason: "not an RBM training checkpoint (format or epoch missing)")
        }
        for (key, current) in [("trainer", trainer.checkpointSignature), ("optimizer", optimizer.checkpointSignature)] {
            if let saved = metadata[key], saved != current {
                throw CheckpointError.incompatible(path: path, reason: "it was written with \(key) '\(saved)', this run has '\(current)'")
            }
        }
        let unclaimed = metadata.keys.filter { $0.hasPrefix("rng/") && generators[String($0.dropFirst(4))] == nil }.sorted()
        guard unclaimed.isEmpty else {
            throw CheckpointError.incompatible(path: path, reason: "it records the generators \(unclaimed.map { "'\($0.dropFirst(4))'" }.joined(separator: ", ")), "
                                               + "which were not passed to resume: without them the run would not continue as it was")
        }
        var positions: [(RandomGenerator, UInt64)] = []
        for (name, g) in generators.sorted(by: { $0.key < $1.key }) {
            guard let stream = metadata["rng/" + name] else {
                throw CheckpointError.incompatible(path: path, reason: "no stream for the generator '\(name)'")
            }
            positions.append((g, try g.checkpointPosition(from: stream, what: "the generator '\(name)'", path: path)))
        }
        func part(_ prefix: String) -> [String: Tensor<S>] {
            Dictionary(uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
        var restored = model
        try Checkpoint.load(into: &restored, tensors: part("model/"), path: path)
        model = restored
        optimizer.stateTensors = part("optimizer/")
        trainer.stateTensors = part("trainer/")
        for (g, p) in positions { g.position = p }
        return (epoch, metadata)
    }
}
