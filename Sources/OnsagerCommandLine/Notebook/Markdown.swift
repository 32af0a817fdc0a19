import Foundation

/// The small Markdown subset the tutorials' prose uses, to HTML: headings, paragraphs, "- " lists,
/// pipe tables, `code`, **bold** and *emphasis*, and TeX math (`$…$` inline, a line `$$…$$` as a
/// display; see ``TeXMath``). Everything else is escaped text.
public enum Markdown {
    /// HTML for `text`.
    public static func html(_ text: String) -> String {
        var out: [String] = [], paragraph: [String] = [], list: [String] = [], table: [String] = []
        func flush() {
            if !paragraph.isEmpty { out.append("<p>" + inline(paragraph.joined(separator: " ")) + "</p>") }
            if !list.isEmpty { out.append("<ul>" + list.map { "<li>" + inline($0) + "</li>" }.joined() + "</ul>") }
            if !table.isEmpty { out.append(tableHTML(table)) }
            paragraph = []; list = []; table = []
        }
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { flush(); continue }
            if line.count > 4, line.hasPrefix("$$"), line.hasSuffix("$$") {
                flush()
                out.append(TeXMath.mathML(String(line.dropFirst(2).dropLast(2)), display: true))
                continue
            }
            if let level = line.firstIndex(where: { $0 != "#" }).map({ line.distance(from: line.startIndex, to: $0) }), level > 0, level <= 4,
               line.dropFirst(level).hasPrefix(" ") {
                flush()
                out.append("<h\(level)>" + inline(String(line.dropFirst(level + 1))) + "</h\(level)>")
            } else if line.hasPrefix("|") {
                if !paragraph.isEmpty || !list.isEmpty { let t = table; table = []; flush(); table = t }
                table.append(line)
            } else if line.hasPrefix("- ") {
                if !paragraph.isEmpty || !table.isEmpty { flush() }
                list.append(String(line.dropFirst(2)))
            } else if !list.isEmpty && raw.hasPrefix("  ") {
                list[list.count - 1] += " " + line            // a list item's continuation line
            } else {
                if !list.isEmpty || !table.isEmpty { flush() }
                paragraph.append(line)
            }
        }
        flush()
        return out.joined(separator: "\n")
    }

    /// `<`, `>`, `&` and quotes escaped.
    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Inline markup: `code`, **bold**, *emphasis*, `$math$` (after escaping).
    static func inline(_ s: String) -> String {
        var out = "", i = s.startIndex
        let text = s
        while i < text.endIndex {
            let c = text[i]
            if c == "`", let close = text[text.index(after: i)...].firstIndex(of: "`") {
                out += "<code>" + escape(String(text[text.index(after: i)..<close])) + "</code>"
                i = text.index(after: close)
            } else if c == "$", let close = mathClose(text, after: i) {
                out += TeXMath.mathML(String(text[text.index(after: i)..<close]))
                i = text.index(after: close)
            } else if text[i...].hasPrefix("**"), let close = text[text.index(i, offsetBy: 2)...].range(of: "**") {
                out += "<strong>" + inline(String(text[text.index(i, offsetBy: 2)..<close.lowerBound])) + "</strong>"
                i = close.upperBound
            } else if c == "*", text.index(after: i) < text.endIndex, text[text.index(after: i)] != " ",
                      let close = text[text.index(after: i)...].firstIndex(of: "*") {
                out += "<em>" + inline(String(text[text.index(after: i)..<close])) + "</em>"
                i = text.index(after: close)
            } else {
                out += escape(String(c))
                i = text.index(after: i)
            }
        }
        return out
    }

    /// The `$` closing inline math opened at `open`, by Pandoc's rule: the opening `$` is followed
    /// by a non-space, the closing one follows a non-space and is not followed by a digit (so "$5
    /// and $6" stays text), and math never runs into a code span.
    static func mathClose(_ text: String, after open: String.Index) -> String.Index? {
        let start = text.index(after: open)
        guard start < text.endIndex, text[start] != " ", text[start] != "$" else { return nil }
        var j = start
        while let k = text[j...].firstIndex(where: { $0 == "$" || $0 == "`" }) {
            if text[k] == "`" { return nil }   // math never spans into a code span
            let next = text.index(after: k)
            if k > start, text[text.index(before: k)] != " ", text[text.index(before: k)] != "\\",
               next == text.endIndex || !text[next].isNumber { return k }
            j = next
            if j >= text.endIndex { break }
        }
        return nil
    }

    static func tableHTML(_ rows: [String]) -> String {
        func cells(_ row: String) -> [String] {
            row.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "|")).components(separatedBy: "|")
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let body = rows.filter { !$0.replacingOccurrences(of: "|", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "-: ")).isEmpty }
        guard let head = body.first else { return "" }
        return "<table><tr>" + cells(head).map { "<th>" + inline($0) + "</th>" }.joined() + "</tr>"
            + body.dropFirst().map { "<tr>" + cells($0).map { "<td>" + inline($0) + "</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }
}
