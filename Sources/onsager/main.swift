import Foundation
import Onsager
import OnsagerCommandLine

// The Onsager command line. `onsager` with no arguments runs the demonstration on embedded data.

let usage = """
usage: onsager [SUBCOMMAND] [OPTIONS]

subcommands:
  rbm          (default) RBMs trained with CD-1, PCD and the MF / TAP2 / TAP3 free energies (EMF)
               on embedded bars-and-stripes, exact log-likelihoods side by side; with
               --data mnist [PATH], the MNIST version (500 hidden units, AIS test log-likelihood)
  demo         train a small MLP on embedded two-spirals data with the tape, then print a
               gradcheck report for the ops it used
  gradcheck    gradcheck every differentiable op in Double and print one line per op
  info         instruction set, thread count, version

options:
  --threads N  threads for large ops (also ONSAGER_THREADS)
  --seed S     random seed for the demo (default 1)
  --seconds T  training budget for the demo (default 3)
  --updates N  rbm on bars-and-stripes: updates per method (default 10000)
  --data mnist [PATH]  rbm on MNIST (PATH, $ONSAGER_DATA/mnist or ../shared/data/mnist)
  --epochs N   rbm on MNIST: epochs per method (default 1)
  --ais-runs M rbm on MNIST: AIS runs (default 100; 14,500 intervals)
  -h, --help   this text

Coming with later issues: `mlp` (MNIST training), `ridge` (Spambase study).
"""

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("onsager: \(message)\n\n\(usage)\n".utf8))
    exit(2)
}

Console.useLineBuffering()
var args = Array(CommandLine.arguments.dropFirst())
if args.contains("-h") || args.contains("--help") || args.first == "help" {
    print(usage)
    exit(0)
}
@MainActor func option(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name) else { return nil }
    guard i + 1 < args.count else { fail("\(name) needs a value") }
    let v = args[i + 1]
    args.removeSubrange(i...(i + 1))
    return v
}
if let t = option("--threads") {
    guard let n = Int(t), n > 0 else { fail("--threads needs a positive integer, got '\(t)'") }
    Kernels.threadCount = n
}
let seed = option("--seed").map { s -> UInt64 in
    guard let v = UInt64(s) else { fail("--seed needs a non-negative integer, got '\(s)'") }
    return v
} ?? 1
let seconds = option("--seconds").map { s -> Double in
    guard let v = Double(s), v > 0 else { fail("--seconds needs a positive number, got '\(s)'") }
    return v
} ?? 3
@MainActor func intOption(_ name: String, _ fallback: Int) -> Int {
    guard let s = option(name) else { return fallback }
    guard let v = Int(s), v > 0 else { fail("\(name) needs a positive integer, got '\(s)'") }
    return v
}
let updates = intOption("--updates", 10_000)
let epochs = intOption("--epochs", 1)
let aisRuns = intOption("--ais-runs", 100)
var dataset: String? = nil, dataPath: String? = nil
if let i = args.firstIndex(of: "--data") {
    guard i + 1 < args.count else { fail("--data needs a dataset name (mnist)") }
    dataset = args[i + 1]
    var end = i + 2
    if end < args.count && !args[end].hasPrefix("-") && !["rbm", "demo", "gradcheck", "info"].contains(args[end]) {
        dataPath = args[end]; end += 1
    }
    args.removeSubrange(i..<end)
    guard dataset == "mnist" else { fail("unknown dataset '\(dataset!)' (known: mnist)") }
}
let sub = args.first ?? "rbm"
if args.count > 1 { fail("unexpected arguments: \(args.dropFirst().joined(separator: " "))") }

switch sub {
case "rbm":
    if dataset == "mnist" { runMNISTRBM(path: dataPath, seed: seed, epochs: epochs, aisRuns: aisRuns) }
    else { runBarsAndStripes(seed: seed, updates: updates) }
case "demo": runDemo(seed: seed, seconds: seconds)
case "gradcheck": exit(runGradcheckReport() ? 0 : 1)
case "info":
    print("Onsager: instruction set \(Kernels.instructionSet), \(Kernels.threadCount) thread(s)")
default: fail("unknown subcommand '\(sub)'")
}
