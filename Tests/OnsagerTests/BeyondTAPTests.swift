import Foundation
import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerEnergy
@testable import OnsagerLinearAlgebra

/// Order 4, the ring resummation and the tape-driven stationarity equations, against the numpy
/// oracle (Golden/plefka4.json from shared/reference/plefka4.py), brute-force sums, the exact
/// Legendre transform, and each other.
@Suite struct BeyondTAPTests {
    typealias T = Tensor<Double>

    struct OracleCase {
        let model: RBM<Double>, m: Magnetizations<Double>, terms: [Double], cycle4: Double
        let fields: [Int: (T, T)], fixedPoint: Magnetizations<Double>, fixedNegG: Double
    }

    static var oracle: [OracleCase] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/plefka4.json")
        let root = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return (root["cases"] as! [[String: Any]]).map { c in
            let shape = c["shape"] as! [Int]
            func row(_ key: String, _ d: [String: Any] = c) -> T { let v = d[key] as! [Double]; return T(shape: [1, v.count], scalars: v) }
            func vec(_ key: String) -> T { T(c[key] as! [Double]) }
            let model = RBM(weights: T(shape: shape, scalars: c["W"] as! [Double]), visibleBias: vec("a"), hiddenBias: vec("b"))
            var fields: [Int: (T, T)] = [:]
            for k in 1...4 { let f = c["fields\(k)"] as! [String: Any]; fields[k] = (row("visible", f), row("hidden", f)) }
            let fp = c["fixed_point4"] as! [String: Any]
            return OracleCase(model: model, m: Magnetizations(visible: row("mv"), hidden: row("mh")), terms: c["terms"] as! [Double],
                              cycle4: c["cycle4"] as! Double, fields: fields,
                              fixedPoint: Magnetizations(visible: row("visible", fp), hidden: row("hidden", fp)), fixedNegG: fp["negG"] as! Double)
        }
    }

    /// −G at orders 1–4 is the oracle's partial sums; the hand-written and the tape's fields are the
    /// oracle's fields (1e−10); the 4-cycle term is the brute-force quadruple sum.
    @Test func orderFourAgainstTheNumpyOracle() {
        for (n, c) in Self.oracle.enumerated() {
            for order in PlefkaOrder.allCases {
                let expected = c.terms[0...order.rawValue].reduce(0, +)
                let mine = c.model.negativeGibbsFreeEnergy(c.m, approximation: order).item
                #expect(Swift.abs(mine - expected) < 1e-12 * Swift.abs(expected), "case \(n) \(order): \(mine) vs \(expected)")
                let cp = CouplingPowers(c.model), (hv, hh) = c.fields[order.rawValue]!
                for (layer, want) in [(RBMLayer.visible, hv), (.hidden, hh)] {
                    let hand = order.handWrittenField(of: layer, c.model, c.m, couplings: cp)!
                    let tape = withoutGrad { order.tapeField(of: layer, c.model, c.m, couplings: cp) }
                    #expect(allClose(hand, want, rtol: 1e-10, atol: 1e-10), "case \(n) \(order) \(layer) hand-written field")
                    #expect(allClose(tape, want, rtol: 1e-10, atol: 1e-10), "case \(n) \(order) \(layer) tape field")
                }
            }
            // The 4-cycle part of order 4: ¼ tr A² less the repeated-index walks = brute force.
            let kv = c.m.visible * (1 - c.m.visible), kh = c.m.hidden * (1 - c.m.hidden), w = c.model.weights, w2 = w * w
            let s = matmul(kh, w2.T), q = matmul(kv, w2)
            let cycles = RingMatrix.traceOfSquare(kv: kv, kh: kh, w: w).item / 4 - (kv * kv * s * s).sum().item / 4
                - (kh * kh * q * q).sum().item / 4 + (matmul(kv * kv, w2 * w2) * kh * kh).sum().item / 4
            #expect(Swift.abs(cycles - c.cycle4) < 1e-14, "case \(n): cycles \(cycles) vs brute force \(c.cycle4)")
        }
    }

    /// The order-4 fixed point found by the solver (from the oracle's start) is the oracle's.
    @Test func orderFourFixedPointMatchesTheOracle() {
        for c in Self.oracle {
            let mv = c.model.visibleBias.sigmoid().unsqueezed(0)
            let start = Magnetizations(visible: mv, hidden: c.model.hiddenField(mv).sigmoid())
            let solver = TAPSolver(order: .tap4, iterations: 20000, damping: 0.5, tolerance: 1e-14)
            let (m, report) = withoutGrad { solver.solve(c.model, from: start) }
            #expect(report.converged)
            #expect(allClose(m.visible, c.fixedPoint.visible, rtol: 0, atol: 1e-10) && allClose(m.hidden, c.fixedPoint.hidden, rtol: 0, atol: 1e-10))
            #expect(Swift.abs(c.model.negativeGibbsFreeEnergy(m, approximation: solver.approximation).item - c.fixedNegG) < 1e-11)
        }
    }

    /// Float: the same values to single precision.
    @Test func orderFourInFloat() {
        for c in Self.oracle {
            let model = RBM<Float>(weights: c.model.weights.converted(to: Float.self), visibleBias: c.model.visibleBias.converted(to: Float.self),
                                   hiddenBias: c.model.hiddenBias.converted(to: Float.self))
            let m = Magnetizations(visible: c.m.visible.converted(to: Float.self), hidden: c.m.hidden.converted(to: Float.self))
            let g = Double(model.negativeGibbsFreeEnergy(m, approximation: .tap4).item), want = c.terms.reduce(0, +)
            #expect(Swift.abs(g - want) < 1e-5 * Swift.abs(want))
            let f = PlefkaOrder.tap4.handWrittenField(of: .hidden, model, m, couplings: CouplingPowers(model))!
            #expect(allClose(f.converted(to: Double.self), c.fields[4]!.1, rtol: 1e-5, atol: 1e-5))
        }
    }

    /// Hand-written fields equal the tape's for every order, both layers, several rows, both
    /// shapes (the 4-cycle field takes a different product when Nv < Nh).
    @Test(arguments: [(7, 4), (4, 7)])
    func handWrittenFieldsEqualTheTapes(nv: Int, nh: Int) {
        let model = randomRBM(visible: nv, hidden: nh, scale: 0.7, seed: 50)
        let g = RandomGenerator(seed: 51)
        let m = Magnetizations(visible: T.uniform([3, nv], low: 0.05, high: 0.95, generator: g), hidden: T.uniform([3, nh], low: 0.05, high: 0.95, generator: g))
        let cp = CouplingPowers(model)
        for order in PlefkaOrder.allCases {
            for layer in [RBMLayer.visible, .hidden] {
                let hand = order.handWrittenField(of: layer, model, m, couplings: cp)!
                let tape = withoutGrad { order.tapeField(of: layer, model, m, couplings: cp) }
                #expect(allClose(hand, tape, rtol: 1e-12, atol: 1e-12), "\(order) \(layer) \(nv)×\(nh)")
            }
        }
    }

    /// Off the tape the same fields take the fused squared Gram product for the 4-cycles (by G's
    /// lower part, or through the other layer's Gram matrix where the field's layer is over about
    /// three times the other, as for 70 beside 20): still the tape's fields.
    @Test(arguments: [(7, 4), (4, 7), (30, 20), (20, 70)])
    func handWrittenFieldsOffTheTapeEqualTheTapes(nv: Int, nh: Int) {
        let model = randomRBM(visible: nv, hidden: nh, scale: 0.5, seed: 53)
        let g = RandomGenerator(seed: 54)
        let m = Magnetizations(visible: T.uniform([3, nv], low: 0.05, high: 0.95, generator: g), hidden: T.uniform([3, nh], low: 0.05, high: 0.95, generator: g))
        let cp = CouplingPowers(model)
        for layer in [RBMLayer.visible, .hidden] {
            let hand = withoutGrad { PlefkaOrder.tap4.handWrittenField(of: layer, model, m, couplings: cp)! }
            let tape = withoutGrad { PlefkaOrder.tap4.tapeField(of: layer, model, m, couplings: cp) }
            #expect(allClose(hand, tape, rtol: 1e-12, atol: 1e-12), "\(layer) \(nv)×\(nh)")
        }
    }

    /// The fused (G∘G)x, G = wᵀ diag(k) w, against the sum written out (small) and the composed
    /// products (G's lower part in several row blocks, a ragged last one; through the other
    /// side's Gram matrix for n = 40 and 70 beside m = 260 and 300; w a transposed view), Double
    /// and Float; recorded on the tape it is the composed expression, with its gradient.
    @Test func squaredGramProductMatchesItsDefinition() {
        let g = RandomGenerator(seed: 55)
        for (p, n, m) in [(1, 3, 4), (3, 5, 2), (2, 150, 260), (2, 40, 260), (3, 70, 300)] {
            let w = T.normal([n, m], generator: g), k = T.uniform([p, n], low: 0, high: 0.25, generator: g), x = T.uniform([p, m], generator: g)
            let y = withoutGrad { T.squaredGramProduct(w, weights: k, x) }
            let gram = matmul(w.T, w.unsqueezed(0) * k.unsqueezed(2))
            let composed = matmul(gram * gram, x.unsqueezed(2)).squeezed(2)
            #expect(allClose(y, composed, rtol: 1e-12, atol: 1e-12), "\(p)×\(n)×\(m)")
            if m <= 4 {
                let (ws, ks, xs, ys) = (w.scalars, k.scalars, x.scalars, y.scalars)
                for q in 0..<p {
                    for i in 0..<m {
                        var want = 0.0
                        for l in 0..<m {
                            var gil = 0.0
                            for j in 0..<n { gil += ws[j * m + i] * ks[q * n + j] * ws[j * m + l] }
                            want += gil * gil * xs[q * m + l]
                        }
                        #expect(Swift.abs(ys[q * m + i] - want) < 1e-12 * Swift.max(1, Swift.abs(want)))
                    }
                }
            }
            // w as a transposed view of its transpose, and in Float.
            let wt = T(shape: [m, n], scalars: w.T.contiguous().scalars)
            #expect(withoutGrad { T.squaredGramProduct(wt.T, weights: k, x) }.scalars == y.scalars)
            let yf = withoutGrad { Tensor<Float>.squaredGramProduct(w.converted(to: Float.self), weights: k.converted(to: Float.self), x.converted(to: Float.self)) }
            #expect(allClose(yf.converted(to: Double.self), y, rtol: 1e-4, atol: 1e-4))
        }
        let w = T.normal([6, 5], generator: g).requiringGrad(), k = T.uniform([2, 6], low: 0, high: 0.25, generator: g), x = T.uniform([2, 5], generator: g)
        let tracked = T.squaredGramProduct(w, weights: k, x)
        #expect(tracked.requiresGrad)
        #expect(allClose(tracked.detached(), withoutGrad { T.squaredGramProduct(w, weights: k, x) }, rtol: 1e-12, atol: 1e-12))
        #expect(gradcheck({ T.squaredGramProduct($0[0], weights: $0[1], $0[2]).sum() }, at: [w.detached(), k, x]).passed)
    }

    /// The ring trace Σ_il G_il² x_i x_l (fused value, gradients in w, k, x by two GEMMs per
    /// particle) against the composed expression, its gradients by central differences, and its
    /// recorded rule (tape ops) by a gradient of the gradient.
    @Test func squaredGramFormValueAndGradients() {
        let g = RandomGenerator(seed: 57)
        for (p, n, m) in [(2, 5, 4), (3, 4, 6)] {
            let w = T.normal([n, m], generator: g), k = T.uniform([p, n], low: 0.05, high: 0.25, generator: g), x = T.uniform([p, m], generator: g)
            let form = { (t: [T]) in T.squaredGramForm(t[0], weights: t[1], t[2]) * T.uniform([p], low: 0.5, high: 1.5, generator: RandomGenerator(seed: 58)) }
            let composed = { (t: [T]) -> T in
                let gram = matmul(t[0].T, t[0].unsqueezed(0) * t[1].unsqueezed(2))
                return (gram * gram * t[2].unsqueezed(2) * t[2].unsqueezed(1)).sum(axes: [1, 2]) * T.uniform([p], low: 0.5, high: 1.5, generator: RandomGenerator(seed: 58))
            }
            #expect(allClose(withoutGrad { form([w, k, x]) }, withoutGrad { composed([w, k, x]) }, rtol: 1e-12, atol: 1e-12))
            let inputs = [w, k, x].map { $0.requiringGrad() }
            let fused = gradients(of: form(inputs).sum(), wrt: inputs), want = gradients(of: composed(inputs).sum(), wrt: inputs)
            for (a, b) in zip(fused, want) { #expect(allClose(a, b, rtol: 1e-11, atol: 1e-12)) }
            #expect(gradcheck({ form($0).sum() }, at: [w, k, x]).passed)
            #expect(gradgradcheck({ form($0).sum() }, at: [w, k, x]).passed)
        }
        // Larger (both routes of the value, G's lower part in two blocks), and only the inputs on
        // the tape get gradients (w alone is the envelope gradient of EMF); Float's value.
        for (p, n, m) in [(2, 150, 140), (2, 30, 150)] {
            let w = T.normal([n, m], std: 0.3, generator: g), k = T.uniform([p, n], low: 0.05, high: 0.25, generator: g), x = T.uniform([p, m], generator: g)
            for tracked in [[0], [1], [2], [0, 1, 2]] {
                let inputs = [w, k, x].enumerated().map { tracked.contains($0.offset) ? $0.element.requiringGrad() : $0.element }
                let grads = gradients(of: T.squaredGramForm(inputs[0], weights: inputs[1], inputs[2]).sum(), wrt: tracked.map { inputs[$0] })
                let gram = matmul(inputs[0].T, inputs[0].unsqueezed(0) * inputs[1].unsqueezed(2))
                let want = gradients(of: (gram * gram * inputs[2].unsqueezed(2) * inputs[2].unsqueezed(1)).sum(), wrt: tracked.map { inputs[$0] })
                for (a, b) in zip(grads, want) { #expect(allClose(a, b, rtol: 1e-10, atol: 1e-10), "\(n)×\(m), tracked \(tracked)") }
            }
            let value = withoutGrad { T.squaredGramForm(w, weights: k, x) }
            let valueF = withoutGrad { Tensor<Float>.squaredGramForm(w.converted(to: Float.self), weights: k.converted(to: Float.self), x.converted(to: Float.self)) }
            #expect(allClose(valueF.converted(to: Double.self), value, rtol: 1e-4, atol: 1e-4))
        }
        // No particles, or no rows of w: empty values, zeros.
        #expect(withoutGrad { T.squaredGramProduct(T.ones([3, 4]), weights: T.zeros([0, 3]), T.zeros([0, 4])) }.shape == [0, 4])
        #expect(withoutGrad { T.squaredGramProduct(T.zeros([0, 4]), weights: T.zeros([2, 0]), T.ones([2, 4])) }.scalars == Array(repeating: 0, count: 8))
    }

    /// Backpropagating through a solve whose fields come from the tape (gradient of a gradient)
    /// gives the gradient of the hand-written solve.
    @Test(arguments: [PlefkaOrder.tap2, .tap4])
    func unrolledSolveThroughTapeFields(order: PlefkaOrder) {
        let model = randomRBM(visible: 6, hidden: 5, scale: 0.6, seed: 52)
        let start = Magnetizations(visible: T(repeating: 0.4, shape: [2, 6]), hidden: T(repeating: 0.6, shape: [2, 5]))
        func grads(_ fromTape: Bool) -> [T] {
            let (m, _) = TAPSolver(order: order, iterations: 4, fieldsFromTape: fromTape).solve(model, from: start)
            return gradients(of: (m.visible * m.visible).sum() + m.hidden.sum(), wrt: model.parameters)
        }
        for (h, t) in zip(grads(false), grads(true)) { #expect(allClose(h, t, rtol: 1e-11, atol: 1e-12)) }
    }

    /// A user-written expansion needs only Φ: here TAP2 written by hand, solved through the tape,
    /// gives `.tap2`'s fixed point and the same EMF loss and gradients, envelope and unrolled.
    struct HandWrittenTAP2: GibbsFreeEnergyApproximation {
        func interaction<S: TensorScalar>(_ rbm: RBM<S>, _ m: Magnetizations<S>, couplings w: CouplingPowers<S>) -> Tensor<S> {
            let kv = m.visible * (1 - m.visible), kh = m.hidden * (1 - m.hidden)
            return matmul(m.visible, rbm.visibleBias) + matmul(m.hidden, rbm.hiddenBias) + (matmul(m.visible, w.w) * m.hidden).sum(axis: 1)
                + (matmul(kv, w.power(2)) * kh).sum(axis: 1) * 0.5
        }
        var description: String { "my TAP2" }
    }

    /// `RBMTrainingMethod.emfApproximation` takes any approximation: the hand-written TAP2 trains
    /// an epoch to the model `.emf(order: .tap2)` trains, up to the tape's rounding of the fields.
    @Test func trainingMethodTakesAnyApproximation() throws {
        let data = Tensor<Double>.bernoulli(Tensor(repeating: 0.4, shape: [24, 6]), generator: RandomGenerator(seed: 61))
        func train(_ method: RBMTrainingMethod) throws -> RBM<Double> {
            let g = RandomGenerator(seed: 62)
            var model = RBM<Double>(visible: 6, hidden: 5, weightStd: 0.3, generator: g)
            var trainer: any RBMTrainer<Double> = method.makeTrainer(visible: 6, l2: 1e-3, generator: g)
            var opt = SGD<Double>(learningRate: 0.1, momentum: 0.5)
            try trainer.trainEpoch(&model, data: data, batchSize: 8, optimizer: &opt, generator: g)
            return model
        }
        let mine = try train(.emfApproximation(HandWrittenTAP2(), iterations: 3, persistentAfter: 1))
        let theirs = try train(.emf(order: .tap2, iterations: 3, persistentAfter: 1))
        #expect(RBMTrainingMethod.emfApproximation(HandWrittenTAP2(), iterations: 3, persistentAfter: nil).description == "EMF-my TAP2")
        #expect(allClose(mine.weights, theirs.weights, rtol: 0, atol: 1e-12))
        let untrained = RBM<Double>(visible: 6, hidden: 5, weightStd: 0.3, generator: RandomGenerator(seed: 62))
        #expect(!allClose(mine.weights, untrained.weights, rtol: 0, atol: 1e-6), "the epoch changed the weights")
    }

    @Test func userDefinedApproximationSolvesAndTrains() {
        let model = randomRBM(visible: 6, hidden: 5, scale: 0.6, seed: 53)
        let v = T.bernoulli(T(repeating: 0.5, shape: [3, 6]), generator: RandomGenerator(seed: 54))
        let start = TAPSolver.start(from: v, model: model)
        let mine = TAPSolver(HandWrittenTAP2(), iterations: 500, tolerance: 1e-14), theirs = TAPSolver(order: .tap2, iterations: 500, tolerance: 1e-14)
        let (a, ra) = withoutGrad { mine.solve(model, from: start) }, (b, _) = withoutGrad { theirs.solve(model, from: start) }
        #expect(ra.converged && allClose(a.visible, b.visible, rtol: 0, atol: 1e-12) && allClose(a.hidden, b.hidden, rtol: 0, atol: 1e-12))
        #expect(mine.residual(model, at: a).max().item < 1e-10)
        for mode in [EMFTrainer<Double>.GradientMode.envelope, .unrolled] {
            var t1 = EMFTrainer<Double>(solver: TAPSolver(HandWrittenTAP2(), iterations: 5), mode: mode)
            var t2 = EMFTrainer<Double>(solver: TAPSolver(order: .tap2, iterations: 5), mode: mode)
            let l1 = t1.loss(model, batch: v), l2 = t2.loss(model, batch: v)
            #expect(Swift.abs(l1.item - l2.item) < 1e-12)
            for (g1, g2) in zip(gradients(of: l1, wrt: model.parameters), gradients(of: l2, wrt: model.parameters)) {
                #expect(allClose(g1, g2, rtol: 1e-10, atol: 1e-12), "\(mode)")
            }
        }
    }

    /// The ring resummation: ½ tr A is the order-2 term, and Φ_ring − Φ₄ is the tail
    /// Σ_{k≥3} tr Aᵏ/(2k) of the series, with A built directly as Dv^½ W Dh Wᵀ Dv^½ (Nv × Nv,
    /// the other of the two forms `RingMatrix` chooses between).
    @Test(arguments: [(6, 4), (4, 6)])
    func ringResummationIsTheRingSeries(nv: Int, nh: Int) {
        let model = randomRBM(visible: nv, hidden: nh, scale: 0.9, seed: 55)
        let g = RandomGenerator(seed: 56)
        let m = Magnetizations(visible: T.uniform([2, nv], low: 0.1, high: 0.9, generator: g), hidden: T.uniform([2, nh], low: 0.1, high: 0.9, generator: g))
        let ring = model.negativeGibbsFreeEnergy(m, approximation: .ring), four = model.negativeGibbsFreeEnergy(m, approximation: .tap4)
        let two = model.negativeGibbsFreeEnergy(m, approximation: .tap2), one = model.negativeGibbsFreeEnergy(m, approximation: .meanField)
        for p in 0..<2 {
            let mv = m.visible.sliced(axis: 0, p..<(p + 1)).squeezed(0), mh = m.hidden.sliced(axis: 0, p..<(p + 1)).squeezed(0)
            let dv = (mv * (1 - mv)).sqrt(), w = model.weights
            let a = dv.unsqueezed(1) * matmul(w * (mh * (1 - mh)).unsqueezed(0), w.T) * dv.unsqueezed(0)
            var power = a, tail = 0.0
            let trace = { (x: T) in (0..<nv).map { x.scalars[$0 * nv + $0] }.reduce(0, +) }
            #expect(Swift.abs(trace(a) / 2 - (two.scalars[p] - one.scalars[p])) < 1e-14)
            let largest = try! Linalg.eigh(a).values.max().item
            #expect(largest < 0.6, "the series must converge fast for this check (λmax \(largest))")
            for k in 2...120 {
                power = matmul(power, a)
                if k >= 3 { tail += trace(power) / Double(2 * k) }
            }
            #expect(Swift.abs((ring.scalars[p] - four.scalars[p]) - tail) < 1e-13, "Φ_ring − Φ₄ = \(ring.scalars[p] - four.scalars[p]), tail \(tail)")
        }
    }

    /// −G_ring passes gradcheck (first and second order) in W, a, b, mv and mh, and where the
    /// couplings are too strong for the series (λmax(A) > 1) it is NaN and the solver says so.
    @Test func ringGradientsAndDomain() {
        let base = randomRBM(visible: 5, hidden: 4, scale: 0.8, seed: 57)
        let g = RandomGenerator(seed: 58)
        let mv = T.uniform([2, 5], low: 0.1, high: 0.9, generator: g), mh = T.uniform([2, 4], low: 0.1, high: 0.9, generator: g)
        let f: ([T]) -> T = { p in
            RBM(weights: p[0], visibleBias: p[1], hiddenBias: p[2]).negativeGibbsFreeEnergy(Magnetizations(visible: p[3], hidden: p[4]), approximation: .ring)
        }
        let r1 = gradcheck(f, at: base.parameters + [mv, mh]), r2 = gradgradcheck(f, at: base.parameters + [mv, mh])
        #expect(r1.passed, "\(r1)")
        #expect(r2.passed, "\(r2)")
        let strong = RBM(weights: base.weights * 12, visibleBias: base.visibleBias, hiddenBias: base.hiddenBias)
        let half = Magnetizations(visible: T(repeating: 0.5, shape: [1, 5]), hidden: T(repeating: 0.5, shape: [1, 4]))
        #expect(strong.negativeGibbsFreeEnergy(half, approximation: .ring).item.isNaN)
        let (_, report) = withoutGrad { TAPSolver(.ring, iterations: 50, tolerance: 1e-12).solve(strong, from: half) }
        #expect(!report.converged)
    }

    /// Residual slopes against the exact Legendre transform −G(m) = min_λ [ln Z(λ) − λ·m] (Newton
    /// on the fields, all 2^(Nv+Nh) states enumerated): with W = tG, order k misses O(t^(k+1)).
    @Test func residualSlopesAgainstTheExactLegendreTransform() {
        let ts = [0.2, 0.1, 0.05]
        var slopes: [Int: [Double]] = [2: [], 3: [], 4: []]
        for seed in 0..<4 {
            let (nv, nh) = [(3, 3), (3, 2), (2, 3), (4, 2)][seed]
            let g = RandomGenerator(seed: 60 + UInt64(seed))
            let shape = T.normal([nv, nh], std: 1, generator: g), a = T.normal([nv], std: 1, generator: g), b = T.normal([nh], std: 1, generator: g)
            let m = Magnetizations(visible: T.uniform([1, nv], low: 0.1, high: 0.9, generator: g), hidden: T.uniform([1, nh], low: 0.1, high: 0.9, generator: g))
            for order in [2, 3, 4] {
                let residuals = ts.map { t -> Double in
                    let model = RBM(weights: shape * t, visibleBias: a, hiddenBias: b)
                    return Swift.abs(model.exactNegativeGibbsFreeEnergy(m)[0] - model.negativeGibbsFreeEnergy(m, approximation: PlefkaOrder(rawValue: order)!).item)
                }
                slopes[order]!.append(log(residuals[0] / residuals[2]) / log(ts[0] / ts[2]))
            }
        }
        func median(_ x: [Double]) -> Double { let s = x.sorted(); return (s[s.count / 2] + s[(s.count - 1) / 2]) / 2 }
        #expect(Swift.abs(median(slopes[2]!) - 3) < 0.4, "order 2 slopes \(slopes[2]!)")
        #expect(Swift.abs(median(slopes[3]!) - 4) < 0.3, "order 3 slopes \(slopes[3]!)")
        #expect(Swift.abs(median(slopes[4]!) - 5) < 0.4, "order 4 slopes \(slopes[4]!)")
    }

    /// The exact Legendre transform is maximal at the model's true marginals, where it equals
    /// ln Z (computed independently by enumeration), and it is S(m) + a·m at W = 0.
    @Test func exactGibbsFreeEnergyPeaksAtLnZ() {
        let model = randomRBM(visible: 4, hidden: 3, scale: 0.8, seed: 59)
        let states = T(shape: [16, 4], scalars: (0..<16).flatMap { c in (0..<4).map { Double((c >> $0) & 1) } })
        let p = (-model.freeEnergy(states) - model.exactLogPartition()).exp()
        let mv = matmul(p.unsqueezed(0), states), mh = matmul(p.unsqueezed(0), model.hiddenProbabilities(states))
        let exact = model.exactNegativeGibbsFreeEnergy(Magnetizations(visible: mv, hidden: mh))[0]
        #expect(Swift.abs(exact - model.exactLogPartition()) < 1e-10, "\(exact) vs \(model.exactLogPartition())")
        let nearby = model.exactNegativeGibbsFreeEnergy(Magnetizations(visible: mv * 0.9 + 0.05, hidden: mh))[0]
        #expect(nearby < exact)
        let free = RBM(weights: model.weights * 0, visibleBias: model.visibleBias, hiddenBias: model.hiddenBias)
        let m = Magnetizations(visible: mv, hidden: mh)
        #expect(Swift.abs(free.exactNegativeGibbsFreeEnergy(m)[0] - free.negativeGibbsFreeEnergy(m, approximation: .meanField).item) < 1e-12)
    }

    /// The non-backtracking ring sum by the Ihara–Bass formula equals −½ ln det(I − B) with the
    /// Hashimoto matrix B built edge by edge; tr B⁴/8 is Plefka's 4-cycle term (brute force); and
    /// Φ_nb − Φ₄ starts at W⁶ (graphs with 6-cycles: three units or more on each side).
    @Test(arguments: [(3, 3), (4, 3)])
    func nonBacktrackingRingsAreTheHashimotoDeterminant(nv: Int, nh: Int) {
        let model = randomRBM(visible: nv, hidden: nh, scale: 0.9, seed: 70)
        let g = RandomGenerator(seed: 71)
        let mv = T.uniform([1, nv], low: 0.1, high: 0.9, generator: g), mh = T.uniform([1, nh], low: 0.1, high: 0.9, generator: g)
        let kv = (mv * (1 - mv)).scalars, kh = (mh * (1 - mh)).scalars, w = model.weights.scalars
        // Directed edges between vertex i (visible, 0..<nv) and nv + j (hidden), both ways.
        var edges: [(from: Int, to: Int, u: Double)] = []
        for i in 0..<nv { for j in 0..<nh {
            let u = w[i * nh + j] * (kv[i] * kh[j]).squareRoot()
            edges.append((i, nv + j, u)); edges.append((nv + j, i, u))
        } }
        let e = edges.count
        var b = [Double](repeating: 0, count: e * e)
        for (x, p) in edges.enumerated() { for (y, q) in edges.enumerated() where p.to == q.from && q.to != p.from { b[x * e + y] = q.u } }
        let hashimoto = T(shape: [e, e], scalars: b)
        let direct = try! Linalg.slogdet(T.eye(e) - hashimoto).logAbsDet.item * -0.5
        let viaIharaBass = NonBacktrackingRings.sum(kv: T(shape: [1, nv], scalars: kv), kh: T(shape: [1, nh], scalars: kh), w: model.weights).item
        #expect(Swift.abs(direct - viaIharaBass) < 1e-13, "\(direct) vs \(viaIharaBass)")
        let b2 = matmul(hashimoto, hashimoto), b4 = matmul(b2, b2)
        let trace4 = (0..<e).map { b4.scalars[$0 * e + $0] }.reduce(0, +)
        var cycles = 0.0
        for i in 0..<nv { for k in 0..<nv where k != i { for j in 0..<nh { for l in 0..<nh where l != j {
            cycles += w[i * nh + j] * w[i * nh + l] * w[k * nh + j] * w[k * nh + l] * kv[i] * kv[k] * kh[j] * kh[l]
        } } } }
        #expect(Swift.abs(trace4 / 8 - cycles / 4) < 1e-15, "tr B⁴/8 = \(trace4 / 8), 4-cycles \(cycles / 4)")
        let m = Magnetizations(visible: mv, hidden: mh)
        let gaps = [0.4, 0.2].map { t -> Double in
            let scaled = RBM(weights: model.weights * t, visibleBias: model.visibleBias, hiddenBias: model.hiddenBias)
            return scaled.negativeGibbsFreeEnergy(m, approximation: .nonBacktrackingRing).item - scaled.negativeGibbsFreeEnergy(m, approximation: .tap4).item
        }
        #expect(Swift.abs(gaps[0] / gaps[1] - 64) < 8, "Φ_nb − Φ₄ at t = 0.4 and 0.2: \(gaps), ratio \(gaps[0] / gaps[1])")
        let f: ([T]) -> T = { p in
            RBM(weights: p[0], visibleBias: p[1], hiddenBias: p[2]).negativeGibbsFreeEnergy(Magnetizations(visible: p[3], hidden: p[4]),
                                                                                            approximation: .nonBacktrackingRing)
        }
        #expect(gradcheck(f, at: model.parameters + [mv, mh]).passed)
        #expect(gradgradcheck(f, at: model.parameters + [mv, mh]).passed)
    }

    /// The README's "Beyond TAP" example compiles and gives finite estimates near exact ln Z.
    struct ReadmeExpansion: GibbsFreeEnergyApproximation {
        func interaction<S>(_ rbm: RBM<S>, _ m: Magnetizations<S>, couplings w: CouplingPowers<S>) -> Tensor<S> {
            let kv = m.visible * (1 - m.visible), kh = m.hidden * (1 - m.hidden)
            return PlefkaOrder.tap2.interaction(rbm, m, couplings: w) + (matmul(kv, w.power(4)) * kh).sum(axis: 1) / 24
        }
        var description: String { "mine" }
    }

    @Test func readmeExample() {
        let rbm = randomRBM(visible: 8, hidden: 6, scale: 0.3, seed: 72)
        let data = T.bernoulli(T(repeating: 0.5, shape: [4, 8]), generator: RandomGenerator(seed: 73))
        let m = TAPSolver.start(from: data, model: rbm)
        for approximation: any GibbsFreeEnergyApproximation in [PlefkaOrder.tap4, RingResummation(walks: .nonBacktracking), ReadmeExpansion()] {
            let e = rbm.logPartition(.meanField(TAPSolver(approximation, iterations: 500, tolerance: 1e-12), start: m))
            #expect(e.samples.allSatisfy { Swift.abs($0 - rbm.exactLogPartition()) < 0.01 } && e.residual! < 1e-9, "\(approximation): \(e)")
        }
    }
}
