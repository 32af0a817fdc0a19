import Foundation
import Testing
import Onsager
import OnsagerCommandLine

/// Tutorials as notebooks: cells follow the prose, outputs and figures belong to the cell that
/// produced them (by the markers the instrumented copy prints), and the two renderings hold them.
@Suite struct NotebookTests {
    static let tutorial = """
    // # Tutorial 99 — A test
    //
    // Some *prose* with `code`.

    import Foundation
    import Onsager

    let x = 1
    print("first")
    // ## 2. Second
    // - a list item
    /// A documentation comment stays with its function.
    func f() {
        // an indented comment stays in its code cell
        print("inside")
    }
    f()
    """

    @Test func cellsFollowTheProseAndTheCopyIsInstrumented() {
        let s = NotebookSource(Self.tutorial)
        #expect(s.cells.count == 4)
        guard case let .code(first, line) = s.cells[1], case let .markdown(second) = s.cells[2] else { Issue.record("cells: \(s.cells)"); return }
        #expect(first.hasPrefix("import Foundation") && line == 5 && second.hasPrefix("## 2. Second"))
        #expect(s.codeCells[1].contains("// an indented comment stays in its code cell"))
        #expect(s.codeCells[1].hasPrefix("/// A documentation comment stays with its function.\nfunc f() {"))
        let copy = s.instrumented()
        let lines = copy.split(separator: "\n").map(String.init)
        // The marker follows the imports (which must stay first), and OnsagerCommandLine is imported.
        #expect(lines.firstIndex(of: "NotebookMarker.cell(0)")! > lines.firstIndex(of: "import Onsager")!)
        #expect(lines.contains("import OnsagerCommandLine") && lines.contains("NotebookMarker.cell(1)"))
        #expect(NotebookSource(copy).codeCells.count == 2)
    }

    @Test func outputsAndFiguresBelongToTheirCells() throws {
        let p = NotebookMarker.prefix
        let stdout = "\(p)0 100.0\nfirst\n\(p)1 101.5\ninside\nkey result: 42 nats\n"
        var run = NotebookRun(stdout: stdout, end: 104, machine: "test CPU")
        run.attach(files: [("a.svg", 100.5), ("b.svg", 103.0)])
        #expect(run.outputs[0] == ["first"] && run.outputs[1] == ["inside", "key result: 42 nats"])
        #expect(run.figures[0] == ["a.svg"] && run.figures[1] == ["b.svg"])
        #expect(run.seconds(ofCell: 0) == 1.5 && run.seconds(ofCell: 1) == 2.5 && run.keyResult == "42 nats")
        let svg = "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>"
        let page = NotebookPage(name: "99-test", source: NotebookSource(Self.tutorial), run: run, figures: ["a.svg": svg, "b.svg": svg])
        #expect(page.title == "Tutorial 99 — A test")
        let html = page.html()
        #expect(html.contains("<h1>Tutorial 99 — A test</h1>") && html.contains("<em>prose</em>") && html.contains("<code>code</code>"))
        #expect(html.contains("<li>a list item</li>") && !html.contains("<?xml"))
        // Output and figure sit inside their own cell's block.
        let cell0 = html.range(of: "id=\"cell-0\"")!, cell1 = html.range(of: "id=\"cell-1\"")!
        #expect(html.range(of: "first")!.lowerBound > cell0.lowerBound && html.range(of: "first")!.lowerBound < cell1.lowerBound)
        #expect(html.range(of: "data-file=\"b.svg\"")!.lowerBound > cell1.lowerBound)
        // nbformat 4.5: ids, markdown and code cells, stream and svg outputs.
        let nb = try JSONSerialization.jsonObject(with: page.ipynb()) as! [String: Any]
        #expect(nb["nbformat"] as? Int == 4 && nb["nbformat_minor"] as? Int == 5)
        let cells = nb["cells"] as! [[String: Any]]
        #expect(cells.map { $0["cell_type"] as! String } == ["markdown", "code", "markdown", "code"] && Set(cells.map { $0["id"] as! String }).count == 4)
        let outputs = cells[3]["outputs"] as! [[String: Any]]
        #expect(outputs.map { $0["output_type"] as! String } == ["stream", "display_data"])
        #expect(((outputs[1]["data"] as! [String: Any])["image/svg+xml"] as! [String]).joined().hasPrefix("<?xml"))
    }

    @Test func markdownSubset() {
        let html = Markdown.html("# Title\n\ntext with **bold** and <tags>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n- one\n- two\n  continued")
        #expect(html.contains("<h1>Title</h1>") && html.contains("<strong>bold</strong>") && html.contains("&lt;tags&gt;"))
        #expect(html.contains("<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"))
        #expect(html.contains("<li>two continued</li>"))
    }

    @Test func texBecomesMathML() {
        // Scripts attach to the atom before them; a large operator takes its limits under and over.
        #expect(TeXMath.mathML("e^{-\\beta E}") == "<math><mrow><msup><mi>e</mi><mrow><mo>−</mo><mi>β</mi><mi>E</mi></mrow></msup></mrow></math>")
        #expect(TeXMath.mathML("x_i^2") == "<math><mrow><msubsup><mi>x</mi><mi>i</mi><mn>2</mn></msubsup></mrow></math>")
        let sum = TeXMath.mathML("\\sum_{i=1}^{N} \\frac{\\partial \\ln Z}{\\partial \\beta}", display: true)
        #expect(sum.hasPrefix("<math display=\"block\" displaystyle=\"true\">") && sum.contains("<munderover><mo largeop=\"true\" movablelimits=\"true\">∑</mo>"))
        #expect(sum.contains("<mfrac><mrow><mo>∂</mo><mi>ln</mi><mi>Z</mi></mrow>"))
        #expect(TeXMath.mathML("\\hat{m} \\le 1") == "<math><mrow><mover accent=\"true\"><mi>m</mi><mo>^</mo></mover><mo>≤</mo><mn>1</mn></mrow></math>")
        #expect(TeXMath.mathML("a < b") .contains("<mo>&lt;</mo>"))
        // Outside the subset: a visible error naming the command, and the command is reported.
        #expect(TeXMath.mathML("\\foo x").contains("<merror><mtext>\\foo</mtext></merror>"))
        #expect(TeXMath.unsupportedCommands(in: "\\foo + \\alpha + \\bar{x} + \\baz") == ["\\foo", "\\baz"])
    }

    @Test func mathInProseFollowsPandocsDollarRule() {
        let html = Markdown.html("energy $E = -v^T W h$ costs $5 and $6, and `$x$` stays code\n\n$$Z = \\sum_v e^{-E(v)}$$")
        #expect(html.contains("<p>energy <math><mrow><mi>E</mi><mo>=</mo><mo>−</mo><msup><mi>v</mi><mi>T</mi></msup>"))
        #expect(html.contains(" costs $5 and $6, and <code>$x$</code> stays code</p>"))
        #expect(html.contains("<math display=\"block\" displaystyle=\"true\"><mrow><mi>Z</mi><mo>=</mo><munder>"))
        // The ipynb keeps the TeX for Jupyter's own renderer.
        let source = NotebookSource("// intro $a^2$\nlet x = 1\n")
        #expect(source.cells.contains { if case let .markdown(t) = $0 { return t.contains("$a^2$") } else { return false } })
    }

    @Test func everyFormulaInTheTutorialsTypesets() throws {
        let tutorials = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Tutorials").standardizedFileURL
        let names = try FileManager.default.contentsOfDirectory(atPath: tutorials.path).filter { $0.first?.isNumber == true }.sorted()
        #expect(names.count >= 9)
        var formulas = 0
        for name in names {
            let text = try String(contentsOf: tutorials.appendingPathComponent("\(name)/main.swift"), encoding: .utf8)
            for case let .markdown(prose) in NotebookSource(text).cells {
                let html = Markdown.html(prose)
                formulas += html.components(separatedBy: "<math").count - 1
                #expect(!html.contains("<merror>"), "\(name): a formula outside TeXMath's subset")
            }
        }
        #expect(formulas >= 10)
    }
}
