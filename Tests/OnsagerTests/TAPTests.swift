import Foundation
import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData
@testable import OnsagerLinearAlgebra

@Suite struct TAPTests {
    typealias T = Tensor<Double>
    static func half(_ m: RBM<Double>) -> Magnetizations<Double> {
        Magnetizations(visible: T(repeating: 0.5, shape: [1, m.visibleCount]), hidden: T(repeating: 0.5, shape: [1, m.hiddenCount]))
    }

    /// ../shared/reference: −G at the fixed point after 500 damped sweeps from 0.5.
    @Test(arguments: [(PlefkaOrder.meanField, 6.693545213724685), (.tap2, 6.72737254570266), (.tap3, 6.727371180417927)])
    func sharedReferenceVectors(order: PlefkaOrder, expected: Double) {
        let m = referenceRBM()
        let solver = TAPSolver(order: order, iterations: 500, damping: 0.5)
        let lz = m.tapLogPartition(from: Self.half(m), solver: solver).item
        #expect(Swift.abs(lz - expected) < 1e-9, "\(order): \(lz) vs \(expected)")
    }

    @Test(arguments: PlefkaOrder.allCases)
    func gradcheckNegativeGibbsFreeEnergy(order: PlefkaOrder) {
        let base = randomRBM(visible: 5, hidden: 4, scale: 0.8, seed: 30)
        let g = RandomGenerator(seed: 31)
        let mv = T.uniform([3, 5], low: 0.05, high: 0.95, generator: g), mh = T.uniform([3, 4], low: 0.05, high: 0.95, generator: g)
        let f: ([T]) -> T = { p in
            RBM(weights: p[0], visibleBias: p[1], hiddenBias: p[2], beta: 0.9)
                .negativeGibbsFreeEnergy(Magnetizations(visible: p[3], hidden: p[4]), approximation: order)
        }
        let inputs = base.parameters + [mv, mh]
        let r1 = gradcheck(f, at: inputs)
        #expect(r1.passed, "\(order): \(r1)")
        let r2 = gradgradcheck(f, at: inputs)
        #expect(r2.passed, "\(order) second order: \(r2)")
    }

    @Test(arguments: PlefkaOrder.allCases)
    func fixedPointIsStationary(order: PlefkaOrder) {
        let m = randomRBM(visible: 8, hidden: 6, scale: 0.5, seed: 32)
        let v = T.bernoulli(T(repeating: 0.5, shape: [4, 8]), generator: RandomGenerator(seed: 33))
        let solver = TAPSolver(order: order, iterations: 2000, damping: 0.5, tolerance: 1e-14)
        let (mstar, report) = withoutGrad { solver.solve(m, from: TAPSolver.start(from: v, model: m)) }
        #expect(report.converged, "\(report)")
        let res = solver.residual(m, at: mstar)
        #expect(res.max().item < 1e-10, "residual \(res.scalars)")
        // Away from the fixed point the residual is not small.
        #expect(solver.residual(m, at: TAPSolver.start(from: v, model: m)).max().item > 1e-3)
    }

    /// Finite differences of the whole solve-then-evaluate map θ ↦ −G(m*(θ); θ) agree with the
    /// envelope gradient (m* held fixed), to the solver's tolerance.
    @Test(arguments: PlefkaOrder.allCases)
    func gradcheckThroughTheSolver(order: PlefkaOrder) {
        let base = randomRBM(visible: 5, hidden: 4, scale: 0.6, seed: 34)
        let solver = TAPSolver(order: order, iterations: 5000, damping: 0.5, tolerance: 1e-15)
        let start = Self.half(base)
        let f: ([T]) -> T = { p in
            let model = RBM(weights: p[0], visibleBias: p[1], hiddenBias: p[2])
            let mstar = withoutGrad { solver.solve(model, from: start).0 }
            return model.negativeGibbsFreeEnergy(mstar.detached(), approximation: order)
        }
        let r = gradcheck(f, at: base.parameters)
        #expect(r.passed, "\(order): \(r)")
    }

    /// Backpropagating through many damped sweeps gives the envelope gradient at convergence; with
    /// few sweeps the two differ (the tied-weight MLP view is not the envelope gradient).
    @Test func unrolledAndEnvelopeGradients() {
        let m = randomRBM(visible: 6, hidden: 5, scale: 0.5, seed: 35)
        let v = T.bernoulli(T(repeating: 0.5, shape: [3, 6]), generator: RandomGenerator(seed: 36))
        func grads(_ mode: EMFTrainer<Double>.GradientMode, _ iterations: Int) -> [T] {
            var trainer = EMFTrainer<Double>(solver: TAPSolver(order: .tap2, iterations: iterations), mode: mode)
            return gradients(of: trainer.loss(m, batch: v), wrt: m.parameters)
        }
        let env = grads(.envelope, 300), unrolled = grads(.unrolled, 300)
        for (e, u) in zip(env, unrolled) { #expect(allClose(e, u, rtol: 1e-7, atol: 1e-9)) }
        let short = grads(.unrolled, 2), envShort = grads(.envelope, 2)
        let diff = zip(short[0].scalars, envShort[0].scalars).map { Swift.abs($0 - $1) }.max()!
        #expect(diff > 1e-4, "with 2 sweeps the unrolled gradient differs from the envelope one (\(diff))")
    }

    /// Against exact ln Z on small random RBMs, the error of order k falls like scale^(k+1).
    @Test func expansionErrorSlopes() {
        let scales = [0.4, 0.2, 0.1, 0.05]
        var errors: [PlefkaOrder: [Double]] = [:]
        for order in PlefkaOrder.allCases {
            var e: [Double] = []
            for s in scales {
                var total = 0.0
                for seed in 0..<4 {
                    // Biases of order 1 keep magnetizations away from ½, where τ(m) = κ(m)(½ − m)
                    // vanishes and would hide the third-order term.
                    let g = RandomGenerator(seed: 100 + UInt64(seed))
                    let m = RBM<Double>(weights: T.normal([10, 8], std: s, generator: g), visibleBias: T.normal([10], std: 1, generator: g),
                                        hiddenBias: T.normal([8], std: 1, generator: g))
                    let solver = TAPSolver(order: order, iterations: 3000, damping: 0.5, tolerance: 1e-15)
                    total += Swift.abs(m.tapLogPartition(from: Self.half(m), solver: solver).item - m.exactLogPartition())
                }
                e.append(total / 4)
            }
            errors[order] = e
        }
        func slope(_ e: [Double]) -> Double {   // least squares of log e on log scale
            let x = scales.map { log($0) }, y = e.map { log($0) }
            let mx = x.reduce(0, +) / 4, my = y.reduce(0, +) / 4
            return zip(x, y).map { ($0 - mx) * ($1 - my) }.reduce(0, +) / x.map { ($0 - mx) * ($0 - mx) }.reduce(0, +)
        }
        let s1 = slope(errors[.meanField]!), s2 = slope(errors[.tap2]!), s3 = slope(errors[.tap3]!), s4 = slope(errors[.tap4]!)
        #expect(Swift.abs(s1 - 2) < 0.3, "MF slope \(s1), errors \(errors[.meanField]!)")
        #expect(Swift.abs(s2 - 3) < 0.4, "TAP2 slope \(s2), errors \(errors[.tap2]!)")
        #expect(Swift.abs(s3 - 4) < 0.5, "TAP3 slope \(s3), errors \(errors[.tap3]!)")
        #expect(Swift.abs(s4 - 5) < 0.6, "TAP4 slope \(s4), errors \(errors[.tap4]!)")
        for i in scales.indices { #expect(errors[.tap3]![i] < errors[.tap2]![i] && errors[.tap2]![i] < errors[.meanField]![i]) }
        for i in 1..<scales.count { #expect(errors[.tap4]![i] * 5 < errors[.tap3]![i], "TAP4 \(errors[.tap4]![i]) vs TAP3 \(errors[.tap3]![i]) at scale \(scales[i])") }
    }

    @Test func emfTrainingIncreasesExactLikelihood() {
        let g = RandomGenerator(seed: 40)
        let data: T = BarsAndStripes.patterns(size: 4, as: Double.self)
        var model = RBM<Double>(visible: 16, hidden: 16, weightStd: 0.01, data: data, generator: g)
        let before = model.logLikelihood(data)
        var trainer = EMFTrainer<Double>(solver: TAPSolver(order: .tap2, iterations: 3))
        var opt = SGD<Double>(learningRate: 0.05, momentum: 0.5)
        for _ in 0..<1500 { trainer.step(&model, batch: data, optimizer: &opt) }
        let after = model.logLikelihood(data)
        #expect(after > before + 3, "\(before) → \(after)")
        #expect(model.tapLogLikelihood(data, solver: TAPSolver(order: .tap2, iterations: 5)).scalars.allSatisfy { $0.isFinite })
    }
}
