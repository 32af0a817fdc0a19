import Foundation

/// The result of `body`; if it throws, prints "CONTEXT: ERROR" on standard error and exits 1.
/// For executables, where an error (a dataset that cannot be found or read, a NaN that stops
/// training) ends the run with a message rather than a trap.
///
/// ```swift
/// let rows = exitOnError("cannot load Spambase") { try CSV.read(path) }
/// ```
@discardableResult
public func exitOnError<T>(_ context: String, _ body: () throws -> T) -> T {
    do { return try body() } catch {
        FileHandle.standardError.write(Data("\(context): \(error)\n".utf8))
        exit(1)
    }
}
