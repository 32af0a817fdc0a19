import OnsagerCore

/// Errors reading or applying a checkpoint; each names the file.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file is not valid safetensors at the given byte offset.
    case malformed(path: String, offset: Int, reason: String)
    /// Strict loading: the model has tensors the file lacks.
    case missing(path: String, names: [String])
    /// Strict loading: the file has tensors the model lacks.
    case unexpected(path: String, names: [String])
    /// A tensor's shape in the file differs from the model's.
    case shapeMismatch(path: String, name: String, file: [Int], model: [Int])

    /// The message, naming the file and the tensors.
    public var description: String {
        switch self {
        case let .malformed(p, o, r): return "\(p): not a valid safetensors file at offset \(o): \(r)"
        case let .missing(p, n): return "\(p): missing tensors \(n.joined(separator: ", ")) (load with strict: false to allow)"
        case let .unexpected(p, n): return "\(p): unexpected tensors \(n.joined(separator: ", ")) (load with strict: false to allow)"
        case let .shapeMismatch(p, n, f, m): return "\(p): '\(n)' has shape \(f) in the file but \(m) in the model"
        }
    }
}
