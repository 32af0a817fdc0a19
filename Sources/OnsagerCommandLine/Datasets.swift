import Foundation
import Onsager

/// Loading a dataset in an executable: found by `DatasetLocator`; when it cannot be found or
/// read, the message names the dataset, the places searched or the file, and the program exits 1.
public enum Datasets {
    /// The result of `load`, or exit 1 with "cannot load NAME: ERROR" on standard error.
    public static func load<T>(_ name: String, _ load: () throws -> T) -> T {
        do { return try load() } catch {
            FileHandle.standardError.write(Data("cannot load \(name): \(error)\n".utf8))
            exit(1)
        }
    }
}
