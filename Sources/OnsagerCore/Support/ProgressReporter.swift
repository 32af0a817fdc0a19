import Foundation

/// One report of a long loop's progress.
public struct ProgressReport: Sendable {
    /// What is running ("AIS", "epoch 3", …).
    public let task: String
    /// Units done and the total (steps, intervals, batches).
    public let done: Int, total: Int
    /// Seconds since the loop started.
    public let elapsed: Double
    /// A short status ("loss 0.1234", …), possibly empty.
    public let note: String
    /// Whether this is the last report of the loop.
    public let finished: Bool
}

/// ProgressReporter of the library's long loops — AIS, `TrainingLoop` and the RBM trainers' epochs — as a
/// service: a bar redrawn in place when standard output is a terminal, nothing when it is not (a
/// log file gets no carriage-return noise), or reports handed to a program's own callback.
///
/// ```swift
/// ProgressReporter.output = .silent                                   // no bars anywhere
/// ProgressReporter.output = .callback { r in log("\(r.task) \(r.done)/\(r.total)") }
/// ```
public final class ProgressReporter: @unchecked Sendable {
    /// Where reports go.
    public enum Output: Sendable {
        /// A bar on standard output when it is a terminal; silent otherwise (the default).
        case automatic
        /// Nothing.
        case silent
        /// Every report (at most ten a second, and the last) to this function.
        case callback(@Sendable (ProgressReport) -> Void)
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var current: Output = .automatic
    /// The process-wide destination of the library's progress reports (default `.automatic`).
    public static var output: Output {
        get { lock.lock(); defer { lock.unlock() }; return current }
        set { lock.lock(); current = newValue; lock.unlock() }
    }

    private let task: String, total: Int, output: Output, started = Date(), terminal: Bool
    private var lastDraw = -Double.infinity, drewBar = false

    /// A loop of `total` units named `task`, reporting to `output` (default: `ProgressReporter.output`).
    public init(_ task: String, total: Int, output: Output? = nil) {
        self.task = task
        self.total = Swift.max(total, 1)
        self.output = output ?? ProgressReporter.output
        terminal = isatty(STDOUT_FILENO) != 0
    }

    /// Reports `done` units (throttled to ten reports a second).
    ///
    /// `note` is evaluated only when a report is made: a training loop that formats its loss for
    /// the bar at every step pays for the formatting ten times a second, or never when silent.
    public func update(_ done: Int, note: @autoclosure () -> String = "") {
        guard reports else { return }
        let now = Date().timeIntervalSince(started)
        guard now - lastDraw >= 0.1 else { return }
        lastDraw = now
        emit(ProgressReport(task: task, done: done, total: total, elapsed: now, note: note(), finished: false))
    }

    /// Whether any report can reach the output (a bar needs a terminal): the one place that decides
    /// it, for `update` (before the note is built) and for `emit`.
    private var reports: Bool {
        switch output {
        case .silent: return false
        case .automatic: return terminal
        case .callback: return true
        }
    }

    /// Ends the loop: the last report, and on a terminal the bar's line is cleared.
    public func finish(note: String = "") {
        emit(ProgressReport(task: task, done: total, total: total, elapsed: Date().timeIntervalSince(started), note: note, finished: true))
    }

    private func emit(_ r: ProgressReport) {
        guard reports else { return }
        if case let .callback(f) = output { f(r); return }
        // The bar, on a terminal.
        if r.finished {
            if drewBar { print("\r" + String(repeating: " ", count: 100) + "\r", terminator: ""); fflush(nil) }
            return
        }
        let fraction = Double(r.done) / Double(r.total), width = 24
        let filled = Swift.min(width, Swift.max(0, Int(fraction * Double(width))))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let eta = r.done > 0 ? r.elapsed * Double(r.total - r.done) / Double(r.done) : .nan
        print(String(format: "\r  %@ %@ %3.0f%%  %.0f s%@  %@", r.task, bar, 100 * fraction, r.elapsed,
                     eta.isFinite ? String(format: ", ~%.0f s left", eta) : "", r.note), terminator: "")
        fflush(nil)
        drewBar = true
    }
}
