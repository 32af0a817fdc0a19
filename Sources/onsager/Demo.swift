import Foundation
import Onsager

/// Two interleaved spirals (embedded: generated from a formula, no files).
func twoSpirals(pointsPerClass n: Int, generator: RandomGenerator) -> (x: Tensor<Float>, y: Tensor<Float>) {
    var xs: [Float] = [], ys: [Float] = []
    let noise = Tensor<Float>.normal([2 * n, 2], std: 0.08, generator: generator).scalars
    for c in 0..<2 {
        for i in 0..<n {
            let t = 0.25 + 3.0 * Double(i) / Double(n)          // angle in turns of π
            let r = t / 3.25
            let sign = c == 0 ? 1.0 : -1.0
            let k = c * n + i
            xs.append(Float(sign * r * cos(.pi * t)) + noise[2 * k])
            xs.append(Float(sign * r * sin(.pi * t)) + noise[2 * k + 1])
            ys.append(Float(c))
        }
    }
    return (Tensor(shape: [2 * n, 2], scalars: xs), Tensor(shape: [2 * n, 1], scalars: ys))
}

/// A 2-64-64-1 tanh MLP trained with SGD + momentum on binary cross-entropy from logits,
/// every gradient from the tape.
func runDemo(seed: UInt64, seconds: Double) {
    print("Onsager demo: instruction set \(Kernels.instructionSet), \(Kernels.threadCount) thread(s), seed \(seed)")
    let g = RandomGenerator(seed: seed)
    let (x, y) = twoSpirals(pointsPerClass: 500, generator: g)
    let sizes = [2, 64, 64, 1]
    var params: [Tensor<Float>] = []
    for i in 0..<(sizes.count - 1) {
        let std = Float((1.0 / Double(sizes[i])).squareRoot())
        params.append(Tensor<Float>.normal([sizes[i], sizes[i + 1]], std: std, generator: g).requiringGrad())
        params.append(Tensor<Float>.zeros([sizes[i + 1]]).requiringGrad())
    }
    var velocity = params.map { Tensor<Float>.zeros($0.shape) }
    func logits(_ input: Tensor<Float>) -> Tensor<Float> {
        var h = input
        for l in 0..<(params.count / 2) {
            h = matmul(h, params[2 * l]) + params[2 * l + 1]
            if l < params.count / 2 - 1 { h = h.tanh() }
        }
        return h
    }
    // Stable BCE from logits z: softplus(z) − y·z.
    func loss(_ z: Tensor<Float>, _ t: Tensor<Float>) -> Tensor<Float> { (z.softplus() - t * z).mean() }

    print("training 2-64-64-1 tanh MLP on 1000 two-spirals points (full batch, SGD lr 0.5, momentum 0.9) for \(seconds) s")
    let start = Date()
    var step = 0
    var last = Float.nan
    while Date().timeIntervalSince(start) < seconds {
        let l = loss(logits(x), y)
        for p in params { p.zeroGrad() }
        l.backward()
        for i in params.indices {
            velocity[i].scaleInPlace(by: 0.9)
            velocity[i].addInPlace(params[i].grad!)
            params[i].addInPlace(velocity[i], alpha: -0.5)
        }
        last = l.item
        if step % 500 == 0 { print(String(format: "  step %5d  loss %.4f", step, last)) }
        step += 1
    }
    let predictions = withoutGrad { logits(x) }.scalars
    let labels = y.scalars
    let correct = zip(predictions, labels).filter { ($0.0 > 0 ? 1 : 0) == $0.1 }.count
    let elapsed = Date().timeIntervalSince(start)
    print(String(format: "done: %d steps in %.2f s (%.0f steps/s), final loss %.4f, training accuracy %.1f%%",
                 step, elapsed, Double(step) / elapsed, last, 100 * Double(correct) / Double(labels.count)))
    print("")
    _ = runGradcheckReport(compact: true)
}

/// Gradchecks (Double, eps 1e-6, atol 1e-5, rtol 1e-3) of the ops the demo uses and of a few
/// more; with compact, only a summary line per group.
@discardableResult
func runGradcheckReport(compact: Bool = false) -> Bool {
    typealias T = Tensor<Double>
    let g = RandomGenerator(seed: 123)
    func r(_ s: [Int]) -> T { T.uniform(s, low: -1, high: 1, generator: g) }
    let pos = T.uniform([3, 4], low: 0.3, high: 2, generator: g)
    let cases: [(String, ([T]) -> T, [T])] = [
        ("MLP layer: tanh(x·W + b)", { (matmul($0[0], $0[1]) + $0[2]).tanh() }, [r([3, 2]), r([2, 4]), r([4])]),
        ("BCE from logits", { ($0[0].softplus() - $0[1] * $0[0]).mean() }, [r([5, 1]), T.uniform([5, 1], generator: g)]),
        ("exp, log, sqrt", { $0[0].exp() + $0[0].log() * $0[0].sqrt() }, [pos]),
        ("sigmoid, logSigmoid, softplus", { $0[0].sigmoid() * $0[0].logSigmoid() - $0[0].softplus() }, [r([3, 4])]),
        ("division with broadcasting", { $0[0] / ($0[1].squared() + 1) }, [r([3, 4]), r([4])]),
        ("logSumExp, softmax, logSoftmax", { $0[0].logSumExp(axis: 1, keepDims: true) * $0[0].softmax(axis: 0) + $0[0].logSoftmax() }, [r([3, 4])]),
        ("variance, mean, max", { $0[0].variance(axes: [0]) + $0[0].mean(axis: 0) * $0[0].max(axis: 0) }, [r([4, 3])]),
        ("views: transpose, slice, reshape, expand", { $0[0].T.sliced(axis: 0, 0..<4, step: 2).reshaped([-1]).expanded(to: [2, 6]).exp() }, [r([3, 4])]),
        ("concat, stack, gather", { concat([$0[0], stack([$0[0][0], $0[0][1]])], axis: 0).gathering(alongAxis: 1, indices: [0, 1, 1, 0, 1, 0, 0, 1]) }, [r([2, 2])]),
        ("batched matmul", { matmul($0[0], $0[1].T) }, [r([2, 3, 4]), r([5, 4])]),
    ]
    print("gradcheck (Double; eps 1e-6, atol 1e-5, rtol 1e-3), first and second order:")
    var allPassed = true
    for (name, f, inputs) in cases {
        let first = gradcheck(f, at: inputs), second = gradgradcheck(f, at: inputs)
        allPassed = allPassed && first.passed && second.passed
        let mark = first.passed && second.passed ? "ok  " : "FAIL"
        print("  \(mark) \(name.padding(toLength: 42, withPad: " ", startingAt: 0)) \(String(format: "%5d", first.entriesChecked)) entries, max |error| \(String(format: "%.1e", first.maxAbsoluteError)); 2nd order max |error| \(String(format: "%.1e", second.maxAbsoluteError))")
        if !compact && !(first.passed && second.passed) { print("       \(first)\n       \(second)") }
    }
    print(allPassed ? "all gradient checks passed" : "SOME GRADIENT CHECKS FAILED")
    return allPassed
}
