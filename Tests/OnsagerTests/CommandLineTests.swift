import Testing
import Onsager
import OnsagerCommandLine

@Suite struct CommandLineTests {
    @Test func valuesDefaultsAndProblemsAreReportedTogether() {
        var o = CommandLineOptions(program: "t", summary: "s", arguments: ["--epochs", "3", "--lr", "x", "--dataset", "caltech", "--extra"])
        let epochs = o.value("--epochs", default: 10, help: "", valid: { $0 > 0 }, "a positive integer")
        let lr = o.value("--lr", default: 0.5, help: "", valid: { $0 > 0 }, "a positive number")
        let momentum = o.value("--momentum", default: 0.9, help: "")
        let dataset = o.choice("--dataset", among: ["mnist", "fashion-mnist"], help: "")
        let path = o.path("--data", help: "")
        #expect(epochs == 3 && lr == 0.5 && momentum == 0.9 && dataset == "mnist" && path == nil)
        #expect(o.errors == ["--lr needs a positive number, got 'x'",
                             "--dataset must be one of mnist, fashion-mnist, got 'caltech'",
                             "unknown option '--extra'"])
        #expect(!o.helpRequested)
    }

    /// An unknown option is named (with the likely intended one), its value is not reported as a
    /// second problem, and a bare word is reported as a stray argument; negative numbers are values.
    @Test func unknownOptionsAreNamedPrecisely() {
        var o = CommandLineOptions(program: "t", summary: "s", arguments: ["--lr", "0.1", "--seedd", "3", "--shift", "-2", "stray", "--bogus=1"])
        _ = o.value("--seed", default: UInt64(1), help: "")
        let shift = o.value("--shift", default: 0.0, help: "")
        #expect(shift == -2)
        #expect(o.errors == ["unknown option '--lr'", "unknown option '--seedd' (did you mean --seed?)", "unknown option '--bogus'",
                             "unexpected argument(s): stray (options are written --name VALUE)"])
    }

    /// A subcommand's usage carries its own summary, not the program's.
    @Test func subcommandUsageHasItsOwnSummary() {
        var o = CommandLineOptions(program: "t", summary: "the program", arguments: ["demo"])
        _ = o.subcommand(among: [("rbm", "trains RBMs"), ("demo", "trains a small MLP")], default: "rbm")
        #expect(o.usage.hasPrefix("t demo: trains a small MLP"))
        var d = CommandLineOptions(program: "t", summary: "the program", arguments: [])
        _ = d.subcommand(among: [("rbm", "trains RBMs"), ("demo", "trains a small MLP")], default: "rbm")
        #expect(d.usage.hasPrefix("t rbm: trains RBMs"))
    }

    /// Numbers from the command line are range-checked, never converted into a trap.
    @Test func hugeAndNonFiniteNumbersAreRefused() {
        let before = Kernels.threadCount
        var o = CommandLineOptions(program: "t", summary: "s", arguments: ["--threads", "99999999999", "--seconds", "inf"])
        o.threads()
        _ = o.value("--seconds", default: 3.0, help: "", valid: { $0 > 0 && $0 <= 86_400 }, "a number of seconds above 0, at most 86400")
        #expect(o.errors == ["--threads needs an integer from 1 to 64, got '99999999999'",
                             "--seconds needs a number of seconds above 0, at most 86400, got 'inf'"])
        #expect(Kernels.threadCount == before)
    }

    @Test func missingValueFlagsAndHelp() {
        var o = CommandLineOptions(program: "t", summary: "s", arguments: ["--verbose", "--help", "--seed"])
        let verbose = o.flag("--verbose", help: "talk"), quiet = o.flag("--quiet", help: "")
        let seed = o.value("--seed", default: UInt64(7), help: "seed")
        #expect(verbose && !quiet && seed == 7)
        #expect(o.errors == ["--seed needs a value"])
        #expect(o.helpRequested)
        #expect(o.usage.contains("--verbose") && o.usage.contains("--seed N") && o.usage.contains("(default 7)"))
    }

    @Test func subcommandsTakeTheFirstArgument() {
        var o = CommandLineOptions(program: "t", summary: "s", arguments: ["demo", "--seconds", "2"])
        let command = o.subcommand(among: [("rbm", ""), ("demo", "")], default: "rbm")
        let seconds = o.value("--seconds", default: 3.0, help: "")
        #expect(command == "demo" && seconds == 2)
        #expect(o.errors.isEmpty && o.usage.contains("usage: t demo"))
        var d = CommandLineOptions(program: "t", summary: "s", arguments: ["--seed", "1"])
        let fallback = d.subcommand(among: [("rbm", ""), ("demo", "")], default: "rbm")
        #expect(fallback == "rbm")
    }

    @Test func explicitDatasetPathIsTheOnlyPlaceSearched() {
        #expect(DatasetLocator.candidates("mnist", explicit: "/x") == ["/x"])
        #expect(DatasetLocator.candidates("mnist").contains("../shared/data/mnist"))
        #expect(throws: DataError.notFound(dataset: "mnist", searched: ["/nonexistent"])) {
            try DatasetLocator.locate("mnist", containing: "t10k-labels-idx1-ubyte", explicit: "/nonexistent")
        }
    }
}
