import OnsagerCore
import CZlib
import Foundation

/// Reader for the IDX format of MNIST and Fashion-MNIST, gzipped or raw (zlib reads both).
///
/// Layout: bytes 0–1 zero, byte 2 the element type (0x08 = unsigned byte), byte 3 the number of
/// dimensions d, then d big-endian UInt32 sizes, then the elements in row-major order.
public enum IDX {
    /// The decoded file: its dimensions and raw bytes.
    public struct Array: Sendable {
        /// The dimensions, outermost first.
        public let shape: [Int]
        /// The elements in row-major order.
        public let bytes: [UInt8]
    }

    /// Reads the (decompressed) content of a gzip or plain regular file, stopping after `limit`
    /// bytes (a larger content is an error: a small file must not inflate without bound). Devices,
    /// FIFOs and directories are refused before anything is read.
    public static func readFile(_ path: String, limit: Int = 1 << 32) throws -> [UInt8] {
        try CompressedFile.readAll(path, limit: limit)
    }

    /// Decodes IDX bytes (`path` is only used in errors).
    public static func decode(_ bytes: [UInt8], path: String) throws -> Array {
        let (shape, count, headerEnd) = try header(bytes, path: path)
        let available = bytes.count - headerEnd
        guard available >= count else {
            throw DataError.truncated(path: path, offset: bytes.count, expectedBytes: count - available, availableBytes: 0)
        }
        guard available == count else {
            throw DataError.trailingBytes(path: path, offset: headerEnd + count, count: available - count)
        }
        return Array(shape: shape, bytes: Swift.Array(bytes[headerEnd...]))
    }

    /// The shape, element count and header length of the header at the start of `bytes`: magic,
    /// element type, 1 to 4 positive sizes, at most 2³⁴ elements.
    static func header(_ bytes: [UInt8], path: String) throws -> (shape: [Int], count: Int, end: Int) {
        guard bytes.count >= 4 else { throw DataError.truncated(path: path, offset: 0, expectedBytes: 4, availableBytes: bytes.count) }
        guard bytes[0] == 0, bytes[1] == 0 else { throw DataError.badMagic(path: path, found: Swift.Array(bytes[0..<4])) }
        guard bytes[2] == 0x08 else { throw DataError.unsupportedElementType(path: path, code: bytes[2]) }
        let d = Int(bytes[3])
        guard d >= 1 && d <= 4 else { throw DataError.badDimensions(path: path, offset: 3, reason: "\(d) dimensions (expected 1 to 4)") }
        let end = 4 + 4 * d
        guard bytes.count >= end else {
            throw DataError.truncated(path: path, offset: bytes.count, expectedBytes: end - bytes.count, availableBytes: 0)
        }
        var shape: [Int] = []
        for i in 0..<d {
            let o = 4 + 4 * i
            let size = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            guard size > 0 else { throw DataError.badDimensions(path: path, offset: o, reason: "dimension \(i) has size 0") }
            shape.append(size)
        }
        guard let count = Shape.checkedCount(shape), count <= 1 << 34 else {
            throw DataError.badDimensions(path: path, offset: 4, reason: "sizes \(shape) are too large")
        }
        return (shape, count, end)
    }

    /// Reads and decodes an IDX file (.gz or raw). The header is read first, and no more is
    /// inflated than it declares (plus one byte, to detect trailing data).
    public static func read(_ path: String) throws -> Array {
        let gz = try CompressedFile.open(path)
        defer { gzclose(gz) }
        var bytes = try CompressedFile.read(gz, upTo: 4, path: path, offset: 0)
        if bytes.count == 4, (1...4).contains(Int(bytes[3])) { bytes += try CompressedFile.read(gz, upTo: 4 * Int(bytes[3]), path: path, offset: 4) }
        if let h = try? header(bytes, path: path) { bytes += try CompressedFile.read(gz, upTo: h.count + 1, path: path, offset: bytes.count) }
        return try decode(bytes, path: path)     // names whatever is wrong: magic, sizes, truncation, trailing bytes
    }
}

extension IDX {
    /// IDX bytes for unsigned-byte data of the given shape.
    public static func encode(shape: [Int], bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
        for s in shape { out += [UInt8(s >> 24 & 0xff), UInt8(s >> 16 & 0xff), UInt8(s >> 8 & 0xff), UInt8(s & 0xff)] }
        return out + bytes
    }

    /// Writes bytes to `path`, gzipped when `compressed`, atomically (`AtomicFile`).
    public static func writeFile(_ bytes: [UInt8], to path: String, compressed: Bool) throws {
        try CompressedFile.write(bytes, to: path, compressed: compressed)
    }
}
