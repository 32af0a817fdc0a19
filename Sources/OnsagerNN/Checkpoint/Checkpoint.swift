import OnsagerCore
import Foundation

/// Model checkpoints in safetensors, in PyTorch's names and layouts: the file holds the model's
/// `stateDict` (parameters and buffers by dotted name, Dense weights [out, in]) and nothing
/// else, so `torch.nn.Module.load_state_dict(strict=True)` accepts it for the equivalent torch
/// module. Optimizer state goes to its own file (`save(optimizer:to:)`), which strict torch
/// loading never sees. Loading is strict by default: missing or unexpected names and shape
/// mismatches are errors naming them.
public enum Checkpoint {
    /// Writes the model's parameters and buffers to a safetensors file (atomically). Throws,
    /// writing nothing, if the model holds trainable tensors its `visit(_:)` does not declare.
    public static func save<M: Module>(_ model: M, metadata: [String: String] = [:], to url: URL) throws {
        let undeclared = model.undeclaredTrainableTensors
        guard undeclared.isEmpty else { throw CheckpointError.undeclared(path: url.path, names: undeclared) }
        try Safetensors.write(model.stateDict.map { ($0.name, $0.value) }, metadata: metadata, to: url)
    }

    /// Loads parameters and buffers into `model` by name. A loaded parameter keeps its frozen
    /// state (a trainable one becomes a fresh leaf that requires gradients); a shared parameter is
    /// loaded once, from its first name, and stays shared. F16, BF16 and I64 entries are read
    /// only with `convertingTypes`. Nothing is changed if an error is thrown.
    @discardableResult
    public static func load<M: Module>(into model: inout M, from url: URL, strict: Bool = true,
                                       convertingTypes: Bool = false) throws -> [String: String] {
        let (tensors, metadata) = try Safetensors.read(url, as: M.Scalar.self, convertingTypes: convertingTypes)
        try apply(tensors, to: &model, path: url.path, strict: strict)
        return metadata
    }

    /// Writes an optimizer's state (by parameter name: "0.weight.exp_avg", "0.weight.step") to its
    /// own safetensors file, atomically.
    public static func save<O: Optimizer>(optimizer: O, metadata: [String: String] = [:], to url: URL) throws {
        try Safetensors.write(optimizer.stateTensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, metadata: metadata, to: url)
    }

    /// Restores an optimizer's state from a file written by `save(optimizer:to:)`; returns its metadata.
    @discardableResult
    public static func load<O: Optimizer>(optimizer: inout O, from url: URL) throws -> [String: String] {
        let (tensors, metadata) = try Safetensors.read(url, as: O.Scalar.self)
        optimizer.stateTensors = tensors
        return metadata
    }

    /// Loads named tensors already read (from a file at `path`, named in errors) into `model`,
    /// with the checks of `load(into:from:)`: for checkpoints that hold a model among other
    /// state under a prefix.
    public static func load<M: Module>(into model: inout M, tensors: [String: Tensor<M.Scalar>], path: String, strict: Bool = true) throws {
        try apply(tensors, to: &model, path: path, strict: strict)
    }

    static func apply<M: Module>(_ tensors: [String: Tensor<M.Scalar>], to model: inout M, path: String, strict: Bool) throws {
        let expected = model.stateDict
        let names = Set(expected.map(\.name))
        let missing = expected.map(\.name).filter { tensors[$0] == nil }
        let unexpected = tensors.keys.filter { !names.contains($0) }.sorted()
        if strict && !missing.isEmpty { throw CheckpointError.missing(path: path, names: missing) }
        if strict && !unexpected.isEmpty { throw CheckpointError.unexpected(path: path, names: unexpected) }
        for e in expected {
            if let t = tensors[e.name], t.shape != e.value.shape {
                throw CheckpointError.shapeMismatch(path: path, name: e.name, file: t.shape, model: e.value.shape)
            }
        }
        model.mapParameters { name, old in
            guard let t = tensors[name] else { return old }
            return old.requiresGrad ? t.requiringGrad() : t
        }
        model.mapBuffers { name, old in tensors[name] ?? old }
    }
}
