import OnsagerCore
import Foundation

/// A small SVG line plot: several named series, linear or log axes with round ticks, and a
/// legend placed in a corner where it hides no data (or outside, to the right, when every
/// corner has some).
///
/// ```swift
/// var plot = LinePlot(title: "loss", xLabel: "step", yLabel: "loss")
/// plot.add("train", x: steps, y: losses)
/// try plot.write(to: URL(fileURLWithPath: "loss.svg"))
/// ```
public struct LinePlot {
    /// One named curve.
    public struct Series {
        /// The legend label.
        public var name: String
        /// x coordinates.
        public var x: [Double]
        /// y coordinates (as many as x).
        public var y: [Double]
        /// Drawn dashed.
        public var dashed: Bool
        /// Points marked.
        public var markers: Bool
        /// A shaded band around the curve (spread over repeats, an error band), if any.
        public var band: (lower: [Double], upper: [Double])?
    }

    /// Title above the plot.
    public var title: String
    /// Label of the horizontal axis.
    public var xLabel: String
    /// Label of the vertical axis.
    public var yLabel: String
    /// Logarithmic horizontal axis.
    public var logX = false
    /// Logarithmic vertical axis.
    public var logY = false
    /// Width of the figure in SVG units.
    public var width = 640.0
    /// Height of the figure in SVG units.
    public var height = 420.0
    /// The curves, in the order added.
    public private(set) var series: [Series] = []

    /// An empty plot with a title and axis labels.
    public init(title: String, xLabel: String, yLabel: String, logX: Bool = false, logY: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logX = logX
        self.logY = logY
    }

    /// Adds a curve; x and y must have the same length. Non-finite points are skipped; on a log
    /// axis, points ≤ 0 cannot be drawn and the legend says how many were left out. With `band`,
    /// the region between `lower` and `upper` is shaded in the curve's colour (an error band or
    /// the spread over repeats).
    public mutating func add(_ name: String, x: [Double], y: [Double], dashed: Bool = false, markers: Bool = false,
                             band: (lower: [Double], upper: [Double])? = nil) {
        check(x.count == y.count, "LinePlot.add: \(x.count) x values but \(y.count) y values for '\(name)'")
        if let band { check(band.lower.count == x.count && band.upper.count == x.count, "LinePlot.add: the band of '\(name)' needs \(x.count) lower and upper values") }
        series.append(Series(name: name, x: x, y: y, dashed: dashed, markers: markers, band: band))
    }

    /// Ten distinct colours (matplotlib's tab10); an eleventh series and later repeat them dashed.
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

    /// The SVG document.
    public func svg() -> String {
        let left = 70.0, right = 20.0, top = 40.0, bottom = 55.0
        let pw = width - left - right, ph = height - top - bottom
        func tx(_ v: Double) -> Double { logX ? Foundation.log10(v) : v }
        func ty(_ v: Double) -> Double { logY ? Foundation.log10(v) : v }
        let bandPoints = series.flatMap { s in s.band.map { b in zip(s.x, b.lower).map { $0 } + zip(s.x, b.upper).map { $0 } } ?? [] }
        let pts = (series.flatMap { s in zip(s.x, s.y).map { $0 } } + bandPoints).filter { $0.0.isFinite && $0.1.isFinite && (!logX || $0.0 > 0) && (!logY || $0.1 > 0) }
        var x0 = pts.map { tx($0.0) }.min() ?? 0, x1 = pts.map { tx($0.0) }.max() ?? 1
        var y0 = pts.map { ty($0.1) }.min() ?? 0, y1 = pts.map { ty($0.1) }.max() ?? 1
        if x1 - x0 < 1e-12 { x0 -= 0.5; x1 += 0.5 }
        if y1 - y0 < 1e-12 { y0 -= 0.5; y1 += 0.5 }
        let pad = (y1 - y0) * 0.05
        // Padding never pushes a non-negative quantity (an error rate, a time) below zero, nor a
        // non-positive one (a log-likelihood) above it: no axis shows values the data cannot take.
        y0 = !logY && y0 >= 0 ? Swift.max(0, y0 - pad) : y0 - pad
        y1 = !logY && y1 <= 0 ? Swift.min(0, y1 + pad) : y1 + pad
        // Round ticks: a linear axis widens to its outermost ticks; a log axis keeps its range.
        var xTicks: [Double], yTicks: [Double]
        if logX { xTicks = AxisTicks.logarithmic(x0, x1) } else { let t = AxisTicks.linear(x0, x1); (x0, x1, xTicks) = (t.lo, t.hi, t.ticks) }
        if logY { yTicks = AxisTicks.logarithmic(y0, y1) } else { let t = AxisTicks.linear(y0, y1); (y0, y1, yTicks) = (t.lo, t.hi, t.ticks) }
        func px(_ v: Double) -> Double { left + (tx(v) - x0) / (x1 - x0) * pw }
        func py(_ v: Double) -> Double { top + ph - (ty(v) - y0) / (y1 - y0) * ph }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func label(_ v: Double) -> String { String(format: "%g", v) }     // round ticks print as "0.02", "5", "1e-05"
        // The legend goes in the inside corner that hides no data, or outside on the right.
        let hiddenNote = 22   // room for " (n points ≤ 0 not shown)"
        let legendW = 40 + 7.0 * Double(series.map { $0.name.count + ((logX || logY) && $0.y.contains { $0 <= 0 } ? hiddenNote : 0) }.max() ?? 0)
        let legendH = 8 + 16 * Double(series.count)
        let samples: [(Double, Double)] = series.flatMap { se -> [(Double, Double)] in
            let ok = zip(se.x, se.y).filter { $0.0.isFinite && $0.1.isFinite && (!logX || $0.0 > 0) && (!logY || $0.1 > 0) }.map { (px($0.0), py($0.1)) }
            guard ok.count > 1 else { return ok }
            return (1..<ok.count).flatMap { i in (0...20).map { k -> (Double, Double) in
                let t = Double(k) / 20
                return (ok[i - 1].0 + t * (ok[i].0 - ok[i - 1].0), ok[i - 1].1 + t * (ok[i].1 - ok[i - 1].1))
            } }
        }
        let corners = [(left + pw - legendW - 6, top + 6), (left + 6, top + 6), (left + pw - legendW - 6, top + ph - legendH - 6), (left + 6, top + ph - legendH - 6)]
        let free = corners.first { c in !samples.contains { $0.0 >= c.0 - 4 && $0.0 <= c.0 + legendW + 4 && $0.1 >= c.1 - 4 && $0.1 <= c.1 + legendH + 4 } }
        let legendOrigin = free ?? (left + pw + 14, top)
        let totalWidth = free == nil && !series.isEmpty ? width + legendW + 14 : width
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(totalWidth))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        // Centred on the whole picture (legend included); a title wider than it (about 0.56 em per
        // character) gets a smaller font instead of being cut at both edges.
        let titleSize = Swift.min(15, ((totalWidth - 16) / (0.56 * Double(Swift.max(1, title.count))) * 10).rounded(.down) / 10)
        s += "<text x=\"\(f(totalWidth / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"\(f(titleSize))\">\(escape(title))</text>\n"
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#444\"/>\n"
        for v in xTicks {
            let X = px(v)
            s += "<line x1=\"\(f(X))\" y1=\"\(f(top))\" x2=\"\(f(X))\" y2=\"\(f(top + ph))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(f(X))\" y=\"\(f(top + ph + 16))\" text-anchor=\"middle\">\(label(v))</text>\n"
        }
        for w in yTicks {
            let Y = py(w)
            s += "<line x1=\"\(f(left))\" y1=\"\(f(Y))\" x2=\"\(f(left + pw))\" y2=\"\(f(Y))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(Y + 4))\" text-anchor=\"end\">\(label(w))</text>\n"
        }
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        s += "<text transform=\"translate(16,\(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        var legend: [(color: String, dashed: Bool, name: String, marker: Int?, band: Bool)] = []
        for (i, se) in series.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            let dashed = se.dashed || (i / Self.palette.count) % 2 == 1
            func drawable(_ p: (Double, Double)) -> Bool { p.0.isFinite && p.1.isFinite && (!logX || p.0 > 0) && (!logY || p.1 > 0) }
            let ok = zip(se.x, se.y).filter(drawable)
            if let band = se.band {
                let upper = zip(se.x, band.upper).filter(drawable), lower = zip(se.x, band.lower).filter(drawable).reversed()
                let outline = (upper + lower).map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
                s += "<polygon class=\"band\" fill=\"\(color)\" fill-opacity=\"0.18\" stroke=\"none\" points=\"\(outline)\"/>\n"
            }
            let path = ok.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dashed ? " stroke-dasharray=\"6,4\"" : "") points=\"\(path)\"/>\n"
            // Marker shapes differ between series as well as colours, so curves that coincide stay
            // distinguishable (and readable without colour).
            if se.markers { for p in ok { s += Self.marker(i, x: px(p.0), y: py(p.1), color: color, f: f) } }
            let hidden = zip(se.x, se.y).filter { $0.0.isFinite && $0.1.isFinite && !drawable($0) }.count
            legend.append((color, dashed, se.name + (hidden > 0 ? " (\(hidden) point\(hidden == 1 ? "" : "s") ≤ 0 not shown)" : ""),
                           se.markers ? i : nil, se.band != nil))
        }
        // Legend: a framed box sized to its longest label.
        if !legend.isEmpty {
            let (x0, y0) = legendOrigin
            s += "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(legendW))\" height=\"\(f(legendH))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n"
            for (i, item) in legend.enumerated() {
                let ly = y0 + 16 + Double(i) * 16
                if item.band { s += "<rect x=\"\(f(x0 + 6))\" y=\"\(f(ly - 9))\" width=\"24\" height=\"10\" fill=\"\(item.color)\" fill-opacity=\"0.18\"/>\n" }
                s += "<line x1=\"\(f(x0 + 6))\" y1=\"\(f(ly - 4))\" x2=\"\(f(x0 + 30))\" y2=\"\(f(ly - 4))\" stroke=\"\(item.color)\" stroke-width=\"2\"\(item.dashed ? " stroke-dasharray=\"6,4\"" : "")/>\n"
                if let m = item.marker { s += Self.marker(m, x: x0 + 18, y: ly - 4, color: item.color, f: f) }
                s += "<text x=\"\(f(x0 + 36))\" y=\"\(f(ly))\">\(escape(item.name))</text>\n"
            }
        }
        return s + "</svg>\n"
    }

    /// Series i's marker: circle, square, triangle, diamond, then again.
    static func marker(_ i: Int, x: Double, y: Double, color: String, f: (Double) -> String) -> String {
        switch i % 4 {
        case 0: return "<circle class=\"marker\" cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"3\" fill=\"\(color)\"/>\n"
        case 1: return "<rect class=\"marker\" x=\"\(f(x - 3))\" y=\"\(f(y - 3))\" width=\"6\" height=\"6\" fill=\"\(color)\"/>\n"
        case 2: return "<polygon class=\"marker\" points=\"\(f(x)),\(f(y - 4)) \(f(x - 4)),\(f(y + 3)) \(f(x + 4)),\(f(y + 3))\" fill=\"\(color)\"/>\n"
        default: return "<polygon class=\"marker\" points=\"\(f(x)),\(f(y - 4)) \(f(x + 4)),\(f(y)) \(f(x)),\(f(y + 4)) \(f(x - 4)),\(f(y))\" fill=\"\(color)\"/>\n"
        }
    }

    /// Writes the SVG atomically (temporary file, then rename), creating the folder if needed.
    public func write(to url: URL) throws { try AtomicFile.write(svg(), to: url) }
}

func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
}
