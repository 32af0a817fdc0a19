import Foundation
import Testing
import OnsagerCore
@testable import OnsagerPlot

/// Plots are for readers: tick values are round.
@Suite struct PlotTests {
    /// Bands are shaded and widen the axis to hold them; points a log axis cannot show are counted
    /// in the legend; series with markers get different shapes; nothing lies outside the canvas.
    @Test func bandsHiddenPointsMarkersAndBounds() {
        var plot = LinePlot(title: "t", xLabel: "x", yLabel: "y", logY: true)
        plot.add("mean", x: [1, 2, 3], y: [1, 2, 3], markers: true, band: (lower: [0.5, 1.5, 2.5], upper: [10, 20, 30]))
        plot.add("other", x: [1, 2, 3], y: [0, 2, -1], markers: true)
        let svg = plot.svg()
        #expect(svg.contains("class=\"band\"") && svg.contains("other (2 points ≤ 0 not shown)"))
        #expect(svg.contains("<circle class=\"marker\"") && svg.contains("<rect class=\"marker\""))
        // The band's top (30) is inside the plotted range: a tick at or above it exists.
        let ticks = svg.split(separator: "\n").filter { $0.contains("text-anchor=\"end\"") }.compactMap { line -> Double? in
            guard let close = line.range(of: "</text>"), let open = line[..<close.lowerBound].lastIndex(of: ">") else { return nil }
            return Double(line[line.index(after: open)..<close.lowerBound])
        }
        #expect(ticks.contains { $0 >= 10 }, "y ticks \(ticks)")
        // Every coordinate lies on the canvas.
        let width = Double(svg.split(separator: "width=\"")[1].prefix { $0 != "\"" })!, height = plot.height
        for attribute in ["cx=\"", "cy=\"", "x1=\"", "y1=\"", "x=\""] {
            for part in svg.components(separatedBy: attribute).dropFirst() {
                let v = Double(part.prefix { $0 != "\"" })!
                #expect(v >= 0 && v <= Swift.max(width, height), "\(attribute)\(v) outside the canvas")
            }
        }
    }

    /// A long title over a small image grid widens the canvas instead of being cut off.
    @Test func imageGridTitleFits() {
        let grid = ImageGrid(images: Tensor<Float>.zeros([4, 64]), height: 8, width: 8, columns: 4)
        let title = String(repeating: "x", count: 60)
        let svg = grid.svg(title: title)
        let width = Int(svg.split(separator: "width=\"")[1].prefix { $0 != "\"" })!
        #expect(width >= 60 * 8 && grid.pixelWidth * 3 < width, "canvas \(width)")
        #expect(svg.contains("x=\"\((width - grid.pixelWidth * 3) / 2)\" y=\"30\""))
    }

    /// A line plot's title longer than the picture gets a smaller font, centred on the whole
    /// picture (outside legend included), instead of being cut at both edges.
    @Test func longLinePlotTitlesFit() {
        var p = LinePlot(title: String(repeating: "x", count: 200), xLabel: "x", yLabel: "y")
        p.add("a", x: [0, 1], y: [0, 1])
        let svg = p.svg()
        let width = Double(svg.split(separator: "width=\"")[1].prefix { $0 != "\"" })!
        let title = svg.split(separator: "\n").first { $0.hasPrefix("<text") && $0.contains("xxxx") }!
        let size = Double(title.split(separator: "font-size=\"")[1].prefix { $0 != "\"" })!
        let x = Double(title.split(separator: "x=\"")[1].prefix { $0 != "\"" })!
        #expect(size < 15 && 0.56 * size * 200 <= width - 16 + 1e-6, "font \(size) for a \(width)-wide picture")
        #expect(Swift.abs(x - width / 2) < 0.1)
        var short = LinePlot(title: "t", xLabel: "x", yLabel: "y")
        short.add("a", x: [0, 1], y: [0, 1])
        #expect(short.svg().contains("font-size=\"15.0\">t</text>"))
    }

    @Test func linearTicksAreRoundAndEncloseTheData() {
        for (lo, hi) in [(1.0, 5.0), (0.0103, 0.0338), (-3.7, 12.2), (0.5, 0.5000001), (1e-5, 9e-5)] {
            let t = AxisTicks.linear(lo, hi)
            #expect(t.lo <= lo && t.hi >= hi && (3...11).contains(t.ticks.count), "\(lo)…\(hi): \(t)")
            let step = t.ticks[1] - t.ticks[0]
            let mantissa = step / pow(10, floor(log10(step)))
            #expect([1, 2, 5, 10].contains { abs(mantissa - $0) < 1e-6 }, "\(lo)…\(hi): step \(step)")
            #expect(t.ticks.allSatisfy { String(format: "%g", $0).count <= 7 }, "\(t.ticks)")
        }
    }

    /// A non-negative quantity (an error rate) gets no negative tick, a non-positive one (a
    /// log-likelihood) no positive tick; a series crossing zero keeps its padding on both sides.
    @Test func axisNeverShowsImpossibleSigns() {
        func yTickLabels(_ y: [Double]) -> [Double] {
            var plot = LinePlot(title: "t", xLabel: "x", yLabel: "y")
            plot.add("s", x: y.indices.map(Double.init), y: y)
            return plot.svg().split(separator: "\n").filter { $0.contains("text-anchor=\"end\"") }.compactMap { line in
                line.split(separator: ">").dropFirst().first.flatMap { Double($0.split(separator: "<")[0].replacingOccurrences(of: "−", with: "-")) }
            }
        }
        let errors = yTickLabels([9.2, 4.1, 2.0, 0.9, 0.35])
        #expect(!errors.isEmpty && errors.allSatisfy { $0 >= 0 }, "error-rate ticks \(errors)")
        let likelihoods = yTickLabels([-170, -131, -99, -2])
        #expect(!likelihoods.isEmpty && likelihoods.allSatisfy { $0 <= 0 }, "log-likelihood ticks \(likelihoods)")
        let crossing = yTickLabels([-0.3, 0.2, 1.0])
        #expect(crossing.min()! < -0.3 && crossing.max()! > 1.0, "ticks \(crossing)")
    }

    @Test func logTicksAreOneTwoFiveOrDecades() {
        let narrow = AxisTicks.logarithmic(log10(0.0103), log10(0.0338))
        #expect(narrow == [0.015, 0.02, 0.025, 0.03], "less than a decade: round linear steps")
        #expect(AxisTicks.logarithmic(-6, 2) == [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100])
        #expect(AxisTicks.logarithmic(log10(0.3), log10(40)) == [0.5, 1, 2, 5, 10, 20])
    }

    /// The legend never covers data: a free corner when there is one, else outside on the right.
    @Test func legendHidesNoData() throws {
        func legendX(_ p: LinePlot) throws -> Double {
            let svg = p.svg()
            let line = try #require(svg.split(separator: "\n").first { $0.contains("fill-opacity=\"0.85\"") })
            let x = line.split(separator: "\"")[1]
            return try #require(Double(x))
        }
        // Six series with long names make a legend of about 300 × 100 units.
        var rising = LinePlot(title: "t", xLabel: "x", yLabel: "y")
        for k in 0..<6 { rising.add("a rising series named at length \(k)", x: [0, 1, 2, 3], y: [0, 1, 2, 3].map { $0 + 0.01 * Double(k) }) }
        let risingX = try legendX(rising)
        #expect(risingX < 200, "top-left is free: \(risingX)")
        var everywhere = rising
        everywhere.add("a falling series with a long name", x: [0, 1, 2, 3], y: [3, 2, 1, 0])
        #expect(try legendX(everywhere) > 640 - 20 - 1, "no corner is free: outside")
        #expect(everywhere.svg().hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"925\""), "the figure widened to hold it")
    }

    /// Every series is told apart: ten colours, then the colours again, dashed.
    @Test func seriesAreDistinguishable() {
        var p = LinePlot(title: "t", xLabel: "x", yLabel: "y")
        for k in 0..<11 { p.add("s\(k)", x: [0, 1], y: [Double(k), Double(k) + 1]) }
        let lines = p.svg().split(separator: "\n").filter { $0.hasPrefix("<polyline") }
        let styles = lines.map { l in (l.split(separator: "\"")[3], l.contains("stroke-dasharray")) }
        #expect(Set(styles.prefix(10).map { String($0.0) }).count == 10 && styles.prefix(10).allSatisfy { !$0.1 })
        #expect(styles[10].0 == styles[0].0 && styles[10].1, "the eleventh repeats the first colour, dashed")
    }
}
