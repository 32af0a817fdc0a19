import Foundation
import Onsager

// onsager-bench [CASE ...] [--threads N] [--list]
// Prints one JSON object per line: {"bench", "threads", "value", "unit", ...}.

let binaryCases: [(String, (Int) -> Void)] = binaryOperandCases.map { c in
    (c.name, { benchSgemm(c.name, m: c.m, n: c.n, k: c.k, transA: c.transA, transB: c.transB, binaryA: true, threads: $0) })
}
let cases: [(String, (Int) -> Void)] = sgemmCases.map { c in
    (c.name, { benchSgemm(c.name, m: c.m, n: c.n, k: c.k, transA: c.transA, transB: c.transB, threads: $0) })
} + binaryCases + fewRowCases.map { c in
    (c.name, { benchSgemm(c.name, m: c.m, n: c.n, k: c.k, transA: c.transA, transB: c.transB, threads: $0) })
} + [
    ("tiny-op-backward", { benchTinyOp(threads: $0) }),
    ("rbm-cd1-autodiff", { benchRBMCD1Autodiff(threads: $0) }),
    ("rbm-cd1-mnist", { benchRBMCD1MNIST(threads: $0) }),
    ("rbm-cd25-update", { benchRBMCD25(threads: $0) }),
    ("rbm-epoch-10k", { benchRBMEpoch10k(threads: $0) }),
    ("rbm-epoch-10k-gemms", { benchRBMEpochGEMMs(threads: $0) }),
    ("rbm-epoch-bound", { benchRBMEpochBound(threads: $0) }),   // the epoch ÷ its FLOP bound, in one process
    ("ais-mnist", { benchAISMNIST(threads: $0) }),
    ("tap-iteration", { benchTAPIteration(threads: $0) }),
    ("emf-epoch", { benchEMFEpoch(threads: $0) }),
    ("emf-update", { benchEMFUpdate(threads: $0) }),
    ("mlp-small-step", { benchMLPStep("mlp-small-step", sizes: mlpSmallSizes, threads: $0) }),
    ("mlp-big-step", { benchMLPStep("mlp-big-step", sizes: mlpBigSizes, threads: $0) }),
    ("mlp-small-adam-step", { benchMLPStep("mlp-small-adam-step", sizes: mlpSmallSizes, adam: true, threads: $0) }),
    ("mlp-big-adam-step", { benchMLPStep("mlp-big-adam-step", sizes: mlpBigSizes, adam: true, threads: $0) }),
    ("mlp-small-mnist-step", { benchMLPMNISTStep("mlp-small-mnist-step", sizes: mlpSmallSizes, threads: $0) }),
    ("mlp-big-mnist-step", { benchMLPMNISTStep("mlp-big-mnist-step", sizes: mlpBigSizes, threads: $0) }),
    ("mlp-tiny-step", { benchMLPStep("mlp-tiny-step", sizes: mlpTinySizes, threads: $0) }),
    ("mlp-small-floor", { benchMLPFloor("mlp-small-floor", sizes: mlpSmallSizes, threads: $0) }),
    ("mlp-big-floor", { benchMLPFloor("mlp-big-floor", sizes: mlpBigSizes, threads: $0) }),
    ("cnn-step", { benchCNNStep(threads: $0) }),
] + layerOpCases.map { ($0.name, $0.run) } + [
    ("augment-batch", { benchAugmentBatch(threads: $0) }),
    // Starts its own busy neighbour process; compares 1 and 2 threads whatever --threads says.
    ("contention", { benchContention(threads: $0) }),
]

var args = Array(CommandLine.arguments.dropFirst())
var threads = [Kernels.threadCount]
if let i = args.firstIndex(of: "--threads") {
    guard i + 1 < args.count else {
        FileHandle.standardError.write("onsager-bench: --threads needs a value, e.g. --threads 1 or --threads 1,2\n".data(using: .utf8)!)
        exit(2)
    }
    threads = args[i + 1].split(separator: ",").compactMap { Int($0) }
    args.removeSubrange(i...(i + 1))
}
if args.contains("--list") || args.contains("--help") {
    print("usage: onsager-bench [CASE ...] [--threads N[,M]]\ncases: " + cases.map(\.0).joined(separator: " "))
    exit(0)
}
let known = Set(cases.map(\.0))
for a in args where !known.contains(a) {
    FileHandle.standardError.write("onsager-bench: unknown case '\(a)'; known: \(cases.map(\.0).joined(separator: " "))\n".data(using: .utf8)!)
    exit(2)
}
// contention and rbm-epoch-bound (each its own protocol of many rounds) only when named
let selected = args.isEmpty ? cases.filter { !["contention", "rbm-epoch-bound"].contains($0.0) } : cases.filter { args.contains($0.0) }
for t in threads {
    Kernels.threadCount = t
    for (_, run) in selected { run(t) }
}
