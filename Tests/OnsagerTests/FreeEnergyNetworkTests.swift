import Foundation
import Testing
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData

/// The discriminative RBM against brute force, and the tied-weight MLP view of the EMF forward pass.
@Suite struct FreeEnergyNetworkTests {
    typealias T = Tensor<Double>
    let g = RandomGenerator(seed: 81)

    func tinyDRBM() -> DiscriminativeRBM<Double> {
        DiscriminativeRBM(weights: T.normal([4, 3], std: 0.8, generator: g), classWeights: T.normal([3, 3], std: 0.8, generator: g),
                          hiddenBias: T.normal([3], std: 0.3, generator: g), visibleBias: T.normal([4], std: 0.3, generator: g),
                          classBias: T.normal([3], std: 0.3, generator: g))
    }

    /// p(y | x) = Σ_h exp(−E(x, y, h)) / Σ_{y', h} exp(−E(x, y', h)), enumerating every h.
    @Test func classPosteriorEqualsBruteForce() {
        let m = tinyDRBM()
        let x = T([[1, 0, 1, 1], [0, 0, 1, 0], [0.3, 0.9, 0.1, 0.5]])
        let p = m.logClassProbabilities(x).exp()
        let (W, U, b, c, d) = (m.weights, m.classWeights, m.hiddenBias, m.visibleBias, m.classBias)
        for r in 0..<3 {
            var weights = [Double](repeating: 0, count: 3)
            for y in 0..<3 {
                for code in 0..<8 {
                    let h = (0..<3).map { Double((code >> $0) & 1) }
                    var e = d[index: [y]]
                    for i in 0..<4 { e += c[index: [i]] * x[index: [r, i]] }
                    for j in 0..<3 {
                        var s = b[index: [j]] + U[index: [y, j]]
                        for i in 0..<4 { s += x[index: [r, i]] * W[index: [i, j]] }
                        e += s * h[j]
                    }
                    weights[y] += exp(e)
                }
            }
            let total = weights.reduce(0, +)
            #expect(maxRelativeError((0..<3).map { p[index: [r, $0]] }, weights.map { $0 / total }) < 1e-13)
        }
        #expect(m.predict(x) == (0..<3).map { r in (0..<3).max { p[index: [r, $0]] < p[index: [r, $1]] }! })
    }

    @Test func objectivesPassGradcheck() {
        let m = tinyDRBM()
        let x = T([[1, 0, 1, 1], [0, 0, 1, 0], [0.3, 0.9, 0.1, 0.5]]), labels = [2, 0, 1]
        let build: ([T]) -> DiscriminativeRBM<Double> = { p in
            DiscriminativeRBM(weights: p[0], classWeights: p[1], hiddenBias: p[2], visibleBias: p[3], classBias: p[4])
        }
        let r = gradcheck({ p in build(p).discriminativeLoss(x, labels: labels) }, at: m.parameters)
        #expect(r.passed, "conditional log-likelihood: \(r)")
        let r2 = gradgradcheck({ p in build(p).discriminativeLoss(x, labels: labels) }, at: m.parameters)
        #expect(r2.passed, "second derivatives: \(r2)")
        let r3 = gradcheck({ p in build(p).freeEnergy(x, T.oneHot(labels, classes: 3)).sum() }, at: m.parameters)
        #expect(r3.passed, "joint free energy: \(r3)")
    }

    /// The hybrid objective trains: a toy problem (the class is which half of the input is on) is learnt.
    @Test func hybridTrainingLearnsAToyProblem() {
        var x: [[Float]] = [], labels: [Int] = []
        let rg = RandomGenerator(seed: 5)
        for n in 0..<64 {
            let y = n % 2
            x.append((0..<8).map { i in (i < 4) == (y == 0) ? (rg.nextInt(below: 10) < 9 ? 1 : 0) : (rg.nextInt(below: 10) < 1 ? 1 : 0) })
            labels.append(y)
        }
        let data = Tensor<Float>(x)
        var m = DiscriminativeRBM<Float>(inputs: 8, hidden: 6, classes: 2, weightStd: 0.1, generator: RandomGenerator(seed: 6))
        var opt = SGD<Float>(learningRate: 0.1, momentum: 0.5)
        let before = m.discriminativeLoss(data, labels: labels).item
        for _ in 0..<200 {
            m.zeroGradients()
            m.hybridLoss(data, labels: labels, alpha: 0.1, generator: RandomGenerator(seed: 7)).backward()
            m.update(with: &opt)
        }
        #expect(m.discriminativeLoss(data, labels: labels).item < before / 4)
        #expect(zip(m.predict(data), labels).allSatisfy { $0 == $1 })
    }

    /// The generative objective alone (CD-1 on the joint) raises the exact log p(x, y) of the data,
    /// computed by enumerating every (x, y, h); and the class sampler draws with the right frequencies.
    @Test func generativeTrainingRaisesTheJointLikelihood() {
        let data = Tensor<Double>([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]]), labels = [0, 0, 1, 1, 0, 1]
        func logLikelihood(_ m: DiscriminativeRBM<Double>) -> Double {
            // ln Z over x ∈ {0,1}⁴ and y ∈ {0,1} of exp(−F(x, y)).
            let xs = Tensor<Double>((0..<16).map { c in (0..<4).map { Double((c >> $0) & 1) } })
            let all = (0..<2).map { y in (-m.freeEnergy(xs, Tensor.oneHot(Array(repeating: y, count: 16), classes: 2))).scalars }.flatMap { $0 }
            let mx = all.max()!, lnZ = mx + log(all.map { exp($0 - mx) }.reduce(0, +))
            return (-m.freeEnergy(data, Tensor.oneHot(labels, classes: 2))).mean().item - lnZ
        }
        var m = DiscriminativeRBM<Double>(inputs: 4, hidden: 3, classes: 2, weightStd: 0.1, generator: RandomGenerator(seed: 8))
        let before = logLikelihood(m)
        var opt = SGD<Double>(learningRate: 0.05, momentum: 0.5)
        let chain = RandomGenerator(seed: 9)
        for _ in 0..<800 {
            m.zeroGradients()
            m.generativeLoss(data, labels: labels, k: 1, generator: chain).backward()
            m.update(with: &opt)
        }
        let after = logLikelihood(m)
        #expect(after > before + 1, "exact log p(x, y): \(before) → \(after)")
        let p = Tensor<Double>(Array(repeating: [0.2, 0.5, 0.3], count: 20000))
        let counts = DiscriminativeRBM<Double>.sampleCategorical(p, generator: RandomGenerator(seed: 10)).sum(axis: 0).scalars
        let chi2 = zip(counts, [0.2, 0.5, 0.3]).map { ($0 - 20000 * $1) * ($0 - 20000 * $1) / (20000 * $1) }.reduce(0, +)
        #expect(chi2 < 13.8, "χ² with 2 degrees of freedom below its 0.1 % point: \(chi2), counts \(counts)")
    }

    /// The tied-weight network's forward pass is the solver's iteration (to 1e-12).
    @Test(arguments: [PlefkaOrder.meanField, .tap2, .tap3])
    func forwardPassEqualsTheSolver(order: PlefkaOrder) {
        let rbm = RBM<Double>(weights: T.normal([6, 4], std: 0.5, generator: g), visibleBias: T.normal([6], std: 0.2, generator: g),
                              hiddenBias: T.normal([4], std: 0.2, generator: g))
        let v = Tensor<Double>.bernoulli(Tensor(repeating: 0.5, shape: [5, 6]), generator: g)
        let start = TAPSolver.start(from: v, model: rbm)
        let net = MeanFieldNetwork(tiedTo: rbm, depth: 7, order: order)
        let mine = net(start), theirs = TAPSolver(order: order, iterations: 7).solve(rbm, from: start).0
        #expect(allClose(mine.visible, theirs.visible, rtol: 1e-12, atol: 1e-12) && allClose(mine.hidden, theirs.hidden, rtol: 1e-12, atol: 1e-12))
    }

    @Test func tiedLayersShareOneParameterSetAndUntyingCopiesIt() {
        let rbm = RBM<Double>(visible: 6, hidden: 4, weightStd: 0.3, generator: g)
        var tied = MeanFieldNetwork(tiedTo: rbm, depth: 5, order: .tap2)
        #expect(tied.isTied && tied.parameterCount == 6 * 4 + 6 + 4)
        var untied = tied.untied()
        #expect(!untied.isTied && untied.parameterCount == 5 * (6 * 4 + 6 + 4))
        let v = Tensor<Double>.bernoulli(Tensor(repeating: 0.5, shape: [3, 6]), generator: g)
        let start = TAPSolver.start(from: v, model: rbm)
        #expect(tied(start).hidden.scalars == untied(start).hidden.scalars, "untying starts from the tied values")
        var sgd = SGD<Double>(learningRate: 0.5)
        for net in [0, 1] {
            let loss = (net == 0 ? tied(start) : untied(start)).hidden.sum()
            loss.backward()
            if net == 0 { tied.update(with: &sgd) } else { untied.update(with: &sgd) }
        }
        #expect(tied.sweeps.allSatisfy { $0.rbm.weights.scalars == tied.sweeps[0].rbm.weights.scalars } && tied.isTied)
        #expect(untied.sweeps[0].rbm.weights.scalars != untied.sweeps[4].rbm.weights.scalars, "untied layers move apart")
        #expect(tied.description.contains("(sweeps): ModuleList(") && tied.description.contains("34 parameters"))
    }

    /// With the input clamped, naive mean field's hidden fixed point is σ(b + xW): the network is a
    /// one-hidden-layer sigmoid MLP; TAP2's correction moves it when inputs are grey.
    @Test func clampedMeanFieldIsASigmoidLayer() {
        let rbm = RBM<Double>(visible: 6, hidden: 4, weightStd: 0.8, generator: g)
        let x = T.uniform([3, 6], generator: g)
        let start = Magnetizations(visible: x, hidden: rbm.hiddenProbabilities(x))
        let mf = MeanFieldNetwork(tiedTo: rbm, depth: 5, order: .meanField, clampsVisible: true)(start)
        #expect(allClose(mf.hidden, rbm.hiddenProbabilities(x), rtol: 1e-15, atol: 1e-15) && mf.visible.scalars == x.scalars)
        let tap2 = MeanFieldNetwork(tiedTo: rbm, depth: 5, order: .tap2, clampsVisible: true)(start)
        #expect(!allClose(tap2.hidden, rbm.hiddenProbabilities(x), rtol: 1e-6, atol: 1e-6))
    }

    /// Unrolled (backprop through T sweeps) and envelope gradients of −G(m_T) agree once m_T is a
    /// fixed point, and not before.
    @Test func unrolledAndEnvelopeGradientsAgreeAtConvergence() {
        let rbm = RBM<Double>(weights: T.normal([6, 4], std: 0.5, generator: g), visibleBias: T.normal([6], std: 0.2, generator: g),
                              hiddenBias: T.normal([4], std: 0.2, generator: g))
        let v = Tensor<Double>.bernoulli(Tensor(repeating: 0.5, shape: [5, 6]), generator: g)
        func cosine(_ depth: Int) -> Double {
            let net = MeanFieldNetwork(tiedTo: rbm, depth: depth, order: .tap2)
            let m = net(TAPSolver.start(from: v, model: rbm))
            let unrolled = gradients(of: rbm.negativeGibbsFreeEnergy(m, approximation: .tap2).mean(), wrt: rbm.parameters).flatMap(\.scalars)
            let envelope = gradients(of: rbm.negativeGibbsFreeEnergy(m.detached(), approximation: .tap2).mean(), wrt: rbm.parameters).flatMap(\.scalars)
            let dot = zip(unrolled, envelope).map(*).reduce(0, +)
            return dot / (unrolled.map { $0 * $0 }.reduce(0, +).squareRoot() * envelope.map { $0 * $0 }.reduce(0, +).squareRoot())
        }
        let early = cosine(1), late = cosine(200)
        let residual = TAPSolver(order: .tap2).residual(rbm, at: MeanFieldNetwork(tiedTo: rbm, depth: 200, order: .tap2)(TAPSolver.start(from: v, model: rbm)))
        #expect(residual.max().item < 1e-10, "200 sweeps reach a fixed point")
        #expect(late > 1 - 1e-10, "converged: \(late)")
        #expect(early < 1 - 1e-6, "one sweep from the data is not a fixed point, and the gradients differ: \(early)")
    }
}

@Suite struct DeepBeliefNetworkTests {
    /// Pretraining raises the first layer's exact log-likelihood, and the classifier's hidden
    /// layers compute exactly the stack's P(h | v).
    @Test func pretrainedStackBecomesAnMLP() throws {
        let data: Tensor<Double> = BarsAndStripes.patterns(size: 4, as: Double.self)
        var dbn = DeepBeliefNetwork<Double>(sizes: [16, 8, 5], weightStd: 0.1, generator: RandomGenerator(seed: 3))
        var losses: [[Double]] = [[], []]
        try dbn.pretrain(on: data, epochs: 30, batchSize: 10, method: .cd(k: 1), optimizer: SGD<Double>(learningRate: 0.1, momentum: 0.5),
                         generator: RandomGenerator(seed: 4)) { layer, _, loss in losses[layer].append(loss) }
        #expect(losses.map(\.count) == [30, 30])
        let mlp = dbn.classifier(classes: 3, generator: RandomGenerator(seed: 5))
        let hidden = Sequential<Double>(Array(mlp.layers.prefix(4)))(data)
        let want = dbn.layers[1].hiddenProbabilities(dbn.layers[0].hiddenProbabilities(data))
        #expect(allClose(hidden, want.detached(), rtol: 1e-13, atol: 1e-14))
        #expect(mlp.namedParameters.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"])
        #expect(dbn.namedParameters.count == 6 && dbn.namedParameters[0].name == "layers.0.weights")
        let exact = dbn.layers[0].logLikelihood(data)
        let untrained = RBM<Double>(visible: 16, hidden: 8, weightStd: 0.1, data: data, generator: RandomGenerator(seed: 3)).logLikelihood(data)
        #expect(exact > untrained, "pretraining the first layer raised the exact log-likelihood: \(untrained) → \(exact)")
    }
}
