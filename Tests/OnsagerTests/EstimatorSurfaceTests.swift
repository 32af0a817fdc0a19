import Foundation
import Testing
import Onsager
@testable import OnsagerEnergy

/// One result type for every ln Z estimator, trainers with the same defaults, and progress
/// reported through one service.
@Suite struct EstimatorSurfaceTests {
    typealias T = Tensor<Double>

    @Test func everyEstimatorAnswersInOneType() {
        let rbm = randomRBM(visible: 10, hidden: 8, scale: 0.3, seed: 80)
        let exact = rbm.logPartition(.exact)
        #expect(exact.method == .exact(states: 256) && exact.band == exact.logZ...exact.logZ && exact.samples.isEmpty)
        #expect(Swift.abs(exact.logZ - rbm.exactLogPartition()) < 1e-12)
        let ais = rbm.logPartition(.annealedImportanceSampling(AnnealedImportanceSampling(betas: AnnealedImportanceSampling.schedule(coarse: 1e-2, middle: 1e-3, fine: 1e-3), runs: 50)),
                                   generator: RandomGenerator(seed: 81))
        #expect(ais.method == .annealedImportanceSampling(runs: 50, intervals: ais.intervals) && ais.samples.count == 50 && ais.baseLogZ != nil)
        #expect(ais.band!.contains(exact.logZ), "\(ais) vs exact \(exact.logZ)")
        let start = TAPSolver.start(from: T.bernoulli(T(repeating: 0.5, shape: [3, 10]), generator: RandomGenerator(seed: 82)), model: rbm)
        let tap = rbm.logPartition(.meanField(TAPSolver(order: .tap4, iterations: 500, tolerance: 1e-13), start: start))
        #expect(tap.band == nil && tap.samples.count == 3 && tap.residual! < 1e-9 && tap.logZ == tap.samples.max())
        #expect(Swift.abs(tap.logZ - exact.logZ) < 1e-3)
        #expect(tap.method == .meanField(approximation: "TAP4", particles: 3, sweeps: tap.method.sweeps))
        for e in [exact, ais, tap] { #expect(e.description.hasPrefix("ln Z ≈") && e.seconds >= 0) }
    }

    /// PCD needs no visible count (its chains start at the first update with the model's), and
    /// trainEpoch has the same default generator for every trainer.
    @Test func trainersShareDefaults() throws {
        var rbm = randomRBM(visible: 6, hidden: 4, scale: 0.1, seed: 83)
        let data = T.bernoulli(T(repeating: 0.5, shape: [20, 6]), generator: RandomGenerator(seed: 84))
        var pcd = ContrastiveDivergence<Double>.pcd(k: 1, chains: 7, generator: RandomGenerator(seed: 85))
        #expect(pcd.isPersistent && pcd.chains == nil)
        var sgd = SGD<Double>(learningRate: 0.01)
        try pcd.trainEpoch(&rbm, data: data, batchSize: 10, optimizer: &sgd)
        #expect(pcd.chains?.shape == [7, 6])
        var emf = EMFTrainer<Double>(solver: TAPSolver(order: .tap2))
        #expect(try emf.trainEpoch(&rbm, data: data, batchSize: 10, optimizer: &sgd).isFinite)
    }

    /// AIS and training epochs report through `ProgressReporter`: a program's callback sees them end.
    @Test func progressGoesThroughOneService() throws {
        final class Box: @unchecked Sendable { let lock = NSLock(); var reports: [ProgressReport] = [] }
        let box = Box()
        let reporter = ProgressReporter("test", total: 4, output: .callback { r in box.lock.lock(); box.reports.append(r); box.lock.unlock() })
        reporter.update(1)
        reporter.finish(note: "done")
        #expect(box.reports.count == 2 && box.reports[0].done == 1 && box.reports[1].finished && box.reports[1].note == "done")
        let silent = ProgressReporter("quiet", total: 3, output: .silent)
        silent.update(1); silent.finish()
        #expect(box.reports.count == 2)
    }

    /// A note is formatted only for a report that is made: never when silent, once per report
    /// otherwise (a training loop formats its loss for the bar at every step).
    @Test func progressNoteIsEvaluatedOnlyWhenReported() {
        final class Counter: @unchecked Sendable { var calls = 0; var notes: [String] = [] }
        let c = Counter()
        func note(_ i: Int) -> String { c.calls += 1; return "step \(i)" }
        let silent = ProgressReporter("quiet", total: 5, output: .silent)
        for i in 1...5 { silent.update(i, note: note(i)) }
        #expect(c.calls == 0)
        let shown = ProgressReporter("shown", total: 5, output: .callback { r in c.notes.append(r.note) })
        for i in 1...5 { shown.update(i, note: note(i)) }   // throttled: the first update reports
        #expect(c.calls == c.notes.count && c.notes.first == "step 1")
    }
}

extension LogPartitionEstimate.Method {
    var sweeps: Int { if case let .meanField(_, _, s) = self { return s }; return 0 }
}
