import Foundation

/// The one gate every reader passes a path through: the path must name a regular file, so a
/// device (`/dev/zero`), a FIFO or a directory is refused before a byte is read instead of
/// hanging or reading without end.
enum RegularFile {
    /// Throws `DataError.cannotOpen` naming the path unless it is a regular file.
    static func check(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw DataError.cannotOpen(path: path, reason: errno == ENOENT ? "no such file" : String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw DataError.cannotOpen(path: path, reason: "not a regular file") }
    }
}
