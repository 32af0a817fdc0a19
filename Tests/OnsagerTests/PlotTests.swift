import Foundation
import Testing
@testable import OnsagerPlot

/// Plots are for readers: tick values are round.
@Suite struct PlotTests {
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

    @Test func logTicksAreOneTwoFiveOrDecades() {
        let narrow = AxisTicks.logarithmic(log10(0.0103), log10(0.0338))
        #expect(narrow == [0.015, 0.02, 0.025, 0.03], "less than a decade: round linear steps")
        #expect(AxisTicks.logarithmic(-6, 2) == [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100])
        #expect(AxisTicks.logarithmic(log10(0.3), log10(40)) == [0.5, 1, 2, 5, 10, 20])
    }
}
