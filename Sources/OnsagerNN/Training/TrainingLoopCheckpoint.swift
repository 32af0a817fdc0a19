import OnsagerCore
import Foundation

extension TrainingLoop {
    /// Writes a resumable checkpoint to `directory`: `training.safetensors` (model under "model/",
    /// optimizer state under "optimizer/", step count, history and random-stream positions in
    /// the metadata) and `model.safetensors` (the model alone, loadable by PyTorch). Each file
    /// is written atomically.
    public func saveCheckpoint(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var named = model.stateDict.map { ("model/" + $0.name, $0.value) }
        named += optimizer.stateTensors.sorted { $0.key < $1.key }.map { ("optimizer/" + $0.key, $0.value) }
        var metadata = ["format": "onsager-training-1", "global_step": String(globalStep), "history": Self.encode(history),
                        "rng/loop": String(generator.position)]
        for (name, g) in moduleGenerators { metadata["rng/model/" + name] = String(g.position) }
        try Safetensors.write(named, metadata: metadata, to: directory.appendingPathComponent("training.safetensors"))
        try Checkpoint.save(model, metadata: ["epoch": String(history.count)], to: directory.appendingPathComponent("model.safetensors"))
    }

    /// Restores the model, optimizer, step count, history and random streams from a checkpoint
    /// written by `saveCheckpoint(to:)`, so that `fit` continues exactly as the uninterrupted run
    /// would have (same batches, same dropout masks, same bits). Throws, changing nothing, when
    /// the file is absent, malformed, or does not match the model.
    public mutating func resume(from directory: URL) throws {
        let url = directory.appendingPathComponent("training.safetensors")
        let (tensors, metadata) = try Safetensors.read(url, as: S.self)
        guard metadata["format"] == "onsager-training-1", let step = metadata["global_step"].flatMap({ Int($0) }),
              let historyText = metadata["history"], let history = Self.decode(historyText),
              let loopPosition = metadata["rng/loop"].flatMap({ UInt64($0) }) else {
            throw CheckpointError.malformed(path: url.path, offset: 8, reason: "not a training checkpoint (format, global_step, history or rng/loop missing or unreadable)")
        }
        var modelTensors: [String: Tensor<S>] = [:], optimizerTensors: [String: Tensor<S>] = [:]
        for (k, v) in tensors {
            if k.hasPrefix("model/") { modelTensors[String(k.dropFirst(6))] = v }
            else if k.hasPrefix("optimizer/") { optimizerTensors[String(k.dropFirst(10))] = v }
        }
        var restored = model
        try Checkpoint.apply(modelTensors, to: &restored, path: url.path, strict: true)
        let generators = moduleGenerators
        for (name, _) in generators where metadata["rng/model/" + name].flatMap({ UInt64($0) }) == nil {
            throw CheckpointError.malformed(path: url.path, offset: 8, reason: "no stream position for the model's generator '\(name)'")
        }
        model = restored
        optimizer.stateTensors = optimizerTensors
        globalStep = step
        self.history = history
        generator.position = loopPosition
        for (name, g) in generators { g.position = UInt64(metadata["rng/model/" + name]!)! }
    }

    /// The random generators the model declares, by dotted name.
    var moduleGenerators: [(String, RandomGenerator)] {
        var found: [(String, RandomGenerator)] = []
        var walker = ModuleWalker<S>()
        walker.onGenerator = { name, g in found.append((name, g)) }
        var copy = model
        walker.walk(&copy)
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
