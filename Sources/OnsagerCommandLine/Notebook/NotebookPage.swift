import Foundation

/// A tutorial run rendered two ways: a self-contained HTML page (prose, code, each cell's output
/// under it, its figures inline, run date, machine and time per cell) and a Jupyter notebook
/// (nbformat 4.5: markdown cells, Swift code cells, stream and image/svg+xml outputs).
public struct NotebookPage {
    /// The tutorial's name (its folder).
    public let name: String
    /// Its cells.
    public let source: NotebookSource
    /// What the run printed and wrote.
    public let run: NotebookRun
    /// SVG text of each figure, by file name.
    public let figures: [String: String]

    /// A page from a source, a run and the figures' contents.
    public init(name: String, source: NotebookSource, run: NotebookRun, figures: [String: String]) {
        self.name = name
        self.source = source
        self.run = run
        self.figures = figures
    }

    /// The title: the first Markdown heading, else the name.
    public var title: String {
        for case let .markdown(text) in source.cells {
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("# ") }) { return String(line.dropFirst(2)) }
        }
        return name
    }

    /// Total wall time of the run.
    public var seconds: Double { run.end - (run.starts.values.min() ?? run.end) }

    /// The HTML page.
    public func html() -> String {
        var body: [String] = []
        var k = 0
        let stamp = ISO8601DateFormatter().string(from: run.date)
        body.append("<p class=\"meta\">Run \(stamp) on \(Markdown.escape(run.machine)); wall time \(String(format: "%.1f", seconds)) s. "
                    + "Rendered by <code>onsager notebook \(Markdown.escape(([name] + (run.arguments.isEmpty ? [] : ["--"] + run.arguments)).joined(separator: " ")))</code>.</p>")
        for cell in source.cells {
            switch cell {
            case let .markdown(text):
                body.append("<div class=\"prose\">" + Markdown.html(text) + "</div>")
            case let .code(text, line):
                var block = "<div class=\"cell\" id=\"cell-\(k)\"><div class=\"code-head\">In [\(k + 1)] · line \(line)"
                if let s = run.seconds(ofCell: k) { block += String(format: " · %.2f s", s) }
                block += "</div><pre class=\"code\">" + Markdown.escape(text) + "</pre>"
                if let out = run.outputs[k], !out.isEmpty { block += "<pre class=\"output\">" + Markdown.escape(out.joined(separator: "\n")) + "</pre>" }
                for f in run.figures[k] ?? [] {
                    if let svg = figures[f] { block += "<figure data-file=\"\(Markdown.escape(f))\">" + Self.inlineSVG(svg) + "<figcaption>\(Markdown.escape(f))</figcaption></figure>" }
                }
                body.append(block + "</div>")
                k += 1
            }
        }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(Markdown.escape(title))</title>
        <style>
        body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }
        pre { overflow-x: auto; padding: .6rem .8rem; border-radius: 4px; font-size: .85rem; }
        pre.code { background: #f4f6f8; border-left: 3px solid #4a78b5; }
        pre.output { background: #fff; border-left: 3px solid #aaa; color: #333; }
        .code-head { font-size: .75rem; color: #777; margin-top: 1rem; }
        .meta { color: #666; font-size: .85rem; }
        figure { margin: .5rem 0 1rem; } figure svg { max-width: 100%; height: auto; } figcaption { font-size: .75rem; color: #777; }
        math { font-size: 1.1em; } math[display="block"] { margin: .6rem 0; }
        table { border-collapse: collapse; margin: .5rem 0; } td, th { border: 1px solid #ccc; padding: .2rem .5rem; font-size: .85rem; }
        </style></head>
        <body data-expected-figures="\(run.figures.values.map(\.count).reduce(0, +))">
        \(body.joined(separator: "\n"))
        <script>
        // The page checks its own figures once loaded (the browser check reads the verdict): every
        // figure holds an SVG of non-zero size, embedded images are not empty, none is missing, and
        // no formula holds TeX the page could not typeset.
        window.addEventListener("load", function () {
          var problems = [], figures = document.querySelectorAll("figure");
          figures.forEach(function (f) {
            var svg = f.querySelector("svg");
            if (!svg) { problems.push("no svg in " + f.dataset.file); return; }
            var r = svg.getBoundingClientRect();
            if (r.width < 1 || r.height < 1) problems.push("zero size: " + f.dataset.file);
            svg.querySelectorAll("image").forEach(function (img) {
              var href = img.getAttribute("href") || "";
              if (href.length < 30) problems.push("empty image in " + f.dataset.file);
            });
          });
          document.querySelectorAll("merror").forEach(function (e) { problems.push("math the page cannot typeset: " + e.textContent); });
          var expected = parseInt(document.body.dataset.expectedFigures, 10);
          if (figures.length !== expected) problems.push(figures.length + " figures, expected " + expected);
          document.body.setAttribute("data-figure-check", problems.length ? "failed: " + problems.join("; ") : "ok " + figures.length);
          if (problems.length) console.error("figure check: " + problems.join("; "));
        });
        </script>
        </body></html>

        """
    }

    /// The notebook as nbformat 4.5 JSON.
    public func ipynb() throws -> Data {
        var cells: [[String: Any]] = [], k = 0, id = 0
        func lines(_ s: String) -> [String] {
            let parts = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            return parts.enumerated().map { $0.offset < parts.count - 1 ? $0.element + "\n" : $0.element }
        }
        for cell in source.cells {
            defer { id += 1 }
            switch cell {
            case let .markdown(text):
                cells.append(["cell_type": "markdown", "id": "cell-\(id)", "metadata": [String: Any](), "source": lines(text)])
            case let .code(text, _):
                var outputs: [[String: Any]] = []
                if let out = run.outputs[k], !out.isEmpty {
                    outputs.append(["output_type": "stream", "name": "stdout", "text": lines(out.joined(separator: "\n") + "\n")])
                }
                for f in run.figures[k] ?? [] {
                    guard let svg = figures[f] else { continue }
                    outputs.append(["output_type": "display_data", "metadata": [String: Any](),
                                    "data": ["image/svg+xml": lines(svg), "text/plain": ["<figure \(f)>"]]])
                }
                var meta: [String: Any] = [:]
                if let s = run.seconds(ofCell: k) { meta["onsager"] = ["seconds": (s * 1000).rounded() / 1000] }
                cells.append(["cell_type": "code", "id": "cell-\(id)", "metadata": meta, "source": lines(text), "execution_count": k + 1, "outputs": outputs])
                k += 1
            }
        }
        let notebook: [String: Any] = [
            "nbformat": 4, "nbformat_minor": 5, "cells": cells,
            "metadata": ["kernelspec": ["name": "swift", "display_name": "Swift", "language": "swift"],
                         "language_info": ["name": "swift", "file_extension": ".swift"],
                         "onsager": ["machine": run.machine, "arguments": run.arguments, "date": ISO8601DateFormatter().string(from: run.date), "seconds": (seconds * 10).rounded() / 10]],
        ]
        return try JSONSerialization.data(withJSONObject: notebook, options: [.prettyPrinted, .sortedKeys])
    }

    /// An SVG file's markup without its XML prolog, to sit inside HTML.
    static func inlineSVG(_ svg: String) -> String {
        guard let start = svg.range(of: "<svg") else { return "" }
        return String(svg[start.lowerBound...])
    }
}
