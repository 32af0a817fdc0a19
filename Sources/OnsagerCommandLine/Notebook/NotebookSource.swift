import Foundation

/// A tutorial's source split into cells, the way its prose reads: a block of comment lines at
/// column 0 is a Markdown cell, the code between two such blocks a code cell. Comments indented
/// inside code (a function's, a loop's) and `///` documentation comments (which belong to the
/// declaration under them) stay with their code.
public struct NotebookSource: Sendable, Equatable {
    /// One cell.
    public enum Cell: Sendable, Equatable {
        /// Markdown (the comment markers removed).
        case markdown(String)
        /// Swift code, with the 1-based source line it starts at.
        case code(String, line: Int)
    }
    /// The cells in order.
    public let cells: [Cell]

    /// Splits `text` (a tutorial's main.swift).
    public init(_ text: String) {
        var cells: [Cell] = []
        var prose: [String] = [], code: [String] = [], codeStart = 1
        func flushProse() {
            if !prose.isEmpty { cells.append(.markdown(prose.joined(separator: "\n"))) }
            prose = []
        }
        func flushCode() {
            while code.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { code.removeLast() }
            var leading = 0
            while leading < code.count && code[leading].trimmingCharacters(in: .whitespaces).isEmpty { leading += 1 }
            if leading < code.count { cells.append(.code(code[leading...].joined(separator: "\n"), line: codeStart + leading)) }
            code = []
        }
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).enumerated() {
            if line.hasPrefix("//") && !line.hasPrefix("///") {
                flushCode()
                var body = line.dropFirst(2)
                if body.hasPrefix(" ") { body = body.dropFirst() }
                prose.append(String(body))
            } else {
                if !prose.isEmpty { flushProse() }
                if code.isEmpty { codeStart = i + 1 }
                code.append(line)
            }
        }
        flushCode()
        flushProse()
        self.cells = cells
    }

    /// The code cells, in order.
    public var codeCells: [String] { cells.compactMap { if case let .code(c, _) = $0 { return c }; return nil } }

    /// The source with a `NotebookMarker.cell(k)` call before each code cell (after its imports,
    /// which must stay first), and `import OnsagerCommandLine` added when missing.
    public func instrumented() -> String {
        var out: [String] = [], k = 0
        var importsCommandLine = false
        for cell in cells {
            switch cell {
            case let .markdown(text):
                out += text.split(separator: "\n", omittingEmptySubsequences: false).map { "// " + $0 }
            case let .code(text, _):
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                var firstStatement = 0
                while firstStatement < lines.count && (lines[firstStatement].hasPrefix("import ") || lines[firstStatement].hasPrefix("@preconcurrency import")
                                                      || lines[firstStatement].trimmingCharacters(in: .whitespaces).isEmpty) {
                    if lines[firstStatement] == "import OnsagerCommandLine" { importsCommandLine = true }
                    firstStatement += 1
                }
                if k == 0 && !importsCommandLine && lines.contains(where: { $0.hasPrefix("import ") }) {
                    lines.insert("import OnsagerCommandLine", at: firstStatement)
                    importsCommandLine = true
                    firstStatement += 1
                }
                lines.insert("NotebookMarker.cell(\(k))", at: firstStatement)
                out += lines
                k += 1
            }
        }
        return out.joined(separator: "\n") + "\n"
    }
}
