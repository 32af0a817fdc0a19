import COnsagerKernels
import Foundation

/// Timing in the style of the reference scripts: warm up, size the inner loop to a target time,
/// then report the median rate over repetitions (with min and max).
struct Measurement {
    var median: Double, min: Double, max: Double

    /// The median, min and max of repeated values (rates or times).
    init(of values: [Double]) {
        let sorted = values.sorted()
        median = sorted[sorted.count / 2]
        min = sorted.first!
        max = sorted.last!
    }
}

/// The value at fraction `q` of the sorted values (nearest rank): 0.5 the median, 0.25 and 0.75
/// the quartiles.
func quantile(_ v: [Double], _ q: Double) -> Double { v.sorted()[Int((Double(v.count - 1) * q).rounded())] }

/// Seconds `body` takes, once.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = now()
    try body()
    return now() - t0
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// How many calls of `body` take about `window` seconds, judged from calling it for `probe` seconds.
func callsPerWindow(_ window: Double, probe: Double = 0.05, _ body: () -> Void) -> Int {
    var n = 0
    let t0 = now()
    while now() - t0 < probe { body(); n += 1 }
    return Swift.max(1, Int(Double(n) * window / (now() - t0)))
}

/// Calls per second of `body`.
func measureRate(target: Double = 0.3, reps: Int = 7, warm: Int = 3, _ body: () -> Void) -> Measurement {
    for _ in 0..<warm { body() }
    let iters = callsPerWindow(target, body)
    return Measurement(of: (0..<reps).map { _ in Double(iters) / seconds { for _ in 0..<iters { body() } } })
}

/// One JSON line per result: bench, threads, value (4 significant digits), unit, plus extras.
/// At more than one thread it adds the pool's account since the previous line: the jobs split
/// between threads (`pool_split_jobs`) and the seconds during which the pool ran every job in
/// one thread because it judged the machine contended (`pool_one_thread_s`), so that a 2-thread
/// rate measured partly at one thread shows as such.
func emit(_ bench: String, threads: Int, value: Double, unit: String, extra: [String: Any] = [:]) {
    var split = 0, oneThread = 0
    onsager_pool_totals(&split, nil, &oneThread)
    defer { poolTotalsAtLastEmit = (split, oneThread) }
    if let sink = quietSink { sink.values[bench] = value; return }
    let scale = value == 0 ? 1 : Foundation.pow(10, 3 - Foundation.floor(Foundation.log10(Swift.abs(value))))
    var obj: [String: Any] = ["bench": bench, "threads": threads, "value": (value * scale).rounded() / scale, "unit": unit]
    if threads > 1 {
        obj["pool_split_jobs"] = split - poolTotalsAtLastEmit.split
        obj["pool_one_thread_s"] = Double((oneThread - poolTotalsAtLastEmit.oneThreadNs) / 1_000_000) / 1000
    }
    for (k, v) in extra { obj[k] = v }
    let data = try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
    fflush(nil)
}

/// The pool's totals (`onsager_pool_totals`) when `emit` last ran.
nonisolated(unsafe) var poolTotalsAtLastEmit = (split: 0, oneThreadNs: 0)

/// Where `emit` records instead of printing while `quietly` runs.
final class EmitSink: @unchecked Sendable { var values: [String: Double] = [:] }
nonisolated(unsafe) var quietSink: EmitSink?

/// Runs `body` with `emit` silenced; returns what it emitted, by bench name.
func quietly(_ body: () -> Void) -> [String: Double] {
    let sink = EmitSink()
    quietSink = sink
    defer { quietSink = nil }
    body()
    return sink.values
}
