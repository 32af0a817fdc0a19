import OnsagerCore

/// Why a data file could not be read. Every case names the file; byte offsets are into the
/// decompressed stream.
public enum DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or read.
    case cannotOpen(path: String, reason: String)
    /// The gzip/zlib stream is damaged near the given decompressed offset.
    case corruptCompression(path: String, offset: Int, message: String)
    /// The file ends before the data its header announces.
    case truncated(path: String, offset: Int, expectedBytes: Int, availableBytes: Int)
    /// The first bytes are not an IDX header.
    case badMagic(path: String, found: [UInt8])
    /// An IDX element type other than unsigned bytes.
    case unsupportedElementType(path: String, code: UInt8)
    /// A dimension is zero, negative or too large to allocate.
    case badDimensions(path: String, offset: Int, reason: String)
    /// Bytes follow the data the header describes.
    case trailingBytes(path: String, offset: Int, count: Int)
    /// Two files (or two parts of one) do not fit together, e.g. 60,000 images but 59,999 labels.
    case mismatch(path: String, reason: String)
    /// A structure inside the file is not what its format prescribes.
    case malformed(path: String, offset: Int, reason: String)
    /// The dataset's folder was not found in any of the places searched.
    case notFound(dataset: String, searched: [String])

    /// The message, naming the file and the offset.
    public var description: String {
        switch self {
        case let .cannotOpen(p, r): return "\(p): cannot open (\(r))"
        case let .corruptCompression(p, o, m): return "\(p): corrupt gzip data near decompressed offset \(o): \(m)"
        case let .truncated(p, o, e, a): return "\(p): truncated at offset \(o): expected \(e) more bytes, found \(a)"
        case let .badMagic(p, f): return "\(p): not an IDX file: magic bytes \(f.map { String(format: "%02x", $0) }.joined(separator: " ")) (expected 00 00 <type> <dims>)"
        case let .unsupportedElementType(p, c): return "\(p): unsupported IDX element type 0x\(String(format: "%02x", c)) (expected 0x08, unsigned byte)"
        case let .badDimensions(p, o, r): return "\(p): bad dimensions at offset \(o): \(r)"
        case let .trailingBytes(p, o, n): return "\(p): \(n) unexpected bytes after the data at offset \(o)"
        case let .mismatch(p, r): return "\(p): \(r)"
        case let .malformed(p, o, r): return "\(p): malformed at offset \(o): \(r)"
        case let .notFound(d, s): return "dataset '\(d)' not found; looked in: \(s.joined(separator: ", ")) (set ONSAGER_DATA or pass a path)"
        }
    }
}
