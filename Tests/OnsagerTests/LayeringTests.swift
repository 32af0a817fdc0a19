import Foundation
import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy

/// The pieces the architecture work made shared: one clamped free energy, stationarity equations
/// written once for both layers, one training loop for layers and energy models.
@Suite struct LayeringTests {
    /// The visible equation of a model is the hidden equation of its transpose (W → Wᵀ, a ↔ b):
    /// one function serves both layers by swapping roles.
    @Test(arguments: PlefkaOrder.allCases)
    func stationarityEquationsSwapRoles(order: PlefkaOrder) {
        let m = randomRBM(visible: 7, hidden: 5, scale: 0.7, seed: 40)
        let t = RBM<Double>(weights: m.weights.T.contiguous(), visibleBias: m.hiddenBias, hiddenBias: m.visibleBias)
        let g = RandomGenerator(seed: 41)
        let mv = Tensor<Double>.uniform([3, 7], low: 0.05, high: 0.95, generator: g)
        let mh = Tensor<Double>.uniform([3, 5], low: 0.05, high: 0.95, generator: g)
        let fv = m.plefkaField(of: .visible, Magnetizations(visible: mv, hidden: mh), order: order.rawValue, couplings: CouplingPowers(m))
        let ft = t.plefkaField(of: .hidden, Magnetizations(visible: mh, hidden: mv), order: order.rawValue, couplings: CouplingPowers(t))
        #expect(allClose(fv, ft, rtol: 1e-13))
        // And it is the stationarity condition of −G: σ(field) = m ⇔ ∂(−G)/∂mv = 0, i.e.
        // ∂(−G)/∂mv = field − logit(mv) (the entropy's derivative is −logit).
        let leaf = mv.requiringGrad()
        let negG = m.negativeGibbsFreeEnergy(Magnetizations(visible: leaf, hidden: mh), approximation: order).sum()
        let grad = gradients(of: negG, wrt: [leaf])[0]
        #expect(allClose(grad, fv - (mv / (1 - mv)).log(), rtol: 1e-10, atol: 1e-12))
    }

    /// Every free energy goes through `clampedFreeEnergy`: F(v) by its definition, and the hidden
    /// side's −F(h) summed over h gives the same ln Z as enumerating v.
    @Test func clampedFreeEnergyIsTheOneFreeEnergy() {
        let m = randomRBM(visible: 6, hidden: 4, scale: 0.6, seed: 42)
        let v = Tensor<Double>.bernoulli(Tensor(repeating: 0.5, shape: [5, 6]), generator: RandomGenerator(seed: 43))
        let direct = -matmul(v, m.visibleBias) - (matmul(v, m.weights) + m.hiddenBias).softplus().sum(axis: 1)
        #expect(allClose(m.freeEnergy(v), direct, rtol: 1e-14))
        let states = Tensor<Double>(shape: [64, 6], scalars: (0..<64).flatMap { c in (0..<6).map { Double((c >> $0) & 1) } })
        let viaVisible = (-m.freeEnergy(states)).logSumExp(axis: 0).item
        #expect(Swift.abs(viaVisible - m.exactLogPartition()) < 1e-12)
        // The term-by-term change under a flip equals the difference of the two free energies.
        var flipped = v.scalars
        flipped[3] = 1 - flipped[3]
        let w = Tensor<Double>(shape: [5, 6], scalars: flipped)
        let change = RBM<Double>.clampedFreeEnergyChange(linearChange: matmul(w - v, m.visibleBias), field: m.hiddenField(v),
                                                         shiftedField: m.hiddenField(w))
        #expect(allClose(change, m.freeEnergy(w) - m.freeEnergy(v), rtol: 1e-12, atol: 1e-13))
    }

    /// `trainEpoch` is one epoch of `TrainingLoop`: the same bits as the explicit loop over the
    /// same shuffled batches with `step`.
    @Test func rbmEpochIsOneEpochOfTheTrainingLoop() throws {
        let data: Tensor<Double> = BarsAndStripes.patterns(size: 4, as: Double.self)
        func start() -> (RBM<Double>, ContrastiveDivergence<Double>, SGD<Double>) {
            let g = RandomGenerator(seed: 44)
            return (RBM(visible: 16, hidden: 6, data: data, generator: g), .cd(k: 1, generator: RandomGenerator(seed: 45)),
                    SGD(learningRate: 0.1, momentum: 0.5))
        }
        var (a, cdA, optA) = start()
        let loss = try cdA.trainEpoch(&a, data: data, batchSize: 8, optimizer: &optA, generator: RandomGenerator(seed: 46))
        var (b, cdB, optB) = start()
        let order = RandomGenerator(seed: 46).permutation(30)
        var total = 0.0
        for s in stride(from: 0, to: 30, by: 8) {
            total += Double(cdB.step(&b, batch: data.indexSelect(axis: 0, indices: Array(order[s..<Swift.min(30, s + 8)])), optimizer: &optB))
        }
        #expect(a.weights.scalars == b.weights.scalars && a.hiddenBias.scalars == b.hiddenBias.scalars)
        #expect(loss == total / 4)
    }

    /// A NaN in an energy model's training stops it with the op that made it, as for layers.
    @Test func energyTrainingStopsAtTheFirstNonFiniteValue() {
        let data: Tensor<Double> = BarsAndStripes.patterns(size: 4, as: Double.self)
        var model = RBM<Double>(visible: 16, hidden: 4, data: data, generator: RandomGenerator(seed: 47))
        var trainer = EMFTrainer<Double>(solver: TAPSolver(order: .tap2, iterations: 2), l2: 0)
        var opt = SGD<Double>(learningRate: 1e300)   // the first update overflows the weights
        do {
            try trainer.trainEpoch(&model, data: data, batchSize: 10, optimizer: &opt, generator: RandomGenerator(seed: 48))
            Issue.record("expected a TrainingError")
        } catch let e as TrainingError {
            guard case let .nonFinite(epoch, step, _, op) = e else { return }
            #expect(epoch == 1 && step >= 1 && op != nil, "\(e)")
        } catch { Issue.record("unexpected \(error)") }
    }

    /// A model without modes (a custom module) trains on inputs alone.
    @Test func trainingLoopTrainsAModuleWithoutTargets() throws {
        struct Centre: Module {
            typealias Scalar = Double
            var c = Tensor<Double>.zeros([2]).requiringGrad()
            mutating func visit<V: ModuleVisitor<Double>>(_ v: inout V) { v.parameter("c", &c) }
        }
        let x = Tensor<Double>.normal([64, 2], mean: 3, generator: RandomGenerator(seed: 49))
        var loop = TrainingLoop(model: Centre(), optimizer: SGD<Double>(learningRate: 0.2), batchSize: 16,
                                generator: RandomGenerator(seed: 50))
        loop.showProgress = false
        try loop.fit(inputs: x, epochs: 20) { m, xb in ((xb - m.c) * (xb - m.c)).sum(axis: 1).mean() }
        #expect(allClose(loop.model.c.detached(), x.mean(axis: 0), atol: 0.1))
        #expect(loop.history.count == 20 && loop.history[19].loss < loop.history[0].loss)
    }

    /// Each method makes its own trainer; EMF switches to persistent particles when due.
    @Test func methodsMakeTheirTrainers() {
        let cd: any RBMTrainer<Float> = RBMTrainingMethod.cd(k: 2).makeTrainer(visible: 4, l2: 0, generator: RandomGenerator(seed: 1))
        let pcd: any RBMTrainer<Float> = RBMTrainingMethod.pcd(k: 1, chains: 3).makeTrainer(visible: 4, l2: 0, generator: RandomGenerator(seed: 1))
        #expect((cd as? ContrastiveDivergence<Float>).map { $0.k == 2 && !$0.isPersistent } == true)
        #expect((pcd as? ContrastiveDivergence<Float>)?.chains?.shape == [3, 4])
        var emf: any RBMTrainer<Double> = RBMTrainingMethod.emf(order: .tap3, iterations: 2, persistentAfter: 1)
            .makeTrainer(visible: 16, l2: 0, generator: RandomGenerator(seed: 1))
        let data: Tensor<Double> = BarsAndStripes.patterns(size: 4, as: Double.self)
        let model = RBM<Double>(visible: 16, hidden: 3, generator: RandomGenerator(seed: 2))
        _ = emf.loss(model, batch: data)
        #expect((emf as? EMFTrainer<Double>)?.particles == nil)
        _ = emf.loss(model, batch: data)
        #expect((emf as? EMFTrainer<Double>)?.particles?.visible.shape == [30, 16])
    }
}
