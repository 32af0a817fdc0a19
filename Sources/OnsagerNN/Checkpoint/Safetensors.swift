import OnsagerCore
import Foundation

/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N,
/// N bytes of JSON {name: {"dtype": "F32"|"F64", "shape": [...], "data_offsets": [begin, end]},
/// "__metadata__": {string: string}}, then the little-endian tensor bytes (offsets relative to
/// the end of the header). Files are written atomically: a temporary file, then a rename.
public enum Safetensors {
    /// Writes named tensors of one element type.
    public static func write<S: TensorScalar>(_ tensors: [(String, Tensor<S>)], metadata: [String: String] = [:], to url: URL) throws {
        try writeEntries(tensors.map { entry($0.0, $0.1) }, metadata: metadata, to: url)
    }

    /// Writes float32 and float64 tensors into one file.
    public static func writeMixed(float32: [(String, Tensor<Float>)], float64: [(String, Tensor<Double>)],
                                  metadata: [String: String] = [:], to url: URL) throws {
        try writeEntries(float32.map { entry($0.0, $0.1) } + float64.map { entry($0.0, $0.1) }, metadata: metadata, to: url)
    }

    static func entry<S: TensorScalar>(_ name: String, _ t: Tensor<S>) -> (String, String, [Int], Data) {
        let bytes = t.withUnsafeScalars { Data(buffer: $0) }
        return (name, S.dtype == .float32 ? "F32" : "F64", t.shape, bytes)
    }

    static func writeEntries(_ entries: [(String, String, [Int], Data)], metadata: [String: String], to url: URL) throws {
        var header: [String: Any] = [:]
        var data = Data()
        for (name, dtype, shape, bytes) in entries {
            check(header[name] == nil && name != "__metadata__", "Safetensors.write: duplicate or reserved name '\(name)'")
            header[name] = ["dtype": dtype, "shape": shape, "data_offsets": [data.count, data.count + bytes.count]]
            data.append(bytes)
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }        // pad with spaces to 8-byte alignment
        var out = Data()
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(data)
        try AtomicFile.write(out, to: url)
    }

    /// The largest header read (as the reference implementation's limit): 100 MB.
    public static let maximumHeaderSize = 100_000_000

    /// Reads every tensor, converted to `S`, and the metadata. F32 and F64 entries are always
    /// read (rounded or widened, as `torch.Tensor.copy_` does); F16, BF16 and I64 entries (half
    /// precision weights, BatchNorm's `num_batches_tracked`) only with `convertingTypes`, since
    /// they change type silently otherwise; other types are refused. Every size and offset is
    /// checked against the file before it is used, and, as the reference implementation does,
    /// the tensors must tile the data buffer exactly (no gap, overlap or trailing bytes).
    public static func read<S: TensorScalar>(_ url: URL, as: S.Type = S.self, convertingTypes: Bool = false) throws
        -> (tensors: [String: Tensor<S>], metadata: [String: String]) {
        let path = url.path
        guard let bytes = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read file" : "no such file"
            throw CheckpointError.malformed(path: path, offset: 0, reason: reason)
        }
        guard bytes.count >= 8 else { throw CheckpointError.malformed(path: path, offset: 0, reason: "shorter than the 8-byte header length") }
        let n = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(maximumHeaderSize) else {
            throw CheckpointError.malformed(path: path, offset: 0, reason: "header length \(n) exceeds the limit of \(maximumHeaderSize) bytes")
        }
        guard n <= UInt64(bytes.count - 8) else { throw CheckpointError.malformed(path: path, offset: 0, reason: "header length \(n) exceeds the file") }
        let start = 8 + Int(n)
        guard let header = try? JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<start)) as? [String: Any] else {
            throw CheckpointError.malformed(path: path, offset: 8, reason: "header is not a JSON object")
        }
        let keys = topLevelKeys(bytes[8..<start])
        if let repeated = Dictionary(grouping: keys, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw CheckpointError.malformed(path: path, offset: 8, reason: "the header names '\(repeated)' more than once")
        }
        var tensors: [String: Tensor<S>] = [:]
        var metadata: [String: String] = [:]
        var spans: [(Int, Int, String)] = []
        for (name, value) in header.sorted(by: { $0.key < $1.key }) {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else {
                    throw CheckpointError.malformed(path: path, offset: 8, reason: "__metadata__ must map strings to strings")
                }
                metadata = m
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String, let shape = info["shape"] as? [Int],
                  let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw CheckpointError.malformed(path: path, offset: 8, reason: "entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let element = ElementType(rawValue: dtype) else {
                throw CheckpointError.unconvertedType(path: path, name: name, dtype: dtype, convertible: false)
            }
            if element.needsConsent && !convertingTypes {
                throw CheckpointError.unconvertedType(path: path, name: name, dtype: dtype, convertible: true)
            }
            guard shape.count <= 16, let count = Shape.checkedCount(shape), count <= bytes.count else {
                throw CheckpointError.malformed(path: path, offset: 8, reason: "'\(name)' has an impossible shape \(shape) for a file of \(bytes.count) bytes")
            }
            let width = element.width
            guard offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] - offsets[0] == count * width,
                  offsets[1] <= bytes.count - start else {
                throw CheckpointError.malformed(path: path, offset: start + Swift.max(0, Swift.min(offsets[0], bytes.count - start)),
                                                reason: "'\(name)': offsets \(offsets) do not fit shape \(shape) of \(dtype) in a file of \(bytes.count) bytes")
            }
            var values = [S](repeating: 0, count: count)
            bytes.withUnsafeBytes { raw in
                let base = start + offsets[0]
                for i in 0..<count { values[i] = element.load(raw, at: base + width * i) }
            }
            tensors[name] = Tensor(shape: shape, scalars: values)
            spans.append((offsets[0], offsets[1], name))
        }
        // As the reference implementation: the tensors tile the data buffer exactly, in order of
        // their offsets, with no gap, overlap or trailing bytes.
        var end = 0
        for span in spans.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            guard span.0 == end else {
                throw CheckpointError.malformed(path: path, offset: start + span.0,
                                                reason: "'\(span.2)' starts at data offset \(span.0), but the previous tensor ends at \(end) (\(span.0 < end ? "overlap" : "gap"))")
            }
            end = span.1
        }
        guard end == bytes.count - start else {
            throw CheckpointError.malformed(path: path, offset: start + end, reason: "\(bytes.count - start - end) bytes after the last tensor")
        }
        return (tensors, metadata)
    }

    /// The keys of the header's outermost JSON object, in order and with repeats (a JSON parser
    /// keeps one of two equal keys silently; the format forbids them). Escapes are kept raw, so
    /// two spellings of one name count as different: enough to catch a repeated name.
    static func topLevelKeys(_ json: Data.SubSequence) -> [String] {
        var keys: [String] = [], depth = 0, inString = false, escaped = false, expectingKey = false
        var current: [UInt8] = []
        for byte in json {
            if inString {
                if escaped { escaped = false; current.append(byte) }
                else if byte == UInt8(ascii: "\\") { escaped = true; current.append(byte) }
                else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if expectingKey { keys.append(String(decoding: current, as: UTF8.self)); expectingKey = false }
                } else { current.append(byte) }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true; current = []
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; expectingKey = depth == 1 && byte == UInt8(ascii: "{")
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ","): expectingKey = depth == 1
            default: break
            }
        }
        return keys
    }

    /// The element types read, with their width and decoding.
    enum ElementType: String {
        case f16 = "F16", bf16 = "BF16", f32 = "F32", f64 = "F64", i64 = "I64"
        var width: Int { switch self { case .f16, .bf16: 2; case .f32: 4; case .f64, .i64: 8 } }
        var needsConsent: Bool { self != .f32 && self != .f64 }
        func load<S: TensorScalar>(_ raw: UnsafeRawBufferPointer, at offset: Int) -> S {
            switch self {
            case .f32: return S(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))))
            case .f64: return S(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
            case .f16: return S(Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))))
            case .bf16:
                let b = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
                return S(Float(bitPattern: UInt32(b) << 16))
            case .i64: return S(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
            }
        }
    }
}
