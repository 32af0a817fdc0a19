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
    /// A tensor's element type is one that is only read when conversion is asked for (F16,
    /// BF16, I64), or one that is not read at all.
    case unconvertedType(path: String, name: String, dtype: String, convertible: Bool)
    /// The model holds trainable tensors its `visit(_:)` does not declare (they would be missing
    /// from the file); named by property path.
    case undeclared(path: String, names: [String])
    /// A training checkpoint does not fit the loop resuming from it (another optimizer, other
    /// parameter groups, generators with other seeds).
    case incompatible(path: String, reason: String)

    /// The message, naming the file and the tensors.
    public var description: String {
        switch self {
        case let .malformed(p, o, r): return "\(p): not a valid safetensors file at offset \(o): \(r)"
        case let .missing(p, n): return "\(p): missing tensors \(n.joined(separator: ", ")) (load with strict: false to allow)"
        case let .unexpected(p, n): return "\(p): unexpected tensors \(n.joined(separator: ", ")) (load with strict: false to allow)"
        case let .shapeMismatch(p, n, f, m): return "\(p): '\(n)' has shape \(f) in the file but \(m) in the model"
        case let .undeclared(p, n):
            return "\(p): not written: the model holds trainable tensors its visit(_:) does not declare: \(n.joined(separator: ", "))"
        case let .incompatible(p, r): return "\(p): cannot resume: \(r)"
        case let .unconvertedType(p, n, d, c):
            return c ? "\(p): '\(n)' is \(d); pass convertingTypes: true to convert it to the model's element type"
                     : "\(p): '\(n)' has element type \(d), which is not supported (F16, BF16, F32, F64, I64 are)"
        }
    }
}
