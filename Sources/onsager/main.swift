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
    ("gradcheck", "gradcheck every differentiable op in Double, one line per op"),
    ("info", "instruction set and thread count"),
], default: "rbm")
options.threads()
switch command {
case "rbm":
    let seed = options.value("--seed", default: UInt64(1), help: "random seed", valid: { _ in true }, "a non-negative integer")
    let dataset = options.choice("--dataset", among: ["bars-and-stripes", "mnist"], help: "training data")
    let updates = options.value("--updates", default: 10_000, help: "bars-and-stripes: updates per method", valid: { $0 > 0 }, "a positive integer")
    let dataPath = options.path("--data", help: "mnist: the MNIST folder (default: $ONSAGER_DATA/mnist, ../shared/data/mnist)")
    let epochs = options.value("--epochs", default: 1, help: "mnist: epochs per method", valid: { $0 > 0 }, "a positive integer")
    let aisRuns = options.value("--ais-runs", default: 100, help: "mnist: AIS runs (14,500 intervals)", valid: { $0 > 1 }, "an integer above 1")
    options.finish()
    if dataset == "mnist" { runMNISTRBM(path: dataPath, seed: seed, epochs: epochs, aisRuns: aisRuns) }
    else { runBarsAndStripes(seed: seed, updates: updates) }
case "demo":
    let seed = options.value("--seed", default: UInt64(1), help: "random seed", valid: { _ in true }, "a non-negative integer")
    let seconds = options.value("--seconds", default: 3.0, help: "training budget in seconds", valid: { $0 > 0 }, "a positive number")
    options.finish()
    runDemo(seed: seed, seconds: seconds)
case "gradcheck":
    options.finish()
    exit(runGradcheckReport() ? 0 : 1)
default:
    options.finish()
    print("Onsager: instruction set \(Kernels.instructionSet), \(Kernels.threadCount) thread(s)")
}
