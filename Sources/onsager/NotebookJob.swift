import Foundation
import Onsager
import OnsagerCommandLine

/// `onsager notebook NAME`: runs tutorial NAME as a notebook — a copy of its source with a marker
/// before every code cell, built as a package of its own under .build/notebooks — and writes
/// NAME.html and NAME.ipynb next to its figures, then the index of every rendered tutorial.
func runNotebook(name: String, arguments: [String]) -> Bool {
    let fm = FileManager.default, root = URL(fileURLWithPath: fm.currentDirectoryPath)
    let sourceURL = root.appendingPathComponent("Tutorials/\(name)/main.swift")
    guard let text = try? String(contentsOf: sourceURL, encoding: .utf8) else {
        let available = (try? fm.contentsOfDirectory(atPath: root.appendingPathComponent("Tutorials").path))?.filter { $0.first?.isNumber == true }.sorted() ?? []
        FileHandle.standardError.write(Data("onsager notebook: no tutorial '\(name)' under \(root.path)/Tutorials (run from the repository root); available: \(available.joined(separator: ", "))\n".utf8))
        return false
    }
    let source = NotebookSource(text)
    // One package holds every tutorial's instrumented copy as its own executable target, so the
    // release build of Onsager is shared: a second notebook compiles only its tutorial.
    let work = root.appendingPathComponent(".build/notebooks")
    let product = "nb_" + name.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    do {
        let sources = work.appendingPathComponent("Sources")
        try fm.createDirectory(at: sources.appendingPathComponent(product), withIntermediateDirectories: true)
        let link = work.appendingPathComponent("onsager")
        if (try? fm.destinationOfSymbolicLink(atPath: link.path)) == nil { try fm.createSymbolicLink(at: link, withDestinationURL: root) }
        try AtomicFile.write(source.instrumented(), to: sources.appendingPathComponent("\(product)/main.swift"))
        let targets = ((try? fm.contentsOfDirectory(atPath: sources.path)) ?? []).filter { $0.hasPrefix("nb_") }.sorted()
        let manifest = """
        // swift-tools-version:6.0
        import PackageDescription
        let dependencies: [Target.Dependency] = [.product(name: "Onsager", package: "onsager"), .product(name: "OnsagerCommandLine", package: "onsager")]
        let package = Package(name: "onsager-notebooks", dependencies: [.package(path: "onsager")],
            targets: [\(targets.map { ".executableTarget(name: \"\($0)\", dependencies: dependencies)" }.joined(separator: ",\n        "))])

        """
        // Rewritten only when the set of tutorials changes: an unchanged manifest keeps the build plan.
        let manifestURL = work.appendingPathComponent("Package.swift")
        if (try? String(contentsOf: manifestURL, encoding: .utf8)) != manifest { try AtomicFile.write(manifest, to: manifestURL) }
    } catch {
        FileHandle.standardError.write(Data("onsager notebook: cannot prepare \(work.path): \(error)\n".utf8))
        return false
    }
    print("building the notebook copy of \(name) (release)…")
    guard shell(["swift", "build", "-c", "release", "--package-path", work.path, "--product", product], environment: [:]).status == 0 else {
        FileHandle.standardError.write(Data("onsager notebook: the instrumented copy did not build (see above)\n".utf8))
        return false
    }
    let output = work.appendingPathComponent("output/\(product)")
    try? fm.removeItem(at: output)
    // A tutorial that keeps resumable results under runs/ (03, 08) shares them with its plain runs:
    // a notebook render reuses finished work and leaves its own for the next run.
    let runs = OutputFolder.url(name).appendingPathComponent("runs")
    let sharesRuns = fm.fileExists(atPath: runs.path)
    if sharesRuns {
        try? fm.createDirectory(at: output.appendingPathComponent(name), withIntermediateDirectories: true)
        try? fm.createSymbolicLink(atPath: output.appendingPathComponent("\(name)/runs").path, withDestinationPath: runs.absoluteURL.path)
    }
    let started = Date()
    print("running \(name)…")
    let binary = work.appendingPathComponent(".build/release/\(product)").path
    let result = shell([binary] + arguments, environment: ["ONSAGER_OUTPUT": output.path])
    var run = NotebookRun(stdout: result.stdout, end: Date().timeIntervalSince1970, date: started, machine: MachineDescription.current)
    run.arguments = arguments
    let figureDir = output.appendingPathComponent(name)
    let files = ((try? fm.contentsOfDirectory(atPath: figureDir.path)) ?? []).filter { $0.hasSuffix(".svg") }
    run.attach(files: files.compactMap { f in
        (try? fm.attributesOfItem(atPath: figureDir.appendingPathComponent(f).path)[.modificationDate] as? Date).map { (f, $0.timeIntervalSince1970) }
    })
    var figures: [String: String] = [:]
    for f in files { figures[f] = try? String(contentsOf: figureDir.appendingPathComponent(f), encoding: .utf8) }
    let page = NotebookPage(name: name, source: source, run: run, figures: figures)
    let destination = OutputFolder.url(name)
    do {
        try AtomicFile.write(page.html(), to: destination.appendingPathComponent("\(name).html"))
        try AtomicFile.write(try page.ipynb(), to: destination.appendingPathComponent("\(name).ipynb"))
        for (f, svg) in figures { try AtomicFile.write(svg, to: destination.appendingPathComponent(f)) }
        let record: [String: Any] = ["name": name, "title": page.title, "seconds": page.seconds, "date": ISO8601DateFormatter().string(from: started),
                                     "machine": run.machine, "keyResult": run.keyResult ?? "", "sourceHash": sourceHash(text), "status": Int(result.status),
                                     "arguments": arguments, "storedRuns": sharesRuns]
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), to: destination.appendingPathComponent("notebook.json"))
        try writeNotebookIndex(root: root)
    } catch {
        FileHandle.standardError.write(Data("onsager notebook: cannot write the pages: \(error)\n".utf8))
        return false
    }
    print("wrote \(destination.path)/\(name).html and \(name).ipynb (\(String(format: "%.0f", page.seconds)) s, exit status \(result.status))")
    return result.status == 0
}

/// The index of every rendered tutorial: title, key result, run time, and whether the page is
/// stale (the tutorial's source changed since it was rendered).
func writeNotebookIndex(root: URL) throws {
    let fm = FileManager.default, base = OutputFolder.url("")
    var rows: [String] = []
    for dir in ((try? fm.contentsOfDirectory(atPath: base.path)) ?? []).sorted() {
        guard let data = fm.contents(atPath: base.appendingPathComponent("\(dir)/notebook.json").path),
              let r = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let name = r["name"] as? String else { continue }
        let current = (try? String(contentsOf: root.appendingPathComponent("Tutorials/\(name)/main.swift"), encoding: .utf8)).map(sourceHash)
        let stale = current != (r["sourceHash"] as? String)
        rows.append("<tr><td><a href=\"\(name)/\(name).html\">\(Markdown.escape(r["title"] as? String ?? name))</a> · <a href=\"\(name)/\(name).ipynb\">ipynb</a></td>"
                    + "<td>\(Markdown.escape(r["keyResult"] as? String ?? ""))</td><td>\(String(format: "%.0f", r["seconds"] as? Double ?? 0)) s"
                    + "\(r["storedRuns"] as? Bool == true ? " (finished runs reused from runs/)" : "")"
                    + "\((r["arguments"] as? [String]).map { $0.isEmpty ? "" : "<br><code>-- " + Markdown.escape($0.joined(separator: " ")) + "</code>" } ?? "")</td>"
                    + "<td>\(Markdown.escape(r["date"] as? String ?? ""))\(stale ? " <strong>(stale: the source changed)</strong>" : "")</td></tr>")
    }
    try AtomicFile.write("""
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><title>Onsager tutorials</title>
    <style>body { font-family: sans-serif; max-width: 60rem; margin: 2rem auto; } td, th { border-bottom: 1px solid #ddd; padding: .3rem .6rem; text-align: left; }</style></head>
    <body><h1>Onsager tutorials</h1>
    <table><tr><th>tutorial</th><th>key result</th><th>run time</th><th>rendered</th></tr>
    \(rows.joined(separator: "\n"))
    </table></body></html>

    """, to: base.appendingPathComponent("index.html"))
}

/// FNV-1a (64-bit) of the text, hex: enough to notice that a tutorial changed.
func sourceHash(_ text: String) -> String {
    var h: UInt64 = 0xcbf29ce484222325
    for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
    return String(h, radix: 16)
}

/// Runs a command, returns its exit status and standard output (echoed as it arrives, markers removed).
func shell(_ command: [String], environment: [String: String]) -> (status: Int32, stdout: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = command
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    var collected = Data()
    do { try process.run() } catch { return (127, "") }
    while true {
        let chunk = pipe.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        collected.append(chunk)
        // Echo what the tutorial prints, without the marker lines (a marker split across two
        // chunks would show; they are written and flushed whole, so in practice they are not).
        let text = String(decoding: chunk, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix(NotebookMarker.prefix) }.joined(separator: "\n")
        FileHandle.standardOutput.write(Data(text.utf8))
    }
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: collected, as: UTF8.self))
}
