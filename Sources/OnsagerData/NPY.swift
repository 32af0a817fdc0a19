import OnsagerCore
import Foundation

/// NumPy's `.npy` format (versions 1–3; plain or gzipped): a reader for numeric arrays of any
/// byte order and memory order, and a writer whose files are byte for byte what `numpy.save`
/// writes for the same array.
///
/// The reader checks every size against the file before allocating: the header length, the
/// element count (overflow), and that the data is exactly count × item size bytes. Errors are
/// `DataError`s naming the file and the offset.
public enum NPY {
    /// What a header declares.
    public struct Header: Equatable, Sendable {
        /// The dtype string, e.g. "<f8", "|u1", ">i4".
        public let descr: String
        /// Whether the data is in column-major (Fortran) order.
        public let fortranOrder: Bool
        /// The array's shape (empty for a 0-d array).
        public let shape: [Int]
        /// Byte offset of the data.
        public let dataOffset: Int
    }

    /// The array in `path` as a tensor of `S` (values converted from the file's dtype: floats,
    /// signed and unsigned integers of 1–8 bytes, booleans), in row-major order whatever the
    /// file's. At most `maxBytes` are read.
    public static func read<S: TensorScalar>(_ path: String, as _: S.Type = S.self, maxBytes: Int = 1 << 34) throws -> Tensor<S> {
        let bytes = try CompressedFile.readAll(path, limit: maxBytes)
        let h = try header(bytes, path: path)
        let (kind, size, bigEndian) = try dtype(h.descr, path: path)
        var count = 1
        for d in h.shape {
            let (c, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, c <= 1 << 40 else { throw DataError.badDimensions(path: path, offset: 10, reason: "shape \(h.shape) has too many elements") }
            count = c
        }
        let available = bytes.count - h.dataOffset
        guard available >= count * size else {
            throw DataError.truncated(path: path, offset: bytes.count, expectedBytes: count * size - available, availableBytes: 0)
        }
        guard available == count * size else { throw DataError.trailingBytes(path: path, offset: h.dataOffset + count * size, count: available - count * size) }
        let values: [Double] = (0..<count).map { i in
            var raw: UInt64 = 0
            let start = h.dataOffset + i * size
            for b in 0..<size { raw |= UInt64(bytes[start + (bigEndian ? size - 1 - b : b)]) << (8 * UInt64(b)) }
            switch kind {
            case "f": return size == 4 ? Double(Float(bitPattern: UInt32(raw))) : Double(bitPattern: raw)
            case "i": let shift = UInt64(64 - 8 * size); return Double(Int64(bitPattern: raw << shift) >> Int64(shift))
            case "b": return raw == 0 ? 0 : 1
            default: return Double(raw)
            }
        }
        let scalars = values.map { S($0) }
        guard h.fortranOrder, h.shape.count > 1 else { return Tensor(shape: h.shape, scalars: scalars) }
        // Column-major data is the row-major data of the reversed shape, transposed back.
        return Tensor(shape: Array(h.shape.reversed()), scalars: scalars).permuted(Array((0..<h.shape.count).reversed())).contiguous()
    }

    /// Writes `tensor` as a little-endian, row-major `.npy` file (version 1.0, "<f4" or "<f8"),
    /// atomically; a path ending in ".gz" is gzipped.
    public static func write<S: TensorScalar>(_ tensor: Tensor<S>, to path: String) throws {
        let descr = S.self == Float.self ? "<f4" : "<f8"
        let shape = tensor.shape.isEmpty ? "()" : tensor.shape.count == 1 ? "(\(tensor.shape[0]),)"
            : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        // numpy pads with spaces so that the data starts at a multiple of 64 bytes, then a newline.
        let padding = (64 - (10 + dict.utf8.count + 1) % 64) % 64
        dict += String(repeating: " ", count: padding) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(dict.utf8.count & 0xff), UInt8(dict.utf8.count >> 8)]
        out += Array(dict.utf8)
        let values = tensor.contiguous().scalars
        out.reserveCapacity(out.count + values.count * MemoryLayout<S>.size)
        for v in values {
            let bits: UInt64 = S.self == Float.self ? UInt64((v as! Float).bitPattern) : (v as! Double).bitPattern
            for b in 0..<MemoryLayout<S>.size { out.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(b)))) }
        }
        try CompressedFile.write(out, to: path, compressed: path.hasSuffix(".gz"))
    }

    /// Parses the magic, version and header dictionary at the start of `bytes`.
    public static func header(_ bytes: [UInt8], path: String) throws -> Header {
        guard bytes.count >= 10 else { throw DataError.truncated(path: path, offset: 0, expectedBytes: 10, availableBytes: bytes.count) }
        guard bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw DataError.malformed(path: path, offset: 0, reason: "not a .npy file (magic \\x93NUMPY missing)")
        }
        let major = bytes[6]
        guard (1...3).contains(major) else { throw DataError.malformed(path: path, offset: 6, reason: "unsupported .npy version \(major).\(bytes[7])") }
        let lengthBytes = major == 1 ? 2 : 4, start = 8 + lengthBytes
        guard bytes.count >= start else { throw DataError.truncated(path: path, offset: bytes.count, expectedBytes: start - bytes.count, availableBytes: 0) }
        let length = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        guard length <= 1 << 20 else { throw DataError.malformed(path: path, offset: 8, reason: "header length \(length) exceeds 1 MiB") }
        guard bytes.count >= start + length else {
            throw DataError.truncated(path: path, offset: bytes.count, expectedBytes: start + length - bytes.count, availableBytes: 0)
        }
        guard let text = String(bytes: bytes[start..<(start + length)], encoding: major == 3 ? .utf8 : .ascii) else {
            throw DataError.malformed(path: path, offset: start, reason: "header is not \(major == 3 ? "UTF-8" : "ASCII") text")
        }
        func fail(_ why: String) -> DataError { .malformed(path: path, offset: start, reason: "header \(text.trimmingCharacters(in: .whitespacesAndNewlines)): \(why)") }
        func value(of key: String) throws -> Substring {
            guard let k = text.range(of: "'\(key)'") ?? text.range(of: "\"\(key)\""),
                  let colon = text[k.upperBound...].firstIndex(of: ":") else { throw fail("no '\(key)' entry") }
            return text[text.index(after: colon)...].drop { $0 == " " }
        }
        let d = try value(of: "descr")
        guard let q = d.first, q == "'" || q == "\"", let close = d.dropFirst().firstIndex(of: q) else { throw fail("'descr' is not a string") }
        let descr = String(d[d.index(after: d.startIndex)..<close])
        let f = try value(of: "fortran_order")
        guard f.hasPrefix("True") || f.hasPrefix("False") else { throw fail("'fortran_order' is not True or False") }
        let s = try value(of: "shape")
        guard s.first == "(", let end = s.firstIndex(of: ")") else { throw fail("'shape' is not a tuple") }
        let items = s[s.index(after: s.startIndex)..<end].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = try items.map { item -> Int in
            guard let n = Int(item), n >= 0 else { throw fail("dimension '\(item)' is not a non-negative integer") }
            return n
        }
        guard shape.count <= 32 else { throw fail("\(shape.count) dimensions (at most 32)") }
        return Header(descr: descr, fortranOrder: f.hasPrefix("True"), shape: shape, dataOffset: start + length)
    }

    /// Kind ("f", "i", "u", "b"), item size and byte order of a supported dtype string.
    static func dtype(_ descr: String, path: String) throws -> (kind: Character, size: Int, bigEndian: Bool) {
        let chars = Array(descr)
        guard chars.count >= 3, "<>|=".contains(chars[0]), let size = Int(String(chars[2...])),
              let kind = Optional(chars[1]), (kind == "f" && (size == 4 || size == 8)) || ("iu".contains(kind) && [1, 2, 4, 8].contains(size))
                || (kind == "b" && size == 1) else {
            throw DataError.malformed(path: path, offset: 10, reason: "unsupported dtype '\(descr)' (supported: float32/64, signed and unsigned integers, bool)")
        }
        return (kind, size, chars[0] == ">")
    }
}
