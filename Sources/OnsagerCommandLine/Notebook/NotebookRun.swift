import Foundation

/// What a notebook run produced: each code cell's printed output and figures, and its timing,
/// recovered from the markers `NotebookMarker` printed.
public struct NotebookRun: Sendable {
    /// Output lines per code cell (index 0…); lines printed before the first marker go to cell 0.
    public var outputs: [Int: [String]] = [:]
    /// Seconds since 1970 at which each code cell started.
    public var starts: [Int: Double] = [:]
    /// When the run ended (seconds since 1970).
    public var end: Double
    /// Figure files (names) per code cell.
    public var figures: [Int: [String]] = [:]
    /// When the run started, the machine's CPU, and what ran (for the page's header).
    public var date: Date, machine: String
    /// The arguments the tutorial ran with (after `--` on `onsager notebook`'s command line).
    public var arguments: [String] = []

    /// Splits a run's standard output at the markers.
    public init(stdout: String, end: Double, date: Date = Date(), machine: String) {
        self.end = end
        self.date = date
        self.machine = machine
        var current = 0
        for line in stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix(NotebookMarker.prefix) {
                let parts = line.dropFirst(NotebookMarker.prefix.count).split(separator: " ")
                if parts.count == 2, let k = Int(parts[0]), let t = Double(parts[1]) {
                    current = k
                    starts[k] = t
                    continue
                }
            }
            outputs[current, default: []].append(line)
        }
        for (k, lines) in outputs {
            var l = lines
            while l.last?.isEmpty == true { l.removeLast() }
            while l.first?.isEmpty == true { l.removeFirst() }
            outputs[k] = l
        }
    }

    /// Assigns files to the cell that was running when each was last written (modification time
    /// between that cell's start and the next cell's).
    public mutating func attach(files: [(name: String, modified: Double)]) {
        let ordered = starts.sorted { $0.value < $1.value }
        for f in files.sorted(by: { $0.modified < $1.modified }) {
            guard let owner = ordered.last(where: { $0.value <= f.modified })?.key ?? ordered.first?.key else { continue }
            figures[owner, default: []].append(f.name)
        }
    }

    /// Wall time of code cell `k` (until the next cell starts or the run ends).
    public func seconds(ofCell k: Int) -> Double? {
        guard let s = starts[k] else { return nil }
        let next = starts.values.filter { $0 > s }.min() ?? end
        return next - s
    }

    /// The first output line that starts with "key result:" (the index page shows it).
    public var keyResult: String? {
        for k in outputs.keys.sorted() {
            if let line = outputs[k]!.first(where: { $0.lowercased().hasPrefix("key result:") }) {
                return String(line.dropFirst("key result:".count)).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}
