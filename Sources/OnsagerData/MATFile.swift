import OnsagerCore
import CZlib
import Foundation

/// Reader for MATLAB level-5 MAT files (numeric matrices, zlib-compressed or not), enough for
/// the Caltech-101 silhouettes. Cell arrays, structs, sparse and complex matrices are skipped.
public enum MATFile {
    /// A numeric matrix, values in row-major order (MAT stores column-major; converted here).
    public struct Matrix: Sendable {
        /// The variable name in the file.
        public let name: String
        /// Number of rows.
        public let rows: Int
        /// Number of columns.
        public let columns: Int
        /// The entries, row-major.
        public let values: [Double]
    }

    /// All numeric 2-D matrices in the file, by name.
    public static func read(_ path: String) throws -> [String: Matrix] {
        try RegularFile.check(path)
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.cannotOpen(path: path, reason: "cannot read file") }
        let bytes = [UInt8](data)
        guard bytes.count >= 128 else { throw DataError.truncated(path: path, offset: bytes.count, expectedBytes: 128 - bytes.count, availableBytes: 0) }
        guard bytes[126] == UInt8(ascii: "I") && bytes[127] == UInt8(ascii: "M") else {
            throw DataError.badMagic(path: path, found: Array(bytes[124..<128]))
        }
        var out: [String: Matrix] = [:]
        var o = 128
        while o + 8 <= bytes.count {
            let (type, size, dataStart, next) = try tag(bytes, at: o, path: path)
            guard dataStart + size <= bytes.count else {
                throw DataError.truncated(path: path, offset: dataStart, expectedBytes: size, availableBytes: bytes.count - dataStart)
            }
            var element = Array(bytes[dataStart..<(dataStart + size)])
            var elementType = type
            if type == 15 {   // miCOMPRESSED: one zlib stream holding another element
                element = try inflate(element, path: path, offset: dataStart, limit: maximumInflatedSize)
                guard element.count >= 8 else { throw DataError.malformed(path: path, offset: dataStart, reason: "empty compressed element") }
                let (t, s, ds, _) = try tag(element, at: 0, path: path)
                elementType = t
                guard ds + s <= element.count else { throw DataError.malformed(path: path, offset: dataStart, reason: "compressed element is shorter than its tag says") }
                element = Array(element[ds..<(ds + s)])
            }
            if elementType == 14, let m = try matrix(element, path: path, offset: dataStart) { out[m.name] = m }
            o = next
        }
        return out
    }

    /// (type, byte count, data offset, next element offset) of the tag at `o`.
    static func tag(_ b: [UInt8], at o: Int, path: String) throws -> (Int, Int, Int, Int) {
        guard o + 8 <= b.count else { throw DataError.truncated(path: path, offset: o, expectedBytes: 8, availableBytes: b.count - o) }
        let first = u32(b, o)
        if first >> 16 != 0 {   // small data element: size and type in one word, data in the next 4 bytes
            return (Int(first & 0xffff), Int(first >> 16), o + 4, o + 8)
        }
        let size = Int(u32(b, o + 4))
        let padded = (size + 7) / 8 * 8
        return (Int(first), size, o + 8, o + 8 + (first == 15 ? size : padded))
    }

    static func u32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
    }

    static func matrix(_ e: [UInt8], path: String, offset: Int) throws -> Matrix? {
        var o = 0
        func next() throws -> (Int, [UInt8]) {
            let (t, s, ds, nx) = try tag(e, at: o, path: path)
            guard ds + s <= e.count else { throw DataError.malformed(path: path, offset: offset + o, reason: "matrix sub-element overruns its matrix") }
            o = nx
            return (t, Array(e[ds..<(ds + s)]))
        }
        let (_, flags) = try next()
        guard flags.count >= 4 else { throw DataError.malformed(path: path, offset: offset, reason: "short array flags") }
        let cls = Int(flags[0]), complex = flags[1] & 0x08 != 0
        let (_, dimBytes) = try next()
        let dims = stride(from: 0, to: dimBytes.count - 3, by: 4).map { Int(Int32(bitPattern: u32(dimBytes, $0))) }
        let (_, nameBytes) = try next()
        let name = String(decoding: nameBytes, as: UTF8.self)
        // Numeric classes only: 6 double, 7 single, 8 int8, 9 uint8, 10 int16, 11 uint16, 12 int32, 13 uint32.
        guard (6...13).contains(cls), !complex, dims.count == 2 else { return nil }
        let (t, raw) = try next()
        // Sizes from the file are checked against the bytes present before anything is allocated.
        guard dims.allSatisfy({ $0 >= 0 }), let count = Shape.checkedCount(dims), count <= raw.count else {
            throw DataError.badDimensions(path: path, offset: offset, reason: "matrix '\(name)' declares \(dims) for \(raw.count) data bytes")
        }
        let width: Int
        switch t {
        case 1, 2: width = 1
        case 3, 4: width = 2
        case 5, 6, 7: width = 4
        case 9: width = 8
        default: throw DataError.malformed(path: path, offset: offset, reason: "matrix '\(name)' has unsupported data type \(t)")
        }
        guard raw.count >= count * width else {
            throw DataError.truncated(path: path, offset: offset, expectedBytes: count * width, availableBytes: raw.count)
        }
        var colMajor = [Double](repeating: 0, count: count)
        raw.withUnsafeBytes { p in
            for i in 0..<count {
                switch t {
                case 1: colMajor[i] = Double(p.load(fromByteOffset: i, as: Int8.self))
                case 2: colMajor[i] = Double(p.load(fromByteOffset: i, as: UInt8.self))
                case 3: colMajor[i] = Double(p.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))
                case 4: colMajor[i] = Double(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                case 5: colMajor[i] = Double(p.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
                case 6: colMajor[i] = Double(p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                case 7: colMajor[i] = Double(p.loadUnaligned(fromByteOffset: 4 * i, as: Float.self))
                default: colMajor[i] = p.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)
                }
            }
        }
        var rowMajor = [Double](repeating: 0, count: count)
        for r in 0..<dims[0] { for c in 0..<dims[1] { rowMajor[r * dims[1] + c] = colMajor[c * dims[0] + r] } }
        return Matrix(name: name, rows: dims[0], columns: dims[1], values: rowMajor)
    }

    /// The most bytes one compressed element may inflate to (1 GiB; the Caltech file needs 3 MB).
    public static let maximumInflatedSize = 1 << 30

    /// Decompresses a zlib stream, refusing to produce more than `limit` bytes.
    static func inflate(_ input: [UInt8], path: String, offset: Int, limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError.corruptCompression(path: path, offset: offset, message: "inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var src = input
        var status: Int32 = Z_OK
        try src.withUnsafeMutableBufferPointer { inp in
            stream.next_in = inp.baseAddress
            stream.avail_in = uInt(inp.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return out.count - Int(stream.avail_out)
                }
                if status != Z_OK && status != Z_STREAM_END {
                    let msg = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw DataError.corruptCompression(path: path, offset: offset + Int(stream.total_in), message: msg)
                }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > limit {
                    throw DataError.malformed(path: path, offset: offset, reason: "compressed element inflates to more than \(limit) bytes")
                }
                if status == Z_OK && produced == 0 && stream.avail_in == 0 {
                    throw DataError.corruptCompression(path: path, offset: offset + Int(stream.total_in), message: "compressed stream ends early")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
