import OnsagerCore
import Foundation

/// Model (and optimizer) checkpoints in safetensors. Parameters and state keep their registered
/// names; optimizer state is stored under "optimizer.<name>". Loading is strict by default:
/// missing or unexpected names and shape mismatches are errors naming them.
public enum Checkpoint {
    /// Writes the model's parameters and state, and the optimizer's state under "optimizer.<name>",
    /// to a safetensors file (atomically).
    public static func save<L: Layer, O: Optimizer>(_ model: L, optimizer: O? = nil, metadata: [String: String] = [:], to url: URL) throws
    where O.Scalar == L.Scalar {
        var named = Array(zip(model.parameterNames, model.parameters.map { $0.detached() }))
        named += zip(model.stateNames, model.state)
        if let optimizer { named += optimizer.stateTensors.sorted { $0.key < $1.key }.map { ("optimizer.\($0.key)", $0.value) } }
        try Safetensors.write(named, metadata: metadata, to: url)
    }

    /// Writes the model's parameters and state to a safetensors file (atomically).
    public static func save<L: Layer>(_ model: L, metadata: [String: String] = [:], to url: URL) throws {
        try save(model, optimizer: SGD<L.Scalar>?.none, metadata: metadata, to: url)
    }

    /// Loads parameters and state into `model` (and optimizer state into `optimizer`). Loaded
    /// parameters are leaves that require gradients.
    public static func load<L: Layer, O: Optimizer>(into model: inout L, optimizer: inout O, from url: URL, strict: Bool = true) throws
    where O.Scalar == L.Scalar {
        let (tensors, _) = try Safetensors.read(url, as: L.Scalar.self)
        try apply(tensors, to: &model, path: url.path, strict: strict, allowPrefix: "optimizer.")
        var opt: [String: Tensor<L.Scalar>] = [:]
        for (k, v) in tensors where k.hasPrefix("optimizer.") { opt[String(k.dropFirst("optimizer.".count))] = v }
        optimizer.stateTensors = opt
    }

    /// Loads parameters and state into `model`; optimizer entries in the file are ignored.
    public static func load<L: Layer>(into model: inout L, from url: URL, strict: Bool = true) throws {
        let (tensors, _) = try Safetensors.read(url, as: L.Scalar.self)
        try apply(tensors, to: &model, path: url.path, strict: strict, allowPrefix: "optimizer.")
    }

    static func apply<L: Layer>(_ tensors: [String: Tensor<L.Scalar>], to model: inout L, path: String, strict: Bool, allowPrefix: String) throws {
        let pNames = model.parameterNames, sNames = model.stateNames
        let wanted = Set(pNames + sNames)
        let missing = (pNames + sNames).filter { tensors[$0] == nil }
        let unexpected = tensors.keys.filter { !wanted.contains($0) && !$0.hasPrefix(allowPrefix) }.sorted()
        if strict && !missing.isEmpty { throw CheckpointError.missing(path: path, names: missing) }
        if strict && !unexpected.isEmpty { throw CheckpointError.unexpected(path: path, names: unexpected) }
        var ps = model.parameters, ss = model.state
        for (i, n) in pNames.enumerated() {
            guard let t = tensors[n] else { continue }
            guard t.shape == ps[i].shape else { throw CheckpointError.shapeMismatch(path: path, name: n, file: t.shape, model: ps[i].shape) }
            ps[i] = t.requiringGrad()
        }
        for (i, n) in sNames.enumerated() {
            guard let t = tensors[n] else { continue }
            guard t.shape == ss[i].shape else { throw CheckpointError.shapeMismatch(path: path, name: n, file: t.shape, model: ss[i].shape) }
            ss[i] = t
        }
        model.parameters = ps
        model.state = ss
    }
}
