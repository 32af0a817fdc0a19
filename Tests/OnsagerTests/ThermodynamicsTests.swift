import Foundation
import Testing
import Onsager
@testable import OnsagerEnergy

/// Thermodynamics from derivatives of ln Z, against direct enumeration of ⟨E⟩ and Var(E).
@Suite struct ThermodynamicsTests {
    typealias T = Tensor<Double>

    /// ⟨E⟩, Var(E) and ln Z at β by summing over all 2^(Nv+Nh) joint states.
    static func enumerate(_ m: RBM<Double>, beta: Double) -> (logZ: Double, mean: Double, variance: Double) {
        let nv = m.visibleCount, nh = m.hiddenCount
        let w = m.weights.scalars, a = m.visibleBias.scalars, b = m.hiddenBias.scalars
        let energies = (0..<(1 << (nv + nh))).map { s -> Double in
            var e = 0.0
            for i in 0..<nv where (s >> i) & 1 == 1 {
                e -= a[i]
                for j in 0..<nh where (s >> (nv + j)) & 1 == 1 { e -= w[i * nh + j] }
            }
            for j in 0..<nh where (s >> (nv + j)) & 1 == 1 { e -= b[j] }
            return e
        }
        let top = energies.map { -beta * $0 }.max()!
        let weights = energies.map { Foundation.exp(-beta * $0 - top) }, z = weights.reduce(0, +)
        let mean = zip(weights, energies).map { $0 * $1 }.reduce(0, +) / z
        let variance = zip(weights, energies).map { $0 * ($1 - mean) * ($1 - mean) }.reduce(0, +) / z
        return (top + Foundation.log(z), mean, variance)
    }

    @Test(arguments: [0.3, 1.0, 2.5])
    func exactDerivativesAreTheEnergyMoments(beta: Double) {
        for (nv, nh) in [(6, 4), (3, 7)] {
            let m = randomRBM(visible: nv, hidden: nh, scale: 0.9, seed: 110)
            let t = m.exactThermodynamics(at: beta), e = Self.enumerate(m, beta: beta)
            #expect(Swift.abs(t.logZ - e.logZ) < 1e-10 && Swift.abs(t.meanEnergy - e.mean) < 1e-10, "\(t) vs \(e)")
            #expect(Swift.abs(t.heatCapacity! - beta * beta * e.variance) < 1e-10, "C \(t.heatCapacity!) vs \(beta * beta * e.variance)")
            #expect(Swift.abs(t.entropy - (beta * e.mean + e.logZ)) < 1e-10 && Swift.abs(t.freeEnergy + e.logZ / beta) < 1e-10)
        }
        // ln Z(β) is differentiable in the weights too: ∂ln Z/∂W = β⟨v hᵀ⟩ (checked by gradcheck).
        let m = randomRBM(visible: 4, hidden: 3, scale: 0.7, seed: 111)
        let r = gradcheck({ p in RBM(weights: p[0], visibleBias: p[1], hiddenBias: p[2]).exactLogPartition(beta: p[3]) },
                          at: m.parameters + [T(beta)])
        #expect(r.passed, "\(r)")
    }

    /// The tempered AIS path gives ln Z, U and C at every β on the way, close to the exact values.
    @Test func temperedCurveFollowsTheExactThermodynamics() {
        let m = randomRBM(visible: 12, hidden: 8, scale: 0.5, seed: 112)
        let ais = AnnealedImportanceSampling(betas: AnnealedImportanceSampling.schedule(coarse: 1e-3, middle: 1e-3, fine: 1e-3), runs: 400)
        let points = ais.temperedCurve(of: m, at: [0.25, 0.5, 1.0], generator: RandomGenerator(seed: 113))
        #expect(points.map(\.thermodynamics.beta) == [0.25, 0.5, 1.0])
        for p in points {
            let exact = m.exactThermodynamics(at: p.thermodynamics.beta)
            #expect(Swift.abs(p.estimate.logZ - exact.logZ) < 0.02, "ln Z at β \(exact.beta): \(p.estimate.logZ) vs \(exact.logZ)")
            #expect(Swift.abs(p.thermodynamics.meanEnergy - exact.meanEnergy) < 0.15, "U at β \(exact.beta): \(p.thermodynamics.meanEnergy) vs \(exact.meanEnergy)")
            #expect(Swift.abs(p.thermodynamics.heatCapacity! - exact.heatCapacity!) < 0.25 * exact.heatCapacity!, "C at β \(exact.beta)")
        }
    }

    /// Mean-field thermodynamics at order 4 approach the exact ones as the couplings shrink.
    @Test func meanFieldThermodynamicsApproachTheExactOnes() {
        let base = randomRBM(visible: 8, hidden: 6, scale: 1, seed: 114)
        let weak = RBM(weights: base.weights * 0.1, visibleBias: base.visibleBias, hiddenBias: base.hiddenBias)
        let exact = weak.exactThermodynamics(at: 1)
        let tap = weak.meanFieldThermodynamics(at: 1, solver: TAPSolver(order: .tap4, iterations: 2000, tolerance: 1e-13))
        #expect(Swift.abs(tap.logZ - exact.logZ) < 1e-5 && Swift.abs(tap.meanEnergy - exact.meanEnergy) < 1e-4, "\(tap) vs \(exact)")
        #expect(Swift.abs(tap.heatCapacity! - exact.heatCapacity!) < 1e-3, "\(tap) vs \(exact)")
    }

    /// Knowing Z is not knowing p: a second RBM whose hidden biases are shifted until its ln Z
    /// equals the first's (to 1e-12) has a different distribution (KL > 0.1 nats) and different
    /// U and C; only ln Z agrees.
    @Test func equalPartitionFunctionsDifferentModels() {
        let a = randomRBM(visible: 8, hidden: 5, scale: 0.8, seed: 115), shape = randomRBM(visible: 8, hidden: 5, scale: 0.8, seed: 116)
        func shifted(_ c: Double) -> RBM<Double> { RBM(weights: shape.weights, visibleBias: shape.visibleBias, hiddenBias: shape.hiddenBias + c) }
        var (lo, hi) = (-30.0, 30.0)
        for _ in 0..<200 { let mid = (lo + hi) / 2; if shifted(mid).exactLogPartition() < a.exactLogPartition() { lo = mid } else { hi = mid } }
        let b = shifted((lo + hi) / 2)
        #expect(Swift.abs(a.exactLogPartition() - b.exactLogPartition()) < 1e-12)
        let states = T(shape: [256, 8], scalars: (0..<256).flatMap { c in (0..<8).map { Double((c >> $0) & 1) } })
        let pa = (-a.freeEnergy(states) - a.exactLogPartition()).exp().scalars, pb = (-b.freeEnergy(states) - b.exactLogPartition()).exp().scalars
        let kl = zip(pa, pb).map { $0 * Foundation.log($0 / $1) }.reduce(0, +)
        #expect(kl > 0.1, "KL \(kl)")
        let ta = a.exactThermodynamics(at: 1), tb = b.exactThermodynamics(at: 1)
        #expect(Swift.abs(ta.meanEnergy - tb.meanEnergy) > 1e-3 || Swift.abs(ta.heatCapacity! - tb.heatCapacity!) > 1e-3)
    }
}
