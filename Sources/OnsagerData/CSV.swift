import OnsagerCore
import Foundation

/// Numeric CSV files. The reader requires every field to parse as a finite number and names the
/// file, line and column of the first that does not; the writer hands tensors to other tools.
public enum CSV {
    /// Rows of numbers from a plain or gzipped file (`.csv.gz` is read as such). `skipHeader` drops
    /// the first line; blank lines are ignored; CRLF is fine. A NUL byte, a file without rows, and
    /// non-finite values ("nan", "inf", 1e400) are errors; `allowNonFinite` accepts the last. Only
    /// regular files are read, and at most `maxBytes` of (decompressed) text.
    public static func read(_ path: String, separator: Character = ",", skipHeader: Bool = false, allowNonFinite: Bool = false,
                            maxBytes: Int = 1 << 32) throws -> [[Double]] {
        let bytes = try CompressedFile.readAll(path, limit: maxBytes)
        if let nul = bytes.firstIndex(of: 0) { throw DataError.malformed(path: path, offset: nul, reason: "a NUL byte (not a text file)") }
        var rows: [[Double]] = []
        var lineStart = 0, n = 0
        while lineStart < bytes.count {
            var end = lineStart
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            defer { lineStart = end + 1; n += 1 }
            var stop = end
            if stop > lineStart && bytes[stop - 1] == 0x0D { stop -= 1 }      // CRLF
            guard let line = String(bytes: bytes[lineStart..<stop], encoding: .utf8) else {
                throw DataError.malformed(path: path, offset: lineStart, reason: "line \(n + 1) is not UTF-8 text")
            }
            if line.trimmingCharacters(in: .whitespaces).isEmpty || (skipHeader && n == 0) { continue }
            var row: [Double] = []
            for (c, field) in line.split(separator: separator, omittingEmptySubsequences: false).enumerated() {
                guard let v = Double(field.trimmingCharacters(in: .whitespaces)) else {
                    throw DataError.malformed(path: path, offset: lineStart, reason: "line \(n + 1), column \(c + 1): '\(field)' is not a number")
                }
                guard v.isFinite || allowNonFinite else {
                    throw DataError.malformed(path: path, offset: lineStart, reason: "line \(n + 1), column \(c + 1): '\(field)' is not finite (pass allowNonFinite: true to accept it)")
                }
                row.append(v)
            }
            if let first = rows.first, first.count != row.count {
                throw DataError.malformed(path: path, offset: lineStart, reason: "line \(n + 1) has \(row.count) fields, earlier lines have \(first.count)")
            }
            rows.append(row)
        }
        guard !rows.isEmpty else { throw DataError.malformed(path: path, offset: 0, reason: "no rows of numbers") }
        return rows
    }

    /// Writes the rows of a 1-D (one value per line) or 2-D tensor as CSV, atomically, every value
    /// with the shortest text that reads back to the same number (so a round trip is exact);
    /// `header` becomes the first line; a path ending in ".gz" is gzipped.
    public static func write<S: TensorScalar>(_ tensor: Tensor<S>, to path: String, header: [String]? = nil, separator: Character = ",") throws {
        check(tensor.rank == 1 || tensor.rank == 2, "CSV.write: expected a 1-D or 2-D tensor, got shape \(tensor.shape)")
        let columns = tensor.rank == 2 ? tensor.shape[1] : 1
        if let header { check(header.count == columns, "CSV.write: \(header.count) header names for \(columns) columns") }
        let values = tensor.scalars, sep = String(separator)
        var text = header.map { $0.joined(separator: sep) + "\n" } ?? ""
        let rows = columns == 0 ? 0 : values.count / columns
        for r in 0..<rows {
            text += (0..<columns).map { "\(values[r * columns + $0])" }.joined(separator: sep) + "\n"
        }
        try CompressedFile.write(Array(text.utf8), to: path, compressed: path.hasSuffix(".gz"))
    }
}
