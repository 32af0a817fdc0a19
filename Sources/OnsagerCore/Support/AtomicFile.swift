import Foundation

/// Writes whole files atomically: a temporary file beside the target, then a rename, so readers
/// never see a half-written checkpoint, figure or metrics file. Creates the folder if needed.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }

    public static func write(_ text: String, to url: URL) throws { try write(Data(text.utf8), to: url) }
}
