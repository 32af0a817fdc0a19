import Foundation

/// Round tick values for a plot axis: steps of 1, 2 or 5 times a power of ten on a linear axis
/// (the axis is widened to the enclosing ticks), and decades, 1-2-5 values or, over less than a
/// decade, round linear steps on a logarithmic one (the axis keeps the data's range).
enum AxisTicks {
    /// Ticks for a linear axis over [lo, hi], about `target` of them; returns the widened range too.
    static func linear(_ lo: Double, _ hi: Double, target: Int = 6) -> (lo: Double, hi: Double, ticks: [Double]) {
        let raw = (hi - lo) / Double(Swift.max(target - 1, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw * 0.999 } ?? 10 * magnitude
        let first = floor(lo / step + 1e-9) * step, last = ceil(hi / step - 1e-9) * step
        let count = Int(((last - first) / step).rounded())
        // Multiples of the step, computed from integers so 0.30000000000000004 never appears.
        let ticks = (0...count).map { (Double(Int((first / step).rounded()) + $0) * step * 1e12).rounded() / 1e12 }
        return (first, last, ticks)
    }

    /// Ticks for a logarithmic axis whose data spans [10^lo, 10^hi] (lo, hi in decades).
    static func logarithmic(_ lo: Double, _ hi: Double) -> [Double] {
        let decades = Int(floor(lo))...Int(ceil(hi))
        for mantissas in [[1.0], [1.0, 2, 5], [1.0, 2, 3, 4, 5, 6, 7, 8, 9]] {
            let ticks = decades.flatMap { d in mantissas.map { $0 * pow(10, Double(d)) } }
                .filter { log10($0) >= lo - 1e-9 && log10($0) <= hi + 1e-9 }
            if ticks.count >= 3 { return ticks.count > 12 ? stride(from: 0, to: ticks.count, by: (ticks.count + 11) / 12).map { ticks[$0] } : ticks }
        }
        // Less than a decade with under three 1…9 values: round linear steps inside the range.
        return linear(pow(10, lo), pow(10, hi)).ticks.filter { $0 > 0 && log10($0) >= lo - 1e-9 && log10($0) <= hi + 1e-9 }
    }
}
