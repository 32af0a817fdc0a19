import Foundation
import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN

/// The optimizers' one-pass update kernels (update_template.h) against the rules written out element by
/// element in Double, for every flag combination the kernel compiles to its own loop, over sizes
/// that cover the vector tails and the split into tasks. (The trajectories against PyTorch are
/// OptimizerGoldenTests; thread counts and instruction sets are in KernelSettingsTests.)
@Suite struct UpdateRuleTests {
    /// A rule written out per element, given the step number (1 on the first) and the gradient.
    typealias Oracle = (_ step: Int, _ theta: inout Double, _ g: Double, _ state: inout [Double]) -> Void

    /// Runs `optimizer` and `oracle` for three steps from the same start, the oracle on the
    /// gradients the tape gave the optimizer (of 0.5·c·θ² + d·θ); the largest difference, relative above 1 and absolute below (a step can cancel θ to near 0).
    static func compare<O: Optimizer>(_ optimizer: O, _ oracle: Oracle, count: Int, stateCount: Int, initial: Double = 0)
        -> Double {
        typealias S = O.Scalar
        var opt = optimizer
        let start = (0..<count).map { S(cos(0.37 * Double($0)) * 2) }
        let c = Tensor<S>((0..<count).map { S(1 + Double($0 % 5) / 4) }), d = Tensor<S>((0..<count).map { S(sin(Double($0))) })
        var ps = [Tensor<S>(start).requiringGrad()]
        var want = start.map { Double($0) }, state = Array(repeating: Array(repeating: initial, count: stateCount), count: count)
        var worst = 0.0
        for step in 1...3 {
            ps[0].zeroGrad()
            (c * ps[0] * ps[0] * S(0.5) + d * ps[0]).sum().backward()
            let g = ps[0].grad!.scalars.map { Double($0) }
            opt.step(&ps)
            for i in 0..<count { oracle(step, &want[i], g[i], &state[i]) }
            let got = ps[0].scalars
            for i in 0..<count { worst = max(worst, abs(Double(got[i]) - want[i]) / max(abs(want[i]), 1)) }
        }
        return worst
    }

    // Tails of 8- and 16-wide loops; the kernel's blocks of 4096, run back to front (one, a whole
    // one and one more); several tasks.
    static let sizes = [1, 7, 16, 33, 4096, 8192 + 1, 65_536 + 37]

    @Test(arguments: [0.0, 0.9], [0.0, 0.05])
    func sgdMatchesItsRule(momentum: Double, weightDecay: Double) {
        let variants: [(dampening: Double, nesterov: Bool)] = momentum == 0 ? [(0, false)] : [(0, false), (0.3, false), (0, true)]
        for v in variants {
            let lr = 0.1
            let oracle: Oracle = { step, theta, g0, s in
                var g = g0 + weightDecay * theta
                if momentum != 0 {
                    s[0] = step == 1 ? g : momentum * s[0] + (1 - v.dampening) * g
                    g = v.nesterov ? g + momentum * s[0] : s[0]
                }
                theta -= lr * g
            }
            for n in Self.sizes {
                let sgd = SGD<Double>(learningRate: lr, momentum: momentum, dampening: v.dampening, nesterov: v.nesterov,
                                      weightDecay: weightDecay)
                let err = Self.compare(sgd, oracle, count: n, stateCount: 1)
                #expect(err < 1e-14, "SGD momentum \(momentum) \(v) wd \(weightDecay), n \(n): \(err)")
            }
        }
    }

    @Test(arguments: [(0.0, false), (0.1, false), (0.1, true)])
    func adamMatchesItsRule(weightDecay: Double, decoupled: Bool) {
        let lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8
        let oracle: Oracle = { step, theta, g0, s in
            var g = g0
            if decoupled { theta *= 1 - lr * weightDecay } else { g += weightDecay * theta }
            s[0] = b1 * s[0] + (1 - b1) * g
            s[1] = b2 * s[1] + (1 - b2) * g * g
            let c1 = 1 - pow(b1, Double(step)), c2 = 1 - pow(b2, Double(step))
            theta -= lr / c1 * s[0] / (s[1].squareRoot() / c2.squareRoot() + eps)
        }
        for n in Self.sizes {
            let adam = Adam<Double>(learningRate: lr, weightDecay: weightDecay, decoupledWeightDecay: decoupled)
            let err = Self.compare(adam, oracle, count: n, stateCount: 2)
            #expect(err < 1e-14, "Adam wd \(weightDecay) decoupled \(decoupled), n \(n): \(err)")
        }
    }

    @Test(arguments: [false, true], [0.0, 0.9])
    func rmspropMatchesItsRule(centered: Bool, momentum: Double) {
        for weightDecay in [0.0, 0.01] {
            let lr = 0.01, alpha = 0.99, eps = 1e-8
            let oracle: Oracle = { _, theta, g0, s in
                let g = g0 + weightDecay * theta
                s[0] = alpha * s[0] + (1 - alpha) * g * g
                var d = s[0].squareRoot() + eps
                if centered {
                    s[1] = alpha * s[1] + (1 - alpha) * g
                    d = (s[0] - s[1] * s[1]).squareRoot() + eps
                }
                var u = g / d
                if momentum > 0 { s[2] = momentum * s[2] + u; u = s[2] }
                theta -= lr * u
            }
            for n in Self.sizes {
                let rms = RMSProp<Double>(learningRate: lr, alpha: alpha, epsilon: eps, weightDecay: weightDecay,
                                          momentum: momentum, centered: centered)
                let err = Self.compare(rms, oracle, count: n, stateCount: 3)
                // g / √(0.01·g²) ≈ 10 per step, summed by the momentum: a few ulps of that.
                #expect(err < 1e-13, "RMSProp centered \(centered) momentum \(momentum) wd \(weightDecay), n \(n): \(err)")
            }
        }
    }

    @Test(arguments: [0.0, 0.02])
    func adagradMatchesItsRule(weightDecay: Double) {
        let lr = 0.1, decay = 0.05, eps = 1e-10, initial = 0.1
        let oracle: Oracle = { step, theta, g0, s in
            let g = g0 + weightDecay * theta
            s[0] += g * g
            theta -= lr / (1 + Double(step - 1) * decay) * g / (s[0].squareRoot() + eps)
        }
        for n in Self.sizes {
            let ada = AdaGrad<Double>(learningRate: lr, learningRateDecay: decay, weightDecay: weightDecay,
                                      initialAccumulator: initial, epsilon: eps)
            let err = Self.compare(ada, oracle, count: n, stateCount: 1, initial: initial)
            #expect(err < 1e-14, "AdaGrad wd \(weightDecay), n \(n): \(err)")
        }
    }

    /// The Float loops against the same rules written out in Double, within Float rounding.
    @Test func floatLoopsMatchTheirRules() {
        let sgd: Oracle = { step, theta, g0, s in
            let g = g0 + 0.05 * theta
            s[0] = step == 1 ? g : 0.9 * s[0] + g
            theta -= 0.1 * (g + 0.9 * s[0])
        }
        let rms: Oracle = { _, theta, g, s in
            s[0] = 0.99 * s[0] + 0.01 * g * g
            s[1] = 0.99 * s[1] + 0.01 * g
            s[2] = 0.9 * s[2] + g / ((s[0] - s[1] * s[1]).squareRoot() + 1e-8)
            theta -= 0.01 * s[2]
        }
        let ada: Oracle = { step, theta, g, s in
            s[0] += g * g
            theta -= 0.1 / (1 + Double(step - 1) * 0.05) * g / (s[0].squareRoot() + 1e-10)
        }
        let adam: Oracle = { step, theta, g, s in
            theta *= 1 - 0.05 * 0.1
            s[0] = 0.9 * s[0] + 0.1 * g
            s[1] = 0.999 * s[1] + 0.001 * g * g
            theta -= 0.05 / (1 - pow(0.9, Double(step))) * s[0] / (s[1].squareRoot() / (1 - pow(0.999, Double(step))).squareRoot() + 1e-8)
        }
        for n in Self.sizes {
            let errors = [
                Self.compare(SGD<Float>(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.05), sgd, count: n, stateCount: 1),
                Self.compare(RMSProp<Float>(learningRate: 0.01, momentum: 0.9, centered: true), rms, count: n, stateCount: 3),
                Self.compare(AdaGrad<Float>(learningRate: 0.1, learningRateDecay: 0.05), ada, count: n, stateCount: 1),
                Self.compare(Adam<Float>(learningRate: 0.05, weightDecay: 0.1, decoupledWeightDecay: true), adam, count: n, stateCount: 2),
            ]
            #expect(errors.allSatisfy { $0 < 1e-6 }, "n \(n): \(errors)")   // measured: at most 3e-7
        }
    }

    /// Float runs the same rules: within Float rounding of the Double run.
    @Test func floatFollowsDouble() {
        func run<S: TensorScalar>(_ type: S.Type) -> [Double] {
            var ps = [Tensor<S>((0..<1000).map { S(cos(0.37 * Double($0))) }).requiringGrad()]
            var opt = Adam<S>(learningRate: 0.01, weightDecay: 0.01, decoupledWeightDecay: true)
            for _ in 0..<5 {
                ps[0].zeroGrad()
                (ps[0] * ps[0] * S(0.5) + ps[0].tanh()).sum().backward()
                opt.step(&ps)
            }
            return ps[0].scalars.map { Double($0) }
        }
        let f = run(Float.self), d = run(Double.self)
        let err = zip(f, d).map { abs($0 - $1) }.max()!
        #expect(err < 1e-5, "Float Adam strays \(err) from Double")
    }

    /// A non-finite gradient or parameter stays in its own element, and weight decay 0 never
    /// multiplies an infinite parameter (0·∞ would make NaN).
    @Test func nonFiniteValuesStayInTheirElement() {
        var ps = [Tensor<Double>([1, .infinity, 3, 4]).requiringGrad()]
        ps[0].setGrad(Tensor<Double>([.nan, 1, 1, 1]))
        var sgd = SGD<Double>(learningRate: 0.1, momentum: 0.9)
        sgd.step(&ps)
        let p = ps[0].scalars
        #expect(p[0].isNaN && p[1] == .infinity && p[2] == 2.9 && p[3] == 3.9, "\(p)")
        var qs = [Tensor<Double>([.infinity, 2]).requiringGrad()]
        qs[0].setGrad(Tensor<Double>([1, 1]))
        var adam = Adam<Double>(learningRate: 0.1)
        adam.step(&qs)
        #expect(qs[0].scalars[0] == .infinity && qs[0].scalars[1].isFinite, "\(qs[0].scalars)")
    }

    /// Steps update the state buffers in place: the same storage from step to step. (A copy per
    /// step doubles an optimizer's memory traffic and gives the same numbers, so only this sees it.)
    @Test func stateBuffersAreUpdatedInPlace() {
        var ps = [Tensor<Double>.ones([3, 4]).requiringGrad()]
        ps[0].setGrad(Tensor<Double>.ones([3, 4]))
        var adam = Adam<Double>(learningRate: 0.01)
        func buffers() -> [ObjectIdentifier?] { ["exp_avg", "exp_avg_sq"].map { adam.state.slots["0"]?[$0]?.identity } }
        adam.step(&ps)
        let first = buffers()
        #expect(first.allSatisfy { $0 != nil })
        for _ in 0..<2 {
            adam.step(&ps)
            #expect(buffers() == first)
        }
    }

    /// The optimizers' state keeps PyTorch's names and the parameter's shape.
    @Test func stateBuffersKeepTheirNames() {
        var ps = [Tensor<Double>.ones([2, 3]).requiringGrad()]
        ps[0].setGrad(Tensor<Double>.ones([2, 3]))
        var rms = RMSProp<Double>(momentum: 0.5, centered: true)
        rms.step(&ps)
        #expect(Set(rms.stateTensors.keys) == ["0.square_avg", "0.grad_avg", "0.momentum_buffer", "0.step"])
        #expect(rms.stateTensors["0.grad_avg"]?.shape == [2, 3])
        var plain = SGD<Double>(learningRate: 0.1)
        plain.step(&ps)
        #expect(plain.stateTensors.keys.allSatisfy { !$0.hasSuffix("momentum_buffer") })
    }
}
