import Foundation

/// The marker a notebook run prints at the start of every code cell, so that each line of output
/// (and each figure, by its modification time) belongs to the cell that produced it. The renderer
/// inserts the calls into a copy of the tutorial; tutorials never call it themselves.
public enum NotebookMarker {
    /// The marker's prefix: a record separator, unlikely in a tutorial's own output.
    public static let prefix = "\u{1E}onsager-cell "

    /// Prints "␞onsager-cell <index> <seconds since 1970>" on a line of its own and flushes.
    public static func cell(_ index: Int) {
        fflush(nil)
        print(prefix + "\(index) \(Date().timeIntervalSince1970)")
        fflush(nil)
    }
}
