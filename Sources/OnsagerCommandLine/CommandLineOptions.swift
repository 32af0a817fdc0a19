import Foundation
import Onsager

/// A program's command-line options, declared where they are read, with a generated `--help`.
///
/// ```swift
/// var options = CommandLineOptions(program: "02-rbm-mnist", summary: "CD-1 vs PCD on MNIST, scored by AIS")
/// let epochs = options.value("--epochs", default: 10, help: "training epochs", valid: { $0 > 0 }, "a positive integer")
/// let data = options.path("--data", help: "MNIST folder")
/// options.finish()   // --help prints the usage and exits 0; a bad or unknown option prints it and exits 2
/// ```
///
/// `--version` prints the program's name and Onsager's version and exits 0.
///
/// Values are read as options are declared; problems are collected and reported together by
/// `finish()`, after every option has been declared, so the usage it prints is complete.
public struct CommandLineOptions {
    /// The program's name, as shown in the usage line.
    public let program: String
    /// One line on what the program does, shown at the top of the usage (a subcommand's own
    /// line once `subcommand` has chosen it).
    public private(set) var summary: String
    private var arguments: [String]
    private var command: String?
    private var optionLines: [(String, String)] = []
    private var problems: [String] = []
    private let wantsHelp: Bool

    /// Options from `arguments` (by default the process's, without the program name).
    public init(program: String, summary: String, arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        self.program = program
        self.summary = summary
        wantsHelp = arguments.contains("-h") || arguments.contains("--help")
        if arguments.contains("--version") {
            print("\(program) (Onsager \(OnsagerVersion.string))")
            exit(0)
        }
        self.arguments = arguments.filter { $0 != "-h" && $0 != "--help" }
    }

    /// The value of `name` converted to `T` (`Int`, `Double`, `UInt64`, `String`, …), or `fallback`
    /// when absent. A value that does not convert or fails `valid` is reported by `finish()`,
    /// with `requirement` saying what was expected.
    public mutating func value<T: LosslessStringConvertible>(_ name: String, default fallback: T, help: String,
                                                             valid: (T) -> Bool = { _ in true },
                                                             _ requirement: String = "a value") -> T {
        optionLines.append(("\(name) \(Self.placeholder(T.self))", "\(help) (default \(fallback))"))
        guard let text = take(name) else { return fallback }
        guard let v = T(text), valid(v) else {
            problems.append("\(name) needs \(requirement), got '\(text)'")
            return fallback
        }
        return v
    }

    /// The value of `name`, one of `choices` (the first is the default).
    public mutating func choice(_ name: String, among choices: [String], help: String) -> String {
        precondition(!choices.isEmpty, "CommandLineOptions.choice: no choices for \(name)")
        optionLines.append(("\(name) " + choices.joined(separator: "|"), "\(help) (default \(choices[0]))"))
        guard let text = take(name) else { return choices[0] }
        guard choices.contains(text) else {
            problems.append("\(name) must be one of \(choices.joined(separator: ", ")), got '\(text)'")
            return choices[0]
        }
        return text
    }

    /// A path (or any text) given with `name`, nil when absent.
    public mutating func path(_ name: String, help: String) -> String? {
        optionLines.append(("\(name) PATH", help))
        return take(name)
    }

    /// The first bare argument (one not starting with "-"), removed; a missing one is reported by
    /// `finish()`. `placeholder` names it in the usage ("NAME").
    public mutating func positional(help placeholder: String, _ description: String) -> String? {
        optionLines.append((placeholder, description))
        guard let i = arguments.firstIndex(where: { !$0.hasPrefix("-") }) else {
            problems.append("\(placeholder) is missing: \(description)")
            return nil
        }
        return arguments.remove(at: i)
    }

    /// Everything after "--", removed (to be passed on to another program).
    public mutating func remainder() -> [String] {
        guard let i = arguments.firstIndex(of: "--") else { return [] }
        defer { arguments.removeSubrange(i...) }
        return Array(arguments[(i + 1)...])
    }

    /// Whether the flag `name` is present.
    public mutating func flag(_ name: String, help: String) -> Bool {
        optionLines.append((name, help))
        guard let i = arguments.firstIndex(of: name) else { return false }
        arguments.remove(at: i)
        return true
    }

    /// `--threads N`: sets `Kernels.threadCount` (default: `ONSAGER_THREADS`, else the CPUs the
    /// process may use; see `Kernels.threadCount`).
    public mutating func threads() {
        let n = value("--threads", default: Kernels.threadCount, help: "threads for large ops (also ONSAGER_THREADS)",
                      valid: { (1...Kernels.maximumThreadCount).contains($0) }, "an integer from 1 to \(Kernels.maximumThreadCount)")
        if n != Kernels.threadCount { Kernels.threadCount = n }   // the default keeps its source for `info`
    }

    /// Takes the first argument when it is one of `commands` (or `fallback` when there is none)
    /// and returns it; the command comes before any option. `PROGRAM --help` lists the commands and exits; `PROGRAM COMMAND --help`
    /// lists the options declared after this call, which should be that command's own. An
    /// unknown command prints the list and exits 2.
    public mutating func subcommand(among commands: [(name: String, summary: String)], default fallback: String) -> String {
        let list = commands.map { "  " + $0.name.padding(toLength: 11, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n")
        let overview = "\(program): \(summary)\n\nusage: \(program) [COMMAND] [OPTIONS]   (default command: \(fallback))\n\ncommands:\n"
            + list + "\n\n`\(program) COMMAND --help` lists a command's options."
        if arguments.first == "help" {
            print(overview)
            exit(0)
        }
        guard let first = arguments.first, !first.hasPrefix("-") else {
            if wantsHelp {
                print(overview)
                exit(0)
            }
            command = fallback
            summary = commands.first { $0.name == fallback }.map { $0.summary.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ") } ?? summary
            return fallback
        }
        guard commands.contains(where: { $0.name == first }) else {
            FileHandle.standardError.write(Data("\(program): unknown command '\(first)'\n\n\(overview)\n".utf8))
            exit(2)
        }
        arguments.removeFirst()
        command = first
        summary = commands.first { $0.name == first }!.summary.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        return first
    }

    /// The usage text: summary, usage line and one line per declared option.
    public var usage: String {
        let width = (optionLines.map(\.0.count).max() ?? 0) + 2
        let lines = optionLines.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + $0.1 }
        let name = command.map { "\(program) \($0)" } ?? program
        return "\(name): \(summary)\n\nusage: \(name) [OPTIONS]\n\noptions:\n" + lines.joined(separator: "\n")
            + "\n  " + "-h, --help".padding(toLength: width, withPad: " ", startingAt: 0) + "this text"
            + "\n  " + "--version".padding(toLength: width, withPad: " ", startingAt: 0) + "the program's and Onsager's version"
    }

    /// Ends the declarations: prints the usage and exits 0 on `--help`; prints every problem (and
    /// any argument nobody declared) with the usage and exits 2; otherwise returns.
    public func finish() {
        if wantsHelp {
            print(usage)
            exit(0)
        }
        let all = errors
        guard all.isEmpty else {
            FileHandle.standardError.write(Data((all.map { "\(program): \($0)" } + ["", usage, ""]).joined(separator: "\n").utf8))
            exit(2)
        }
    }

    /// Whether `-h` or `--help` was given.
    public var helpRequested: Bool { wantsHelp }

    /// Every problem so far: bad values, missing values, unknown options (with the closest
    /// declared one when it is a likely typo; a value after an unknown option is taken as its
    /// value, not reported again) and other arguments no declaration took.
    public var errors: [String] {
        var found = problems, stray: [String] = [], i = 0
        let declared = optionLines.map { String($0.0.split(separator: " ")[0]) }
        while i < arguments.count {
            let a = arguments[i]
            if a.hasPrefix("-") && Double(a) == nil {
                let name = a.split(separator: "=", maxSplits: 1).map(String.init)[0]
                let near = declared.min { Self.editDistance($0, name) < Self.editDistance($1, name) }
                let hint = near.map { Self.editDistance($0, name) <= Swift.max(2, name.count / 3) ? " (did you mean \($0)?)" : "" } ?? ""
                found.append("unknown option '\(name)'\(hint)")
                if !a.contains("="), i + 1 < arguments.count, !arguments[i + 1].hasPrefix("-") || Double(arguments[i + 1]) != nil { i += 1 }
            } else {
                stray.append(a)
            }
            i += 1
        }
        if !stray.isEmpty { found.append("unexpected argument(s): \(stray.joined(separator: " ")) (options are written --name VALUE)") }
        return found
    }

    /// Levenshtein distance, for suggesting the option a typo meant.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        var row = Array(0...y.count)
        for i in 1...Swift.max(1, x.count) where !x.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...Swift.max(1, y.count) where !y.isEmpty {
                let old = row[j]
                row[j] = Swift.min(row[j] + 1, row[j - 1] + 1, previous + (x[i - 1] == y[j - 1] ? 0 : 1))
                previous = old
            }
        }
        return row[y.count]
    }

    /// Removes `name VALUE` and returns VALUE (reporting a missing value).
    private mutating func take(_ name: String) -> String? {
        guard let i = arguments.firstIndex(of: name) else { return nil }
        guard i + 1 < arguments.count else {
            problems.append("\(name) needs a value")
            arguments.remove(at: i)
            return nil
        }
        let v = arguments[i + 1]
        arguments.removeSubrange(i...(i + 1))
        return v
    }

    private static func placeholder<T>(_: T.Type) -> String {
        T.self == Int.self || T.self == UInt64.self ? "N" : T.self == Double.self ? "X" : "VALUE"
    }
}
