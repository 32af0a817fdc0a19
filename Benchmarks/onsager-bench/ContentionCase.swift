import Foundation
import Onsager

/// The busy-neighbour case: a 2-core machine shared with one process that keeps a core busy (a
/// laptop, a shared server). It starts its own neighbour (a shell busy loop), measures each case
/// at 1 and 2 threads in alternation (five rounds, the order reversed every other round so that a
/// drift of the host's speed does not favour either; medians), stops the neighbour, and reports
/// the 2-thread rate as a multiple of the 1-thread rate: below 1 means extra threads hurt.
func benchContention(threads _: Int) {
    let neighbour = Process()
    neighbour.executableURL = URL(fileURLWithPath: "/bin/sh")
    neighbour.arguments = ["-c", "while :; do :; done"]
    do { try neighbour.run() } catch {
        FileHandle.standardError.write(Data("onsager-bench contention: cannot start the busy neighbour: \(error)\n".utf8))
        return
    }
    defer { neighbour.terminate(); neighbour.waitUntilExit() }
    let saved = Kernels.threadCount
    defer { Kernels.threadCount = saved }
    let cases: [(String, String, (Int) -> Void)] = [
        ("mlp-small-step", "steps/s", { benchMLPStep("mlp-small-step", sizes: mlpSmallSizes, threads: $0) }),
        ("rbm-cd1-autodiff", "updates/s", { benchRBMCD1Autodiff(threads: $0) }),
        ("sgemm-rbm-fwd", "GFLOPS", { benchSgemm("sgemm-rbm-fwd", m: 100, n: 500, k: 784, threads: $0) }),
        ("sgemm-1024", "GFLOPS", { benchSgemm("sgemm-1024", m: 1024, n: 1024, k: 1024, threads: $0) }),
    ]
    let rounds = 5
    for (name, unit, run) in cases {
        var rates: [Int: [Double]] = [1: [], 2: []]
        for round in 0..<rounds {
            for t in round % 2 == 0 ? [1, 2] : [2, 1] {
                Kernels.threadCount = t
                rates[t]!.append(quietly { run(t) }[name] ?? .nan)
            }
        }
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        let one = median(rates[1]!), two = median(rates[2]!)
        emit("contention-\(name)", threads: 2, value: two / one, unit: "x 1-thread",
             extra: ["one_thread": one, "two_threads": two, "rate_unit": unit, "neighbour": "one busy process", "rounds": rounds])
    }
}
