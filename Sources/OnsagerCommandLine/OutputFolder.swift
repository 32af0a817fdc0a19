import Foundation

/// Where an executable writes its figures, metrics and checkpoints.
public enum OutputFolder {
    /// `$ONSAGER_OUTPUT/<name>`, or `onsager-output/<name>` in the working directory (created by
    /// the first atomic write into it).
    public static func url(_ name: String) -> URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["ONSAGER_OUTPUT"] ?? "onsager-output").appendingPathComponent(name)
    }
}
