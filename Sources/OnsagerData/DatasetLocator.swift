import Foundation
import OnsagerCore

/// Finds a dataset's folder: an explicit path when one is given (and nothing else, so a wrong path
/// is an error rather than a silent fallback); otherwise, in order, `$ONSAGER_DATA/<name>`,
/// `../shared/data/<name>`, `shared/data/<name>`, and Debian's `/usr/share/datasets/<name>` (where
/// `dataset-fashion-mnist` installs). Tutorials, the command line and the tests all use it, so a
/// dataset found by one is found by all.
public enum DatasetLocator {
    /// The folders searched for dataset `name`, in order.
    public static func candidates(_ name: String, explicit: String? = nil) -> [String] {
        if let explicit { return [explicit] }
        var folders: [String] = []
        if let root = ProcessInfo.processInfo.environment["ONSAGER_DATA"] { folders.append((root as NSString).appendingPathComponent(name)) }
        folders += ["../shared/data/\(name)", "shared/data/\(name)", "/usr/share/datasets/\(name)"]
        return folders
    }

    /// The first candidate folder that holds `marker` (or, with `gzipAllowed`, `marker.gz`, for
    /// readers that decompress); throws `DataError.notFound` listing every place searched.
    public static func locate(_ name: String, containing marker: String, gzipAllowed: Bool = false,
                              explicit: String? = nil) throws -> String {
        let folders = candidates(name, explicit: explicit)
        for folder in folders {
            let probe = (folder as NSString).appendingPathComponent(marker)
            if FileManager.default.fileExists(atPath: probe) || (gzipAllowed && FileManager.default.fileExists(atPath: probe + ".gz")) { return folder }
        }
        throw DataError.notFound(dataset: name, searched: folders)
    }
}
