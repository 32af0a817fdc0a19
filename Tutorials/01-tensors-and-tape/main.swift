// # Tutorial 01 — Tensors and the tape
//
// Run:  swift run -c release 01-tensors-and-tape
//
// This tutorial reads top to bottom like a notebook. It covers tensors and broadcasting, views,
// the reverse-mode tape, gradcheck on a function you write yourself, and a Hessian-vector
// product (gradient of a gradient). Figures go to the folder printed at the end.

import Foundation
import Onsager
import OnsagerCommandLine

var options = CommandLineOptions(program: "01-tensors-and-tape", summary: "tensors, views, the tape, gradcheck, a Hessian-vector product")
options.finish()

func section(_ title: String) { print("\n## \(title)\n") }

// ## 1. Tensors
// A `Tensor<Float>` or `Tensor<Double>` has a shape and row-major values. Arithmetic broadcasts by
// numpy's rules: a [2, 1, 3] tensor plus a [4, 1] tensor is [2, 4, 3].
section("1. Tensors and broadcasting")
let a = Tensor<Double>(shape: [2, 1, 3], scalars: [1, 2, 3, 4, 5, 6])
let b = Tensor<Double>(shape: [4, 1], scalars: [10, 20, 30, 40])
let c = a + b
print("a \(a.shape) + b \(b.shape) -> \(c.shape); c[1, 2, 0] = \(c[index: [1, 2, 0]])")

// ## 2. Views share storage
// Transposes, slices and expansions are views: no element is copied until a kernel needs a
// contiguous layout. Matrix products read transposed operands in place.
section("2. Views")
let m = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
print("m.T is contiguous? \(m.T.isContiguous); its values: \(m.T.scalars)")
print("every other column: \(m.sliced(axis: 1, 0..<3, step: 2).scalars)")
print("m · mᵀ = \(matmul(m, m.T).scalars)")

// ## 3. The tape
// Mark the inputs you want gradients for with `requiringGrad()`. Every op on them is recorded;
// `backward()` walks the records in reverse and accumulates into `.grad`.
section("3. Reverse mode")
let w = Tensor<Double>([0.5, -1.0, 2.0]).requiringGrad()
let x = Tensor<Double>([1.0, 2.0, 3.0])
let loss = (w * x).sigmoid().sum()
loss.backward()
print("loss = \(loss.item)")
print("d loss / d w = \(w.grad!.scalars)   (σ'(w·x)·x, elementwise)")
let manual = zip(w.scalars, x.scalars).map { wi, xi -> Double in
    let s = 1 / (1 + Foundation.exp(-wi * xi)); return s * (1 - s) * xi
}
print("closed form   = \(manual)")

// Inside `withoutGrad` nothing is recorded (evaluation, optimizer steps); `detached()` cuts one
// tensor from the tape.
let frozen = withoutGrad { (w * x).sum() }
print("recorded inside withoutGrad? \(frozen.requiresGrad)")

// ## 4. gradcheck on your own function
// `gradcheck` compares the tape's Jacobian with central differences in Double (PyTorch's defaults:
// eps 1e-6, atol 1e-5, rtol 1e-3) and names the worst element. Here: a tiny two-layer network
// with a softmax cross-entropy, written by hand.
section("4. gradcheck on a user-defined function")
func myLoss(_ inputs: [Tensor<Double>]) -> Tensor<Double> {
    let (w1, w2, data) = (inputs[0], inputs[1], inputs[2])
    let hidden = matmul(data, w1).tanh()
    let logits = matmul(hidden, w2)
    let picked = logits.logSoftmax(axis: 1).gathering(alongAxis: 1, indices: [0, 2, 1, 0])
    return -picked.mean()
}
let g = RandomGenerator(seed: 2)
let inputs = [Tensor<Double>.normal([3, 5], generator: g), Tensor<Double>.normal([5, 3], generator: g),
              Tensor<Double>.normal([4, 3], generator: g)]
let report = gradcheck(myLoss, at: inputs)
print(report)
let second = gradgradcheck(myLoss, at: inputs)
print("second order: \(second)")

// A wrong gradient is caught. `Tensor.custom` defines an op from a value and a backward rule;
// here the rule claims d(x²)/dx = 3x² instead of 2x.
let wrong = gradcheck({ xs in
    Tensor.custom("bad-square", inputs: [xs[0]], value: xs[0] * xs[0]) { grad in [grad * xs[0] * xs[0] * 3] }
}, at: [Tensor<Double>([0.5, 1.5])])
print("deliberately wrong rule: \(wrong)")

// ## 5. Gradient of a gradient: Hessian-vector products
// With `createGraph: true` the backward pass is itself recorded, so the gradient can be
// differentiated again. We use a function with a known Hessian,
// $$f(x) = \frac{1}{2} x^\top A x + \sum_i \frac{x_i^3}{3}, \qquad H = \frac{A + A^\top}{2} + \mathrm{diag}(2x),$$
// and compare $Hv$ from two backward passes with the formula.
section("5. Hessian-vector product")
let A = Tensor<Double>.normal([4, 4], generator: g)
let x0 = Tensor<Double>.normal([4], generator: g).requiringGrad()
let v = Tensor<Double>.normal([4], generator: g)
let f = matmul(matmul(x0, A), x0) * 0.5 + x0.pow(3).sum() / 3
let grad = gradients(of: f, wrt: [x0], createGraph: true)[0]
let hv = gradients(of: (grad * v).sum(), wrt: [x0])[0]
let hExact = (A + A.T) * 0.5 + Tensor<Double>.eye(4) * (x0.detached() * 2)
let hvExact = matmul(hExact, v)
print("H·v from the tape: \(hv.scalars.map { String(format: "%.6f", $0) })")
print("H·v exact        : \(hvExact.scalars.map { String(format: "%.6f", $0) })")
print(String(format: "key result: H·v from two backward passes matches the formula to %.1e", zip(hv.scalars, hvExact.scalars).map { abs($0 - $1) }.max()!))

// ## 6. A figure: functions and their derivatives from the tape
// The derivative curves below come from backward passes, not from formulas.
section("6. Figure")
let grid = Tensor<Double>.linspace(-6, 6, count: 241)
var plot = LinePlot(title: "Activations and their tape derivatives", xLabel: "x", yLabel: "value")
for (name, fn) in [("sigmoid", { (t: Tensor<Double>) in t.sigmoid() }), ("tanh", { $0.tanh() }), ("softplus", { $0.softplus() })] {
    let (value, derivative) = (fn(grid), valueWithGradient(at: grid) { fn($0).sum() }.gradient)
    plot.add(name, x: grid.scalars, y: value.scalars)
    plot.add(name + "′ (tape)", x: grid.scalars, y: derivative.scalars, dashed: true)
}
let outDir = OutputFolder.url("01-tensors-and-tape")
let figure = outDir.appendingPathComponent("activations.svg")
do {
    try plot.write(to: figure)
    print("figures written to \(outDir.path)/ (activations.svg)")
} catch {
    print("could not write \(figure.path): \(error)")
    exit(1)
}
