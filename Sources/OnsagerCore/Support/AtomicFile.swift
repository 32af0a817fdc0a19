import Foundation

/// Writes whole files atomically: a temporary file beside the target, then a rename, so readers
/// never see a half-written checkpoint, figure or metrics file. Creates the folder if needed.
///
/// The temporary file is named ".<name>.onsager-tmp-<pid>-<random>"; a save that is killed
/// leaves it behind, and the next save to the same place removes those whose process is gone.
public enum AtomicFile {
    /// Writes `data` to `url` atomically, creating the folder if needed.
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent(), name = url.lastPathComponent
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        removeStaleTemporaries(of: name, in: dir)
        let temporary = dir.appendingPathComponent(".\(name).onsager-tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try data.write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path, NSLocalizedDescriptionKey: "rename failed: \(String(cString: strerror(errno)))"])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Writes `text` as UTF-8 to `url` atomically, creating the folder if needed.
    public static func write(_ text: String, to url: URL) throws { try write(Data(text.utf8), to: url) }

    /// Removes temporary files of earlier saves of `name` whose writing process no longer runs.
    static func removeStaleTemporaries(of name: String, in dir: URL) {
        let prefix = ".\(name).onsager-tmp-"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let pid = entry.dropFirst(prefix.count).split(separator: "-").first.flatMap { Int32($0) }
            if let pid, pid == getpid() || kill(pid, 0) == 0 { continue }    // a live writer's file (ours: a concurrent save)
            try? FileManager.default.removeItem(at: dir.appendingPathComponent(entry))
        }
    }
}
