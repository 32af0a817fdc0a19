import Foundation
import Testing
import Onsager
@testable import OnsagerEnergy

/// AIS and RAISE against exact log-likelihoods: the exact value inside the [RAISE, AIS] bracket on
/// random and sharp-moded models, and AIS's diagnostics warning on a model built to be hard.
@Suite struct LikelihoodBracketTests {
    typealias T = Tensor<Double>

    /// A model with sharp modes: four hidden units each switch on one planted 0/1 pattern with
    /// strong weights, the others couple weakly.
    static func plantedModel(visible: Int, hidden: Int, strength: Double, seed: UInt64) -> RBM<Double> {
        let g = RandomGenerator(seed: seed)
        let patterns = T.bernoulli(T(repeating: 0.5, shape: [4, visible]), generator: g).scalars
        var w = T.normal([visible, hidden], std: 0.3, generator: g).scalars
        var b = [Double](repeating: -1, count: hidden)
        for j in 0..<4 {
            var ones = 0.0
            for i in 0..<visible { w[i * hidden + j] = strength * (2 * patterns[j * visible + i] - 1); ones += patterns[j * visible + i] }
            b[j] = -strength * (ones - 0.5)
        }
        return RBM(weights: T(shape: [visible, hidden], scalars: w), visibleBias: T(repeating: -strength / 2, shape: [visible]), hiddenBias: T(b))
    }

    /// A 20×12 RBM trained by PCD on four noisy prototypes until its modes are sharp.
    static func trainedSharpModel() -> RBM<Double> {
        let g = RandomGenerator(seed: 102)
        let prototypes = T.bernoulli(T(repeating: 0.5, shape: [4, 20]), generator: g)
        let picks = (0..<400).map { $0 % 4 }
        let clean = prototypes.indexSelect(axis: 0, indices: picks)
        let flips = T.bernoulli(T(repeating: 0.05, shape: [400, 20]), generator: g)
        let data = (clean + flips - clean * flips * 2)
        var model = RBM<Double>(visible: 20, hidden: 12, weightStd: 0.1, data: data, generator: g)
        var pcd = ContrastiveDivergence<Double>.pcd(k: 1, chains: 20, generator: g)
        var sgd = SGD<Double>(learningRate: 0.1, momentum: 0.5)
        for _ in 0..<40 { _ = try? pcd.trainEpoch(&model, data: data, batchSize: 20, optimizer: &sgd) }
        return model
    }

    static func testSet(_ model: RBM<Double>, count: Int, seed: UInt64) -> T {
        let g = RandomGenerator(seed: seed)
        return model.gibbs(from: T.bernoulli(T(repeating: 0.5, shape: [count, model.visibleCount]), generator: g), steps: 200, generator: g)
    }

    @Test(arguments: [("random 20×12", 20, 12, 0), ("random 24×16", 24, 16, 0), ("planted 20×12", 20, 12, 1), ("trained 20×12", 20, 12, 2)])
    func exactLikelihoodLiesInsideTheBracket(name: String, visible: Int, hidden: Int, kind: Int) {
        let model = kind == 1 ? Self.plantedModel(visible: visible, hidden: hidden, strength: 3, seed: 90)
            : kind == 2 ? Self.trainedSharpModel() : randomRBM(visible: visible, hidden: hidden, scale: 0.5, seed: 91)
        let data = Self.testSet(model, count: 40, seed: 92)
        let negFs = withoutGrad { -model.freeEnergy(data) }.scalars, negF = negFs.reduce(0, +) / Double(negFs.count)
        let logZ = model.exactLogPartition(), exact = negF - logZ
        let schedule = AnnealedImportanceSampling.schedule(coarse: 5e-3, middle: 5e-4, fine: 2e-4)
        let ais = AnnealedImportanceSampling(betas: schedule, runs: 100).logPartition(of: model, generator: RandomGenerator(seed: 93))
        let raise = ReverseAnnealedImportanceSampling(betas: schedule, chains: 5).logLikelihood(of: model, data: data, generator: RandomGenerator(seed: 94))
        let upper = negF - ais.logZ, lower = raise.meanLogLikelihood
        // Each bound holds up to its own sampling noise: AIS's from its log-space band, RAISE's from
        // the spread of its per-example errors (paired with the exact per-example values).
        let aisSigma = (ais.diagnostics!.logSpaceBand.upperBound - ais.logZ) / 3
        let gaps = zip(raise.perExample, negFs).map { $0 - ($1 - logZ) }
        let gapMean = gaps.reduce(0, +) / Double(gaps.count)
        let gapSE = (gaps.map { ($0 - gapMean) * ($0 - gapMean) }.reduce(0, +) / Double(gaps.count - 1) / Double(gaps.count)).squareRoot()
        #expect(gapMean <= 3 * gapSE + 1e-3, "\(name): RAISE − exact = \(gapMean) ± \(gapSE)")
        #expect(exact <= upper + 3 * aisSigma + 1e-3, "\(name): exact \(exact), AIS \(upper) ± \(aisSigma)")
        #expect(Swift.abs(upper - exact) < 0.2 && Swift.abs(lower - exact) < 0.2, "\(name): RAISE \(lower), exact \(exact), AIS \(upper)")
        if kind == 2 {   // sharp: the trained weights are large
            #expect(withoutGrad { model.weights.abs().max().item } > 2, "the trained model should have sharp modes")
        }
        #expect(ais.diagnostics!.isReliable, "\(name): \(ais)")
        #expect(Swift.abs(raise.impliedLogZ - (negF - lower)) < 1e-9)
    }

    /// A short path on the sharp-moded model: the weights collapse onto a few runs, and the
    /// estimate says so (ESS below 10 % of the runs or an unbounded band) instead of printing a
    /// confident number.
    @Test func diagnosticsWarnOnAHardModel() {
        let model = Self.plantedModel(visible: 20, hidden: 12, strength: 6, seed: 95)
        let ais = AnnealedImportanceSampling(betas: [0, 0.25, 0.5, 0.75, 1], runs: 100).logPartition(of: model, generator: RandomGenerator(seed: 96))
        let d = ais.diagnostics!
        #expect(!d.isReliable && d.effectiveSampleSize < 10, "\(ais)")
        #expect(ais.description.contains("UNRELIABLE"))
        #expect(d.logSpaceBand.lowerBound.isFinite && d.logSpaceBand.contains(ais.logZ))
        // The diagnostics themselves: equal weights give ESS = runs and zero variance.
        let flat = LogPartitionEstimate.Diagnostics.importanceSampling(logWeights: [Double](repeating: 1.5, count: 8), offset: 2)
        #expect(flat.effectiveSampleSize == 8 && flat.logWeightVariance == 0 && flat.logSpaceBand == 3.5...3.5 && flat.isReliable)
        let one = LogPartitionEstimate.Diagnostics.importanceSampling(logWeights: [0, -50, -50, -50], offset: 0)
        #expect(Swift.abs(one.effectiveSampleSize - 1) < 1e-12 && !one.isReliable)
    }

    /// The three AIS paths (uniform base, data marginals, TAP magnetizations) all estimate the same
    /// ln Z; on a model whose visible units are far from ½ the mean-field base has the smallest
    /// log-weight variance of the three at equal cost.
    @Test func aisPathsAgreeAndTheMeanFieldBaseIsTight() {
        let g = RandomGenerator(seed: 97)
        let model = RBM<Double>(weights: T.normal([16, 10], std: 0.3, generator: g), visibleBias: T.normal([16], std: 2, generator: g),
                                hiddenBias: T.normal([10], std: 0.5, generator: g))
        let exact = model.exactLogPartition()
        let data = Self.testSet(model, count: 200, seed: 98)
        let schedule = AnnealedImportanceSampling.schedule(coarse: 2e-2, middle: 2e-3, fine: 1e-3)
        let bases: [Tensor<Double>?] = [nil, AnnealedImportanceSampling.baseRateBiases(data: data),
                                        AnnealedImportanceSampling.meanFieldBaseBiases(of: model, solver: TAPSolver(order: .tap2, iterations: 500, tolerance: 1e-10))]
        let estimates = bases.map { AnnealedImportanceSampling(betas: schedule, runs: 100).logPartition(of: model, baseBiases: $0, generator: RandomGenerator(seed: 99)) }
        for e in estimates { #expect(Swift.abs(e.logZ - exact) < 0.05, "\(e) vs exact \(exact)") }
        let variances = estimates.map { $0.diagnostics!.logWeightVariance }
        #expect(variances[2] < variances[0], "log-weight variances (uniform, data, TAP2): \(variances)")
    }

    /// The self-refining AIS doubles its intervals until the estimate is reliable, and then agrees
    /// with exact ln Z.
    @Test func aisRefinesItsScheduleUntilReliable() {
        let model = Self.plantedModel(visible: 20, hidden: 12, strength: 3, seed: 100)
        let coarse = AnnealedImportanceSampling(betas: [0, 0.5, 1], runs: 100)
        let first = coarse.logPartition(of: model, generator: RandomGenerator(seed: 101))
        let refined = coarse.logPartitionUntilReliable(of: model, maxIntervals: 1 << 14, generator: RandomGenerator(seed: 101))
        #expect(!first.diagnostics!.isReliable && refined.diagnostics!.isReliable, "\(first)\n\(refined)")
        #expect(refined.intervals > 2 && (refined.intervals & (refined.intervals - 1)) == 0)
        #expect(Swift.abs(refined.logZ - model.exactLogPartition()) < 3 * (refined.diagnostics!.logSpaceBand.upperBound - refined.logZ) / 3 + 0.05)
        #expect(AnnealedImportanceSampling.refined([0, 0.5, 1]) == [0, 0.25, 0.5, 0.75, 1])
    }
}
