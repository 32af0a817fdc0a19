import Foundation

/// Writes whole files atomically: a temporary file beside the target, then a rename, so readers
/// never see a half-written checkpoint, figure or metrics file. Creates the folder if needed.
public enum AtomicFile {
    /// Writes `data` to `url` atomically, creating the folder if needed.
    public static func write(_ data: Data, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }

    /// Writes `text` as UTF-8 to `url` atomically, creating the folder if needed.
    public static func write(_ text: String, to url: URL) throws { try write(Data(text.utf8), to: url) }
}
