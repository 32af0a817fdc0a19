import OnsagerCore
import Foundation

extension TrainingLoop {
    /// Writes a resumable checkpoint to `directory`: `training.safetensors` (model under "model/",
    /// optimizer state under "optimizer/", the best epoch's state under "best/"; step count,
    /// history, frozen parameters, optimizer type and groups, and the seeds and stream positions of
    /// the random generators in the metadata) and `model.safetensors` (the model alone, loadable by
    /// PyTorch). Each file is written atomically.
    public func saveCheckpoint(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let trainingURL = directory.appendingPathComponent("training.safetensors")
        let undeclared = model.undeclaredTrainableTensors
        guard undeclared.isEmpty else { throw CheckpointError.undeclared(path: trainingURL.path, names: undeclared) }
        var named = model.stateDict.map { ("model/" + $0.name, $0.value) }
        named += optimizer.stateTensors.sorted { $0.key < $1.key }.map { ("optimizer/" + $0.key, $0.value) }
        if let best { named += best.state.map { ("best/" + $0.name, $0.value) } }
        var metadata = ["format": "onsager-training-1", "global_step": String(globalStep), "history": Self.encode(history),
                        "rng/loop": generator.checkpointStream, "optimizer": optimizer.checkpointSignature,
                        "frozen": model.frozenParameterNames.joined(separator: ",")]
        if let best { metadata["best_epoch"] = String(best.epoch) }
        if let dataGenerator, dataGenerator !== generator { metadata["rng/data"] = dataGenerator.checkpointStream }
        for (name, g) in moduleGenerators { metadata["rng/model/" + name] = g.checkpointStream }
        for (i, g) in lossGenerators.enumerated() { metadata["rng/loss/\(i)"] = g.checkpointStream }
        try Safetensors.write(named, metadata: metadata, to: trainingURL)
        try Checkpoint.save(model, metadata: ["epoch": String(history.count)], to: directory.appendingPathComponent("model.safetensors"))
    }

    /// Restores the model (values and frozen parameters), optimizer state, step count, history,
    /// best epoch and random-stream positions from a checkpoint written by `saveCheckpoint(to:)`,
    /// so that `fit` continues exactly as the uninterrupted run would have (same batches, same
    /// dropout masks, same bits; the stream of a loader passed to `fit(_:…)` is restored when
    /// `fit` is next called with it). Throws, changing nothing, when the file is absent or malformed,
    /// does not match the model, or was written by a loop with another optimizer, other
    /// parameter groups or generators with other seeds.
    public mutating func resume(from directory: URL) throws {
        let url = directory.appendingPathComponent("training.safetensors")
        let path = url.path
        let (tensors, metadata) = try Safetensors.read(url, as: S.self)
        guard metadata["format"] == "onsager-training-1", let step = metadata["global_step"].flatMap({ Int($0) }),
              let historyText = metadata["history"], let history = Self.decode(historyText), let loopStream = metadata["rng/loop"] else {
            throw CheckpointError.malformed(path: path, offset: 8, reason: "not a training checkpoint (format, global_step, history or rng/loop missing or unreadable)")
        }
        if let saved = metadata["optimizer"], saved != optimizer.checkpointSignature {
            throw CheckpointError.incompatible(path: path, reason: "it was written with optimizer \(saved), this loop has \(optimizer.checkpointSignature)")
        }
        let loopPosition = try generator.checkpointPosition(from: loopStream, what: "the loop's generator", path: path)
        var positions: [(RandomGenerator, UInt64)] = [(generator, loopPosition)]
        for (name, g) in moduleGenerators {
            guard let stream = metadata["rng/model/" + name] else {
                throw CheckpointError.incompatible(path: path, reason: "no stream for the model's generator '\(name)'")
            }
            positions.append((g, try g.checkpointPosition(from: stream, what: "the model's generator '\(name)'", path: path)))
        }
        for (i, g) in lossGenerators.enumerated() {
            guard let stream = metadata["rng/loss/\(i)"] else {
                throw CheckpointError.incompatible(path: path, reason: "no stream for loss generator \(i) (the checkpointed run had \(metadata.keys.filter { $0.hasPrefix("rng/loss/") }.count))")
            }
            positions.append((g, try g.checkpointPosition(from: stream, what: "loss generator \(i)", path: path)))
        }
        var dataStream: (seed: UInt64, position: UInt64)?
        if let stream = metadata["rng/data"] {
            let parts = stream.split(separator: ":").compactMap { UInt64($0) }
            guard parts.count == 2 else { throw CheckpointError.malformed(path: path, offset: 8, reason: "unreadable stream '\(stream)' for the loader") }
            dataStream = (parts[0], parts[1])
        }
        var modelTensors: [String: Tensor<S>] = [:], optimizerTensors: [String: Tensor<S>] = [:], bestTensors: [String: Tensor<S>] = [:]
        for (k, v) in tensors {
            if k.hasPrefix("model/") { modelTensors[String(k.dropFirst(6))] = v }
            else if k.hasPrefix("optimizer/") { optimizerTensors[String(k.dropFirst(10))] = v }
            else if k.hasPrefix("best/") { bestTensors[String(k.dropFirst(5))] = v }
        }
        var restored = model
        try Checkpoint.apply(modelTensors, to: &restored, path: path, strict: true)
        let frozen = Set((metadata["frozen"] ?? "").split(separator: ",").map(String.init))
        restored.mapParameters { name, t in frozen.contains(name) ? t.detached() : (t.requiresGrad ? t : t.requiringGrad()) }
        var restoredBest: (epoch: Int, state: [NamedTensor<S>])?
        if let epoch = metadata["best_epoch"].flatMap({ Int($0) }) {
            var check = model
            try Checkpoint.apply(bestTensors, to: &check, path: path + " (best/)", strict: true)
            restoredBest = (epoch, check.stateDict)
        }
        model = restored
        optimizer.stateTensors = optimizerTensors
        globalStep = step
        self.history = history
        best = restoredBest
        pendingDataStream = dataStream
        for (g, p) in positions { g.position = p }
    }

    /// The random generators the model declares, by dotted name.
    var moduleGenerators: [(String, RandomGenerator)] {
        var found: [(String, RandomGenerator)] = []
        var walker = ModuleWalker<S>()
        walker.onGenerator = { name, g in found.append((name, g)) }
        walker.read(model)
        return found
    }

    /// The history as JSON, numbers as their shortest exact decimal strings.
    static func encode(_ history: [EpochRecord]) -> String {
        let rows: [[String: Any]] = history.map { r in
            ["epoch": r.epoch, "steps": r.steps, "loss": "\(r.loss)", "learning_rate": "\(r.learningRate)", "seconds": "\(r.seconds)",
             "samples_per_second": "\(r.samplesPerSecond)", "metrics": r.metrics.map { [$0.0, "\($0.1)"] }]
        }
        let data = (try? JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String) -> [EpochRecord]? {
        guard let rows = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]] else { return nil }
        var out: [EpochRecord] = []
        for r in rows {
            guard let epoch = r["epoch"] as? Int, let steps = r["steps"] as? Int,
                  let loss = (r["loss"] as? String).flatMap(Double.init), let lr = (r["learning_rate"] as? String).flatMap(Double.init),
                  let seconds = (r["seconds"] as? String).flatMap(Double.init),
                  let rate = (r["samples_per_second"] as? String).flatMap(Double.init), let m = r["metrics"] as? [[String]] else { return nil }
            let metrics = m.compactMap { p in p.count == 2 ? Double(p[1]).map { (p[0], $0) } : nil }
            guard metrics.count == m.count else { return nil }
            out.append(EpochRecord(epoch: epoch, steps: steps, loss: loss, learningRate: lr, seconds: seconds, samplesPerSecond: rate, metrics: metrics))
        }
        return out
    }
}
