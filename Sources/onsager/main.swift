import Foundation
import Onsager
import OnsagerCommandLine

// The Onsager command line. `onsager` with no arguments runs the demonstration on embedded data.

var options = CommandLineOptions(program: "onsager", summary: "energy models and neural networks on Onsager's tape")
Console.useLineBuffering()
let command = options.subcommand(among: [
    ("rbm", "RBMs trained with CD-1, PCD and EMF (MF, TAP2, TAP3) on embedded bars-and-stripes, exact\n"
        + "             log-likelihoods side by side; with --dataset mnist, the MNIST version (AIS test log-likelihood)"),
    ("demo", "train a small MLP on embedded two-spirals data with the tape, then gradcheck the ops it used"),
    ("gradcheck", "gradcheck ten groups of ops (first and second order, Double), one line each; the test suite checks every op"),
    ("notebook", "run a tutorial as a notebook (from the repository root): onsager notebook NAME [-- ARGS] writes NAME.html and NAME.ipynb"),
    ("info", "version, instruction set, and thread count with where it came from"),
], default: "rbm")
options.threads()
switch command {
case "rbm":
    let seed = options.value("--seed", default: UInt64(1), help: "random seed", valid: { _ in true }, "a non-negative integer")
    let dataset = options.choice("--dataset", among: ["bars-and-stripes", "mnist"], help: "training data")
    let updates = options.value("--updates", default: 10_000, help: "bars-and-stripes: updates per method", valid: { (1...100_000_000).contains($0) }, "an integer from 1 to 10^8")
    let dataPath = options.path("--data", help: "mnist: the MNIST folder (default: $ONSAGER_DATA/mnist, ../shared/data/mnist)")
    let epochs = options.value("--epochs", default: 1, help: "mnist: epochs per method", valid: { (1...10_000).contains($0) }, "an integer from 1 to 10000")
    let aisRuns = options.value("--ais-runs", default: 100, help: "mnist: AIS runs (14,500 intervals)", valid: { (2...10_000).contains($0) }, "an integer from 2 to 10000")
    options.finish()
    if dataset == "mnist" { runMNISTRBM(path: dataPath, seed: seed, epochs: epochs, aisRuns: aisRuns) }
    else { runBarsAndStripes(seed: seed, updates: updates) }
case "demo":
    let seed = options.value("--seed", default: UInt64(1), help: "random seed", valid: { _ in true }, "a non-negative integer")
    let seconds = options.value("--seconds", default: 3.0, help: "training budget in seconds", valid: { $0 > 0 && $0 <= 86_400 }, "a number of seconds above 0, at most 86400")
    options.finish()
    runDemo(seed: seed, seconds: seconds)
case "notebook":
    let passthrough = options.remainder()
    let name = options.positional(help: "NAME", "the tutorial folder, e.g. 04-free-energy-accuracy")
    options.finish()
    exit(runNotebook(name: name ?? "", arguments: passthrough) ? 0 : 1)
case "gradcheck":
    options.finish()
    exit(runGradcheckReport() ? 0 : 1)
default:
    options.finish()
    let tiles = Kernels.hasMatrixTiles ? (Kernels.usesMatrixTiles ? "on" : "off") : "none on this CPU"
    let adds = !Kernels.hasSeparateAdders ? "not on this CPU"
        : Kernels.usesMaskedAdds ? "on"
        : Kernels.usesMaskedAddsByDefault || Kernels.instructionSet != "avx512" ? "off"
        : "off (not measured on this CPU; ONSAGER_ZERO_ONE=1 turns them on)"
    print("Onsager \(OnsagerVersion.string): instruction set \(Kernels.instructionSet) (GEMM blocking: \(Kernels.gemmTuning)), \(Kernels.threadCount) thread(s) (\(Kernels.threadCountSource)), AMX tiles for 0/1 products: \(tiles), masked adds for 0/1 products: \(adds), all-zero columns and rows skipped: \(Kernels.skipsZeros ? "on" : "off")")
}
