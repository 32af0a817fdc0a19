import OnsagerCore
import Foundation

/// A numeric CSV reader: every field must parse as a finite number; errors name the file, line
/// and column.
public enum CSV {
    /// Rows of numbers. `skipHeader` drops the first line; blank lines are ignored; CRLF is fine.
    /// A NUL byte, a file without rows, and non-finite values ("nan", "inf", 1e400) are errors;
    /// `allowNonFinite` accepts the last. Only regular files are read.
    public static func read(_ path: String, separator: Character = ",", skipHeader: Bool = false, allowNonFinite: Bool = false) throws -> [[Double]] {
        try RegularFile.check(path)
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.cannotOpen(path: path, reason: "cannot read file") }
        let bytes = [UInt8](data)
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
}
