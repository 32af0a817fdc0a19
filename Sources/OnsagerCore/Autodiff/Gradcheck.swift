/// The outcome of `gradcheck`: whether every Jacobian entry matched, and the worst entry.
public struct GradcheckReport: CustomStringConvertible, Sendable {
    /// True when |analytic − numeric| ≤ atol + rtol·|numeric| for every entry.
    public let passed: Bool
    /// Number of Jacobian entries compared.
    public let entriesChecked: Int
    /// The entry with the largest error relative to its tolerance.
    public let worst: Entry?
    /// Largest absolute difference over all entries.
    public let maxAbsoluteError: Double

    /// One Jacobian entry: d output[outputIndex] / d inputs[input][element].
    public struct Entry: Sendable {
        /// Which input tensor (position in `inputs`).
        public let input: Int
        /// The multi-index of the element within that input.
        public let element: [Int]
        /// The flat index of the output element.
        public let outputIndex: Int
        /// The entry from the tape (reverse mode).
        public let analytic: Double
        /// The entry from central differences.
        public let numeric: Double
        /// |analytic − numeric| / (atol + rtol·|numeric|); above 1 fails.
        public let errorOverTolerance: Double
    }

    /// The verdict, the number of entries and the worst entry.
    public var description: String {
        guard let w = worst else { return "gradcheck: nothing to check (no input elements)" }
        let verdict = passed ? "passed" : "FAILED"
        return "gradcheck \(verdict): \(entriesChecked) entries, max |error| \(maxAbsoluteError); worst at input \(w.input) element \(w.element), output \(w.outputIndex): analytic \(w.analytic), numeric \(w.numeric) (error/tolerance \(w.errorOverTolerance))"
    }
}

/// Compares the reverse-mode Jacobian of `f` at `inputs` with central differences, in Double,
/// with PyTorch's defaults (eps 1e-6, atol 1e-5, rtol 1e-3).
///
/// `f` may return a tensor of any shape: every entry of the Jacobian is checked (one backward pass
/// per output element, two evaluations per input element), so keep inputs small.
///
/// ```swift
/// let report = gradcheck({ x in (x[0] * x[1]).sigmoid().sum() }, at: [a, b])
/// assert(report.passed, report.description)
/// ```
public func gradcheck(_ f: ([Tensor<Double>]) -> Tensor<Double>, at inputs: [Tensor<Double>],
                      eps: Double = 1e-6, atol: Double = 1e-5, rtol: Double = 1e-3) -> GradcheckReport {
    let base = inputs.map { $0.detached().contiguous().materialized() }
    // Analytic Jacobian, one row per output element.
    let leaves = base.map { $0.requiringGrad() }
    let out = withGradEnabled(true) { f(leaves) }
    let nOut = out.scalarCount
    var analytic = [[Double]](repeating: [], count: nOut)   // [output][flattened inputs]
    let totalIn = base.reduce(0) { $0 + $1.scalarCount }
    for j in 0..<nOut {
        if !out.requiresGrad {
            analytic[j] = [Double](repeating: 0, count: totalIn)
            continue
        }
        var seed = [Double](repeating: 0, count: nOut)
        seed[j] = 1
        let grads = gradients(of: out, wrt: leaves, seed: Tensor(shape: out.shape, scalars: seed), retainGraph: true)
        analytic[j] = grads.flatMap { $0.scalars }
    }
    // Numeric Jacobian by central differences.
    var entries = 0
    var worst: GradcheckReport.Entry?
    var maxAbs = 0.0
    var passed = true
    var column = 0
    for (i, x) in base.enumerated() {
        let strides = Shape.contiguousStrides(x.shape)
        for e in 0..<x.scalarCount {
            func evaluate(_ delta: Double) -> [Double] {
                var xs = base
                xs[i].withUnsafeMutableScalars { $0[e] += delta }
                return withoutGrad { f(xs).scalars }
            }
            let plus = evaluate(eps), minus = evaluate(-eps)
            let index = strides.enumerated().map { d, s in (e / s) % Swift.max(x.shape[d], 1) }
            for j in 0..<nOut {
                let numeric = (plus[j] - minus[j]) / (2 * eps)
                let a = analytic[j][column]
                let err = Swift.abs(a - numeric)
                let ratio = err / (atol + rtol * Swift.abs(numeric))
                entries += 1
                maxAbs = Swift.max(maxAbs, err)
                if !(ratio <= 1) { passed = false }
                if worst == nil || ratio > worst!.errorOverTolerance || ratio.isNaN {
                    worst = .init(input: i, element: index, outputIndex: j, analytic: a, numeric: numeric, errorOverTolerance: ratio)
                }
            }
            column += 1
        }
    }
    return GradcheckReport(passed: passed, entriesChecked: entries, worst: worst, maxAbsoluteError: maxAbs)
}

/// Checks second derivatives: gradcheck of the map inputs ↦ vᵀ·J_f(inputs) for a fixed random
/// cotangent v, whose Jacobian is made by recording the backward pass (`createGraph: true`).
public func gradgradcheck(_ f: ([Tensor<Double>]) -> Tensor<Double>, at inputs: [Tensor<Double>],
                          eps: Double = 1e-6, atol: Double = 1e-5, rtol: Double = 1e-3, seed: UInt64 = 7) -> GradcheckReport {
    let outShape = withoutGrad { f(inputs.map { $0.detached() }).shape }
    let v = Tensor<Double>.normal(outShape, generator: RandomGenerator(seed: seed))
    let firstOrder: ([Tensor<Double>]) -> Tensor<Double> = { xs in
        let leaves = xs.map { $0.requiresGrad ? $0 : $0.requiringGrad() }
        let y = withGradEnabled(true) { f(leaves) }
        guard y.requiresGrad else { return Tensor.zeros([leaves.reduce(0) { $0 + $1.scalarCount }]) }
        let gs = gradients(of: y, wrt: leaves, seed: v, createGraph: GradMode.isEnabled)
        return concat(gs.map { $0.flattened() }, axis: 0)
    }
    return gradcheck(firstOrder, at: inputs, eps: eps, atol: atol, rtol: rtol)
}
