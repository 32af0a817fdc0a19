import COnsagerKernels
import Foundation
import Onsager

/// The busy-neighbour case: a 2-core machine shared with one process that keeps a core busy (a
/// laptop, a shared server). It starts its own neighbour (a shell busy loop), measures each case
/// at 1 and 2 threads, stops the neighbour, and reports the 2-thread rate as a multiple of the
/// 1-thread rate: below 1 means extra threads hurt.
///
/// On a shared virtual machine the host's speed drifts by 15–30 % within seconds, which swamped
/// the first protocol (five rounds of a few seconds per thread count): with the pool forced to run
/// every job in the caller, so that both columns ran the same code, its ratios ranged 0.80–1.20.
/// So each round is a sandwich of short windows (about 0.2 s each): 1 thread, 2 threads, 1 thread,
/// and its ratio is the 2-thread rate over the mean of the two 1-thread rates around it, which
/// cancels a drift that is linear over the round. The value is the median over the rounds. The
/// two 1-thread windows of each round give the control: their ratio measures the same code
/// against itself, so its spread (reported as quartiles) is the noise any 2 ÷ 1 ratio carries.
/// Beside the median, `throughput_ratio` compares the work done per second over all windows
/// (harmonic means of the rates: the same number of calls in every window), and the pool's own
/// account of the 2-thread windows: `caller_wait_share`, the share of their time callers waited
/// for other threads' tasks, and `split_jobs_per_call`, the jobs it split per call.
///
/// Then the host's kind of neighbour, which a guest cannot see: the pool's worker is stalled,
/// busy, for 0.5 ms inside every task it takes (`onsager_set_worker_stall`), as a vCPU the host
/// has taken away looks from inside a virtual machine ("contention-stalled-*" rows), with the
/// pool's fallback on and, for comparison, off ("fallback off", how the pool behaved before it
/// watched its own waits: no wait for a CPU shows in the guest's counts).
func benchContention(threads _: Int) {
    let neighbour = Process()
    neighbour.executableURL = URL(fileURLWithPath: "/bin/sh")
    neighbour.arguments = ["-c", "while :; do :; done"]
    do { try neighbour.run() } catch {
        FileHandle.standardError.write(Data("onsager-bench contention: cannot start the busy neighbour: \(error)\n".utf8))
        return
    }
    var neighbourRunning = true
    defer { if neighbourRunning { neighbour.terminate(); neighbour.waitUntilExit() } }
    let saved = Kernels.threadCount
    defer { Kernels.threadCount = saved }
    // name, rate unit, units of work per call, the call
    let cases: [(String, String, Double, () -> Void)] = [
        ("mlp-small-step", "steps/s", 1, mlpStepWorkload(sizes: mlpSmallSizes)),
        ("rbm-cd1-autodiff", "updates/s", 1, rbmCD1Workload()),
        ("sgemm-rbm-fwd", "GFLOPS", 2e-9 * 100 * 500 * 784, sgemmWorkload(m: 100, n: 500, k: 784)),
        ("sgemm-1024", "GFLOPS", 2e-9 * 1024 * 1024 * 1024, sgemmWorkload(m: 1024, n: 1024, k: 1024)),
    ]
    let rounds = 15, window = 0.2
    for (name, unit, work, body) in cases {
        sandwich(name, unit, work, body, rounds: rounds, window: window, neighbour: "one busy process")
    }
    neighbour.terminate()
    neighbour.waitUntilExit()
    neighbourRunning = false
    // The stalled worker: the busy neighbour gone, a small-op workload (a layer norm's forward and
    // backward on [256, 1024], a dozen short jobs per call) and the small MLP step.
    let ln = LayerNorm<Float>(size: 1024), g = RandomGenerator(seed: 3)
    let x = Tensor<Float>.normal([256, 1024], generator: g), w = Tensor<Float>.normal([256, 1024], generator: g)
    let stalled: [(String, String, Double, () -> Void)] = [
        ("op-layernorm", "calls/s", 1, { (ln(x.requiringGrad()) * w).sum().backward() }),
        ("mlp-small-step", "steps/s", 1, mlpStepWorkload(sizes: mlpSmallSizes)),
    ]
    onsager_set_worker_stall(500)
    defer { onsager_set_worker_stall(0); onsager_pool_clear_contention() }
    let detection = Kernels.contentionDetection
    for fallback in [true, false] {
        Kernels.contentionDetection = fallback
        defer { Kernels.contentionDetection = detection }
        for (name, unit, work, body) in stalled {
            onsager_pool_clear_contention()
            sandwich("stalled-" + name + (fallback ? "" : "-fallback-off"), unit, work, body, rounds: 9, window: window,
                     neighbour: "a worker stalled 0.5 ms in every task" + (fallback ? "" : ", fallback off"))
        }
    }
}

/// Rounds of 1-thread, 2-thread, 1-thread windows of `body` (see `benchContention`); emits the
/// median 2 ÷ 1 ratio as "contention-`name`".
private func sandwich(_ name: String, _ unit: String, _ work: Double, _ body: () -> Void, rounds: Int, window: Double,
                      neighbour: String) {
    // Warm both thread counts, then size a window from the 1-thread rate.
    for t in [1, 2] { Kernels.threadCount = t; for _ in 0..<3 { body() } }
    Kernels.threadCount = 1
    let calls = callsPerWindow(window, probe: 0.1, body)
    // The pool's own account of the 2-thread windows: the share of their time callers spent
    // waiting for other threads' tasks (the cost of splitting a job when the other thread is
    // slow). It told two rules of the pool apart (2x, no overlap in three alternations) where
    // their rates overlapped.
    var twoThreadTime = 0.0, twoThreadWait = 0, twoThreadSplits = 0
    func rate(_ t: Int) -> Double {
        Kernels.threadCount = t
        guard t == 2 else { return Double(calls) * work / seconds { for _ in 0..<calls { body() } } }
        var splits0 = 0, wait0 = 0, splits1 = 0, wait1 = 0
        onsager_pool_totals(&splits0, &wait0, nil)
        let elapsed = seconds { for _ in 0..<calls { body() } }
        onsager_pool_totals(&splits1, &wait1, nil)
        twoThreadTime += elapsed
        twoThreadWait += wait1 - wait0
        twoThreadSplits += splits1 - splits0
        return Double(calls) * work / elapsed
    }
    var ratios: [Double] = [], controls: [Double] = [], ones: [Double] = [], twos: [Double] = []
    for _ in 0..<rounds {
        let before = rate(1), two = rate(2), after = rate(1)
        ratios.append(two / ((before + after) / 2))
        controls.append(after / before)
        ones += [before, after]
        twos.append(two)
    }
    func rounded(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
    // Throughput over all windows (work over time; each 1-thread window counts half, as the
    // ratios weigh it): rare slow windows that a median hides show here.
    func harmonic(_ v: [Double]) -> Double { Double(v.count) / v.reduce(0) { $0 + 1 / $1 } }
    emit("contention-\(name)", threads: 2, value: quantile(ratios, 0.5), unit: "x 1-thread",
         extra: ["one_thread": quantile(ones, 0.5), "two_threads": quantile(twos, 0.5), "rate_unit": unit,
                 "neighbour": neighbour, "rounds": rounds, "window_s": window,
                 "throughput_ratio": rounded(harmonic(twos) / harmonic(ones)),
                 "ratio_quartiles": [rounded(quantile(ratios, 0.25)), rounded(quantile(ratios, 0.75))],
                 "caller_wait_share": rounded(Double(twoThreadWait) * 1e-9 / twoThreadTime),
                 "split_jobs_per_call": rounded(Double(twoThreadSplits) / Double(calls * rounds)),
                 "control_1_over_1": rounded(quantile(controls, 0.5)),
                 "control_quartiles": [rounded(quantile(controls, 0.25)), rounded(quantile(controls, 0.75))]])
}
