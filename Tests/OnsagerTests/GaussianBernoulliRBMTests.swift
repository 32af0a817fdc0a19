import Foundation
import Testing
import Onsager
@testable import OnsagerEnergy

/// The Gaussian–Bernoulli RBM: ln Z against numerical integration, gradients against central
/// differences, AIS against exact ln Z, and CD training that raises the exact log-density.
@Suite struct GaussianBernoulliRBMTests {
    typealias T = Tensor<Double>
    static func model(visible: Int, hidden: Int, seed: UInt64, learnsVariance: Bool = true) -> GaussianBernoulliRBM<Double> {
        let g = RandomGenerator(seed: seed)
        return GaussianBernoulliRBM(weights: T.normal([visible, hidden], std: 0.5, generator: g), visibleBias: T.normal([visible], std: 0.5, generator: g),
                                    hiddenBias: T.normal([hidden], std: 0.5, generator: g), logVariance: T.normal([visible], std: 0.3, generator: g),
                                    learnsVariance: learnsVariance)
    }

    /// ln Z of a 2-visible model by a trapezoid rule over a 1601² grid on [−12, 12]², summing the
    /// hidden states: the closed form agrees to 1e-9.
    @Test func logPartitionMatchesNumericalIntegration() {
        let m = Self.model(visible: 2, hidden: 3, seed: 120)
        let n = 1601, lo = -12.0, step = 24.0 / Double(n - 1)
        let grid = (0..<n).map { lo + Double($0) * step }
        var rows: [Double] = []
        for x in grid { for y in grid { rows += [x, y] } }
        let v = T(shape: [n * n, 2], scalars: rows)
        let f = withoutGrad { -m.freeEnergy(v) }.scalars
        let top = f.max()!
        var total = 0.0
        for i in 0..<n { for j in 0..<n {
            let weight = (i == 0 || i == n - 1 ? 0.5 : 1) * (j == 0 || j == n - 1 ? 0.5 : 1)
            total += weight * Foundation.exp(f[i * n + j] - top)
        } }
        let numeric = top + Foundation.log(total * step * step)
        #expect(Swift.abs(numeric - m.exactLogPartition()) < 1e-9, "numeric \(numeric) vs closed form \(m.exactLogPartition())")
    }

    /// F(v) and ln Z pass gradcheck (first and second order) in W, b, c, z and v.
    @Test func gradients() {
        let m = Self.model(visible: 4, hidden: 3, seed: 121)
        let v = T.normal([3, 4], generator: RandomGenerator(seed: 122))
        let f: ([T]) -> T = { p in
            GaussianBernoulliRBM(weights: p[0], visibleBias: p[1], hiddenBias: p[2], logVariance: p[3]).freeEnergy(p[4])
        }
        let z: ([T]) -> T = { p in GaussianBernoulliRBM(weights: p[0], visibleBias: p[1], hiddenBias: p[2], logVariance: p[3]).exactLogPartitionTensor() }
        let params = [m.weights, m.visibleBias, m.hiddenBias, m.logVariance]
        for (name, r) in [("F", gradcheck(f, at: params + [v])), ("F 2nd", gradgradcheck(f, at: params + [v])),
                          ("ln Z", gradcheck(z, at: params)), ("ln Z 2nd", gradgradcheck(z, at: params))] {
            #expect(r.passed, "\(name): \(r)")
        }
        // The variances are exp(z); a fixed-variance model declares z as a buffer, not a parameter.
        let fixed = Self.model(visible: 4, hidden: 3, seed: 121, learnsVariance: false)
        #expect(fixed.namedParameters.map(\.name) == ["weights", "visible_bias", "hidden_bias"] && fixed.namedBuffers.map(\.name) == ["log_variance"])
        _ = fixed.summary
        #expect(allClose(m.variance, m.logVariance.exp()))
    }

    @Test func aisAgreesWithExactLogPartition() {
        let m = Self.model(visible: 12, hidden: 8, seed: 123)
        let e = m.annealedLogPartition(AnnealedImportanceSampling(betas: AnnealedImportanceSampling.schedule(coarse: 1e-2, middle: 1e-3, fine: 1e-3), runs: 100),
                                       generator: RandomGenerator(seed: 124))
        #expect(e.band!.contains(m.exactLogPartition()) && Swift.abs(e.logZ - m.exactLogPartition()) < 0.1 && e.diagnostics!.isReliable, "\(e) vs \(m.exactLogPartition())")
    }

    /// CD-1 on a two-cluster real-valued set raises the exact log-density, variances learned.
    @Test func contrastiveDivergenceLearnsTwoClusters() throws {
        let g = RandomGenerator(seed: 125)
        let centres = T([[2, -2, 2, -2], [-2, 2, -2, 2]])
        let data = centres.indexSelect(axis: 0, indices: (0..<200).map { $0 % 2 }) + T.normal([200, 4], std: 0.3, generator: g)
        var model = GaussianBernoulliRBM<Double>(visible: 4, hidden: 4, weightStd: 0.1, data: data, generator: g)
        let before = model.logLikelihood(data)
        var loop = TrainingLoop(model: model, optimizer: Adam<Double>(learningRate: 0.02), batchSize: 20, generator: g)
        loop.showProgress = false
        var chains: Tensor<Double>? = nil
        try loop.fit(inputs: data, epochs: 60) { m, batch in m.contrastiveDivergenceLoss(batch, k: 1, chains: &chains, generator: g) }
        model = loop.model
        let after = model.logLikelihood(data)
        #expect(after > before + 1, "log-density \(before) → \(after)")
    }

    /// Mean-field and TAP2 free energies for Gaussian visible units against exact ln Z as the
    /// weights shrink: the error falls like W² (mean field) and W⁴ (TAP2: the order-3 term
    /// vanishes for Gaussian units); and at the fixed point ∂G/∂m = 0.
    @Test func meanFieldAndTAP2ApproachExactLogPartition() {
        let base = Self.model(visible: 6, hidden: 5, seed: 126)
        let scales = [0.4, 0.2, 0.1]
        var errors: [Int: [Double]] = [1: [], 2: []]
        for s in scales {
            let m = GaussianBernoulliRBM(weights: base.weights * s, visibleBias: base.visibleBias, hiddenBias: base.hiddenBias, logVariance: base.logVariance)
            let exact = m.exactLogPartition()
            for order in [1, 2] {
                let lz = m.meanFieldLogPartition(order: order, from: T(repeating: 0.5, shape: [1, 5])).item
                errors[order]!.append(Swift.abs(lz - exact))
            }
        }
        func slope(_ e: [Double]) -> Double { Foundation.log(e[0] / e[2]) / Foundation.log(scales[0] / scales[2]) }
        #expect(Swift.abs(slope(errors[1]!) - 2) < 0.3, "mean field \(errors[1]!)")
        #expect(Swift.abs(slope(errors[2]!) - 4) < 0.4, "TAP2 \(errors[2]!)")
        #expect(errors[2]!.last! < errors[1]!.last! / 100)
    }
}
