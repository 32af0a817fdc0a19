import Foundation
import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData
@testable import OnsagerLinearAlgebra

/// The model of ../shared/reference/ref_vectors.py: Nv = 6, Nh = 4,
/// W_ij = 0.3 sin(1 + i + 2j), a_i = 0.1 cos(i), b_j = −0.2 + 0.05 j.
func referenceRBM() -> RBM<Double> {
    let w = Tensor<Double>(shape: [6, 4], scalars: (0..<6).flatMap { i in (0..<4).map { j in 0.3 * sin(1.0 + Double(i) + 2.0 * Double(j)) } })
    return RBM(weights: w, visibleBias: Tensor((0..<6).map { 0.1 * cos(Double($0)) }),
               hiddenBias: Tensor((0..<4).map { -0.2 + 0.05 * Double($0) }))
}

func randomRBM(visible: Int, hidden: Int, scale: Double, seed: UInt64) -> RBM<Double> {
    let g = RandomGenerator(seed: seed)
    return RBM(weights: Tensor.normal([visible, hidden], std: scale, generator: g),
               visibleBias: Tensor.normal([visible], std: 0.2, generator: g),
               hiddenBias: Tensor.normal([hidden], std: 0.2, generator: g))
}

/// The closed-form CD update of (W, a, b) for given data and negative rows, hidden probabilities
/// in both phases: −(⟨v hᵀ⟩_data − ⟨v hᵀ⟩_neg) and the same for the biases.
func closedFormCDGradients(_ m: RBM<Double>, data: Tensor<Double>, negative neg: Tensor<Double>) -> [Tensor<Double>] {
    let ph = m.hiddenProbabilities(data).detached(), nh = m.hiddenProbabilities(neg).detached()
    return [-(matmul(data.T, ph) / Double(data.shape[0]) - matmul(neg.T, nh) / Double(neg.shape[0])),
            -(data.mean(axis: 0) - neg.mean(axis: 0)),
            -(ph.mean(axis: 0) - nh.mean(axis: 0))]
}

@Suite struct RBMTests {
    @Test func sharedReferenceVectors() {
        let m = referenceRBM()
        #expect(Swift.abs(m.exactLogPartition() - 6.727562027601385) < 1e-9)
        let v = Tensor<Double>(shape: [1, 6], scalars: [1, 0, 1, 1, 0, 0])
        #expect(Swift.abs(m.freeEnergy(v).item - (-2.5666048068090093)) < 1e-9)
        #expect(Swift.abs(m.logLikelihood(v) - (-4.160957220792376)) < 1e-9)
    }

    @Test func enumeratingEitherLayerGivesTheSameLogZ() {
        let m = randomRBM(visible: 9, hidden: 7, scale: 0.5, seed: 1)
        // The transposed model has the same Z with the layers swapped; it enumerates the other side.
        let t = RBM<Double>(weights: m.weights.T.contiguous(), visibleBias: m.hiddenBias, hiddenBias: m.visibleBias)
        #expect(Swift.abs(m.exactLogPartition() - t.exactLogPartition()) < 1e-11)
        // And the brute-force double sum over (v, h).
        var terms: [Double] = []
        for vc in 0..<(1 << 9) {
            let v = Tensor<Double>(shape: [1, 9], scalars: (0..<9).map { Double((vc >> $0) & 1) })
            for hc in 0..<(1 << 7) {
                let h = Tensor<Double>(shape: [1, 7], scalars: (0..<7).map { Double((hc >> $0) & 1) })
                terms.append(-m.energy(v, h).item)
            }
        }
        let mx = terms.max()!
        let brute = mx + log(terms.map { exp($0 - mx) }.reduce(0, +))
        #expect(Swift.abs(m.exactLogPartition() - brute) < 1e-10)
    }

    @Test func inverseTemperatureScalesEveryParameter() {
        var m = randomRBM(visible: 8, hidden: 5, scale: 0.6, seed: 2)
        m.beta = 0.7
        let scaled = RBM<Double>(weights: m.weights * 0.7, visibleBias: m.visibleBias * 0.7, hiddenBias: m.hiddenBias * 0.7)
        let v = Tensor<Double>.bernoulli(Tensor(repeating: 0.5, shape: [5, 8]), generator: RandomGenerator(seed: 3))
        #expect(allClose(m.freeEnergy(v), scaled.freeEnergy(v), rtol: 1e-13))
        #expect(allClose(m.hiddenProbabilities(v), scaled.hiddenProbabilities(v), rtol: 1e-13))
        #expect(Swift.abs(m.exactLogPartition() - scaled.exactLogPartition()) < 1e-12)
    }

    /// The tape's gradient of mean F(v) − mean F(v⁻) is exactly the closed-form CD update.
    @Test func autodiffGradientEqualsClosedFormCD() {
        let m = randomRBM(visible: 7, hidden: 5, scale: 0.4, seed: 4)
        let g = RandomGenerator(seed: 5)
        let data = Tensor<Double>.bernoulli(Tensor(repeating: 0.4, shape: [10, 7]), generator: g)
        let neg = Tensor<Double>.bernoulli(Tensor(repeating: 0.6, shape: [6, 7]), generator: g)
        let loss = m.freeEnergy(data).mean() - m.freeEnergy(neg.detached()).mean()
        let grads = gradients(of: loss, wrt: m.parameters)
        #expect(grads.count == 3)
        for (got, want) in zip(grads, closedFormCDGradients(m, data: data, negative: neg)) {
            #expect(allClose(got, want, rtol: 1e-13, atol: 1e-15))
        }
        // And the free energy itself passes gradcheck in every parameter.
        let r = gradcheck({ p in RBM(weights: p[0], visibleBias: p[1], hiddenBias: p[2]).freeEnergy(data) }, at: m.parameters)
        #expect(r.passed, "\(r)")
    }

    /// CD-k's loss records the field of [data; chain] as one product; its gradient must still be
    /// the closed-form CD update with the chain the loss itself sampled (replayed from the seed).
    @Test func contrastiveDivergenceLossGradientEqualsClosedForm() {
        let m = randomRBM(visible: 7, hidden: 5, scale: 0.4, seed: 6)
        let data = Tensor<Double>.bernoulli(Tensor(repeating: 0.4, shape: [10, 7]), generator: RandomGenerator(seed: 7))
        var cd = ContrastiveDivergence<Double>.cd(k: 1, generator: RandomGenerator(seed: 8))
        let grads = gradients(of: cd.loss(m, batch: data), wrt: m.parameters)
        // The same draws in the same order: hidden from the data's field, then visible.
        let replay = RandomGenerator(seed: 8)
        let neg = m.sampleVisible(Tensor.bernoulli(m.hiddenField(data).sigmoid(), generator: replay), generator: replay)
        #expect(grads.count == 3)
        for (got, want) in zip(grads, closedFormCDGradients(m, data: data, negative: neg)) {
            #expect(allClose(got, want, rtol: 1e-12, atol: 1e-14))
        }
        #expect(!allClose(neg, data, atol: 0), "the chain moved, so the negative phase is tested")
    }

    /// CD-k and PCD-k build their [data; negative] rows and field in place (no concatenation) and
    /// start CD's chain from the σ of the pass that sums the data's softplus: the loss, its
    /// gradients and PCD's carried state must equal the composed definition (concatenated rows,
    /// the chain started by `bernoulli` of the field's `sigmoid()`) bit for bit, at β = 1 and β ≠ 1.
    @Test(arguments: [(1, Float(1)), (2, Float(1)), (1, Float(0.7)), (3, Float(0.7))])
    func contrastiveDivergenceLossHasTheComposedBits(k: Int, beta: Float) {
        let g0 = RandomGenerator(seed: 31)
        let m = RBM<Float>(weights: Tensor.normal([37, 21], std: 0.3, generator: g0), visibleBias: Tensor.normal([37], std: 0.2, generator: g0),
                           hiddenBias: Tensor.normal([21], std: 0.2, generator: g0), beta: beta)
        // The second batch is a strided view (every row 40 apart), as a column slice reads.
        let batches = [Tensor<Float>.bernoulli(Tensor(repeating: 0.4, shape: [9, 37]), generator: g0),
                       Tensor<Float>.bernoulli(Tensor(repeating: 0.4, shape: [9, 40]), generator: g0).sliced(axis: 1, 2..<39)]
        func weighted(_ f: Tensor<Float>, _ nb: Int) -> Tensor<Float> {
            let nc = f.shape[0] - nb
            return (f * Tensor(shape: [nb + nc], scalars: Array(repeating: 1 / Float(nb), count: nb) + Array(repeating: -1 / Float(nc), count: nc))).sum()
        }
        // CD-k, composed.
        var cd = ContrastiveDivergence<Float>.cd(k: k, generator: RandomGenerator(seed: 32))
        let replay = RandomGenerator(seed: 32)
        for batch in batches {
            let loss = cd.loss(m, batch: batch)
            let dataField = withoutGrad { matmul(batch, m.w, adding: m.b) }
            var v = m.sampleVisible(Tensor.bernoulli(dataField.sigmoid(), generator: replay), generator: replay)
            for _ in 1..<k { v = m.sampleVisible(m.sampleHidden(v, generator: replay), generator: replay) }
            let rows = concat([batch, v])
            let field = Tensor.recordingAddmm(concat([dataField, withoutGrad { matmul(v, m.w, adding: m.b) }]), rows, m.w, m.b)
            let want = weighted(RBM.clampedFreeEnergyWithProbabilities(linear: matmul(rows, m.a), field: field).freeEnergy, batch.shape[0])
            #expect(loss.scalars == want.scalars)
            #expect(gradients(of: loss, wrt: m.parameters).map(\.scalars) == gradients(of: want, wrt: m.parameters).map(\.scalars))
            #expect(cd.generator.position == replay.position)
        }
        // PCD-k with 5 chains, composed, over two updates (the second starts from the kept hidden sample).
        var pcd = ContrastiveDivergence<Float>.pcd(k: k, chains: 5, visible: 37, generator: RandomGenerator(seed: 33))
        let replayP = RandomGenerator(seed: 33)
        var chains = Tensor<Float>.bernoulli(Tensor(repeating: 0.5, shape: [5, 37]), generator: replayP)
        var chainHidden: Tensor<Float>? = nil
        for batch in batches {
            let loss = pcd.loss(m, batch: batch)
            var h = chainHidden ?? m.sampleHidden(chains, generator: replayP)
            var v = m.sampleVisible(h, generator: replayP)
            for _ in 1..<k { h = m.sampleHidden(v, generator: replayP); v = m.sampleVisible(h, generator: replayP) }
            chains = v
            let x = concat([batch, v])
            let (f, p) = RBM.clampedFreeEnergyWithProbabilities(linear: matmul(x, m.a), field: m.hiddenField(x))
            let want = weighted(f, batch.shape[0])
            chainHidden = Tensor.bernoulli(p.sliced(axis: 0, 9..<14), generator: replayP)
            #expect(loss.scalars == want.scalars)
            #expect(gradients(of: loss, wrt: m.parameters).map(\.scalars) == gradients(of: want, wrt: m.parameters).map(\.scalars))
            #expect(pcd.chains?.scalars == chains.scalars && pcd.chainHidden?.scalars == chainHidden?.scalars)
            #expect(pcd.generator.position == replayP.position)
        }
        // New chains of another count drop the kept hidden sample: the next update samples theirs.
        pcd.chains = Tensor<Float>.bernoulli(Tensor(repeating: 0.5, shape: [8, 37]), generator: g0)
        #expect(pcd.chainHidden == nil)
        let before = pcd.generator.position
        _ = pcd.loss(m, batch: batches[0])
        #expect(pcd.chains?.shape == [8, 37] && pcd.chainHidden?.shape == [8, 21])
        #expect(pcd.generator.position == before + UInt64(8 * 21 * k + 8 * 37 * k + 8 * 21))
    }

    @Test func contrastiveDivergenceNamesAMismatchedBatch() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var cd = ContrastiveDivergence<Float>.cd(generator: RandomGenerator(seed: 1))
            _ = cd.loss(RBM<Float>(visible: 6, hidden: 3), batch: Tensor<Float>.zeros([4, 5]))
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("[4, 5]") && text.contains("6 visible units"), "\(text)")
        }
    }

    @Test func pseudoLikelihoodMatchesItsDefinition() {
        let m = randomRBM(visible: 6, hidden: 4, scale: 0.8, seed: 6)
        let v = Tensor<Double>.bernoulli(Tensor(repeating: 0.5, shape: [5, 6]), generator: RandomGenerator(seed: 7))
        let pl = m.pseudoLogLikelihood(v, rowsPerChunk: 2).scalars
        let rows = v.scalars
        for r in 0..<5 {
            let x = Array(rows[(r * 6)..<(r * 6 + 6)])
            let f = m.freeEnergy(Tensor(shape: [1, 6], scalars: x)).item
            var want = 0.0
            for i in 0..<6 {
                var y = x
                y[i] = 1 - y[i]
                let fy = m.freeEnergy(Tensor(shape: [1, 6], scalars: y)).item
                want += -log1p(exp(-(fy - f)))
            }
            #expect(Swift.abs(pl[r] - want) < 1e-12)
        }
        // The one-bit estimate (scikit-learn's) is unbiased: average many draws.
        let g = RandomGenerator(seed: 8)
        var sum = [Double](repeating: 0, count: 5)
        let draws = 3000
        for _ in 0..<draws { for (i, s) in m.stochasticPseudoLogLikelihood(v, generator: g).scalars.enumerated() { sum[i] += s } }
        for r in 0..<5 { #expect(Swift.abs(sum[r] / Double(draws) - pl[r]) < 0.1, "row \(r): \(sum[r] / Double(draws)) vs \(pl[r])") }
    }

    @Test func aisOnTheReferenceModel() {
        // The reference script's schedule shape (1e-2 / 1e-3 / 1e-3 steps) and 100 runs: ≈ 6.725.
        var betas = [Double]()
        for i in 0..<50 { betas.append(Double(i) * 1e-2) }
        for i in 0..<400 { betas.append(0.5 + Double(i) * 1e-3) }
        for i in 0...100 { betas.append(0.9 + Double(i) * 1e-3) }
        betas[betas.count - 1] = 1
        let r = AnnealedImportanceSampling(betas: betas, runs: 100).logPartition(of: referenceRBM(), generator: RandomGenerator(seed: 9))
        #expect(Swift.abs(r.logZ - 6.727562027601385) < 0.03, "\(r)")
    }

    /// AIS on a 20 × 12 model lands within its ±3σ band and within 0.05 nats of the exact value,
    /// in Double and in Float.
    @Test func aisAgreesWithExactLogZ() {
        let m = randomRBM(visible: 20, hidden: 12, scale: 0.3, seed: 10)
        let exact = m.exactLogPartition()
        let data = Tensor<Double>.bernoulli(Tensor(repeating: 0.3, shape: [200, 20]), generator: RandomGenerator(seed: 11))
        let ais = AnnealedImportanceSampling(betas: AnnealedImportanceSampling.schedule(coarse: 1e-2, middle: 1e-3, fine: 1e-4), runs: 200)
        let base = AnnealedImportanceSampling.baseRateBiases(data: data)
        let r = ais.logPartition(of: m, baseBiases: base, generator: RandomGenerator(seed: 12))
        #expect(r.logZLower <= exact && exact <= r.logZUpper, "\(r) vs exact \(exact)")
        #expect(Swift.abs(r.logZ - exact) < 0.05, "\(r) vs exact \(exact)")
        let rf = ais.logPartition(of: m.converted(to: Float.self), generator: RandomGenerator(seed: 13))
        #expect(Swift.abs(rf.logZ - exact) < 0.05, "Float: \(rf) vs exact \(exact)")
        #expect(r.intervals == 1450 && r.runs == 200)
        #expect(AnnealedImportanceSampling().betas.count == 14_501)
    }

    @Test func baseRateBiasesStayFiniteForConstantPixels() {
        let data = Tensor<Float>(shape: [4, 3], scalars: [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0])
        let b = AnnealedImportanceSampling.baseRateBiases(data: data, pseudoCount: 1).scalars
        #expect(b.allSatisfy { $0.isFinite })
        #expect(Swift.abs(b[0] - Float(log(5.0 / 1.0))) < 1e-5 && Swift.abs(b[1] + Float(log(5.0))) < 1e-5 && Swift.abs(b[2]) < 1e-6)
    }

    @Test func barsAndStripesPatterns() {
        let p: Tensor<Float> = BarsAndStripes.patterns(size: 4)
        #expect(p.shape == [30, 16])
        #expect(Set(p.scalars.chunked(16)).count == 30)
        let p3: Tensor<Double> = BarsAndStripes.patterns(size: 3, as: Double.self)
        #expect(p3.shape == [14, 9])
    }

    /// CD-1 and PCD raise the exact log-likelihood of bars-and-stripes, deterministically.
    @Test(arguments: [false, true])
    func trainingIncreasesExactLikelihood(persistent: Bool) {
        func train() -> (before: Double, after: Double, weights: [Double]) {
            let g = RandomGenerator(seed: 21)
            let data: Tensor<Double> = BarsAndStripes.patterns(size: 4, as: Double.self)
            var model = RBM<Double>(visible: 16, hidden: 8, weightStd: 0.01, data: data, generator: g)
            let before = model.logLikelihood(data)
            var cd: ContrastiveDivergence<Double> = persistent
                ? .pcd(k: 1, chains: 30, visible: 16, generator: g) : .cd(k: 1, generator: g)
            var opt = SGD<Double>(learningRate: 0.1, momentum: 0.5)
            for _ in 0..<1000 { cd.step(&model, batch: data, optimizer: &opt) }
            return (before, model.logLikelihood(data), model.weights.scalars)
        }
        let run1 = train(), run2 = train()
        #expect(run1.after > run1.before + 3.0, "log-likelihood \(run1.before) → \(run1.after)")
        #expect(run1.weights == run2.weights, "seeded training is reproducible")
    }
}

extension Array {
    func chunked(_ n: Int) -> [[Element]] { stride(from: 0, to: count, by: n).map { Array(self[$0..<Swift.min(count, $0 + n)]) } }
}
