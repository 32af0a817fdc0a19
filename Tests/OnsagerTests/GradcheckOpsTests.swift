import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData
@testable import OnsagerLinearAlgebra

/// Every differentiable op against central differences in Double (eps 1e-6, atol 1e-5,
/// rtol 1e-3), including broadcast shapes and views; second derivatives where supported.
@Suite struct GradcheckOpsTests {
    typealias T = Tensor<Double>
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let inputs: @Sendable () -> [T]
        let f: @Sendable ([T]) -> T
        let second: Bool
        var testDescription: String { name }
        init(_ name: String, second: Bool = true, _ inputs: @escaping @Sendable () -> [T], _ f: @escaping @Sendable ([T]) -> T) {
            self.name = name; self.inputs = inputs; self.f = f; self.second = second
        }
    }

    static let a34: @Sendable () -> [T] = { [Inputs.random([3, 4], seed: 1)] }
    static let pos34: @Sendable () -> [T] = { [Inputs.random([3, 4], seed: 2, low: 0.3, high: 2)] }
    // Values kept away from kinks (|x| > 0.05) for relu/abs/clamp/leaky relu.
    static let kinked: @Sendable () -> [T] = { [T([-1.3, -0.7, -0.2, 0.3, 0.9, 1.6, 2.2, -2.5])] }

    static let cases: [Case] = [
        Case("neg", a34) { -$0[0] },
        Case("abs", second: false, kinked) { $0[0].abs() },
        Case("sign (zero gradient)", second: false, kinked) { $0[0].sign() + $0[0] },
        Case("exp", a34) { $0[0].exp() },
        Case("expm1", a34) { $0[0].expm1() },
        Case("log", pos34) { $0[0].log() },
        Case("log1p", pos34) { $0[0].log1p() },
        Case("sqrt", pos34) { $0[0].sqrt() },
        Case("square", a34) { $0[0].squared() },
        Case("reciprocal", pos34) { $0[0].reciprocal() },
        Case("sigmoid", a34) { ($0[0] * 3).sigmoid() },
        Case("logSigmoid", a34) { ($0[0] * 3).logSigmoid() },
        Case("tanh", a34) { ($0[0] * 2).tanh() },
        Case("relu", kinked) { $0[0].relu() },
        Case("relu times exp (second derivative through the masked gradient)", kinked) { $0[0].relu() * $0[0].exp() },
        Case("leakyRelu", second: false, kinked) { $0[0].leakyRelu(slope: 0.2) },
        Case("softplus", a34) { ($0[0] * 4).softplus() },
        Case("softplusSumWithSigmoid", { [Inputs.random([2, 3, 4], seed: 40)] }) { ($0[0] * 4).softplusSumWithSigmoid().softplusSum },
        Case("pow scalar", pos34) { $0[0].pow(2.5) },
        Case("pow tensor", { [Inputs.random([3, 4], seed: 3, low: 0.5, high: 2), Inputs.random([4], seed: 4)] }) { $0[0].pow($0[1]) },
        Case("clamp", second: false, kinked) { $0[0].clamped(min: -1, max: 1) },
        Case("scalar arithmetic", a34) { scalarArithmetic($0[0]) },
        Case("add broadcast [3,4]+[4]", { [Inputs.random([3, 4], seed: 5), Inputs.random([4], seed: 6)] }) { $0[0] + $0[1] },
        Case("sub broadcast [3,1]-[1,4]", { [Inputs.random([3, 1], seed: 7), Inputs.random([1, 4], seed: 8)] }) { $0[0] - $0[1] },
        Case("mul broadcast [2,3,4]*[3,1]", { [Inputs.random([2, 3, 4], seed: 9), Inputs.random([3, 1], seed: 10)] }) { $0[0] * $0[1] },
        Case("div broadcast by scalar tensor", { [Inputs.random([3, 4], seed: 11), Inputs.random([], seed: 12, low: 0.5, high: 1.5)] }) { $0[0] / $0[1] },
        Case("maximum", second: false, { [T([0.1, -0.5, 2, 0.7]), T([[0.3, -0.9, 1, 1.5], [-0.2, 0.4, 2.5, 0.0]])] }) { T.maximum($0[0], $0[1]) },
        Case("minimum", second: false, { [T([0.1, -0.5, 2, 0.7]), T([[0.3, -0.9, 1, 1.5], [-0.2, 0.4, 2.5, 0.0]])] }) { T.minimum($0[0], $0[1]) },
        Case("where", { [Inputs.random([3, 4], seed: 13), Inputs.random([4], seed: 14)] }) { T.where($0[0] .> 0, $0[0] * 2, $0[1]) },
        Case("sum all", a34) { $0[0].sum() },
        Case("sum axes [0,2] keepDims", { [Inputs.random([2, 3, 4], seed: 15)] }) { $0[0].sum(axes: [0, 2], keepDims: true) },
        Case("mean axis", a34) { $0[0].mean(axis: 1) },
        Case("variance", a34) { $0[0].variance(axes: [0], correction: 1) },
        Case("max axis", second: false, a34) { $0[0].max(axis: 1) },
        Case("min all", second: false, a34) { $0[0].min() },
        Case("logSumExp", a34) { $0[0].logSumExp(axis: 0) },
        Case("softmax", a34) { $0[0].softmax(axis: 1) },
        Case("softmax of rank 3, last axis, weighted", { [Inputs.random([2, 3, 5], seed: 33)] }) { $0[0].softmax() * T.arange(0, 30).reshaped([2, 3, 5]) },
        Case("softmax along axis 0", a34) { $0[0].softmax(axis: 0) * T.arange(0, 12).reshaped([3, 4]) },
        Case("logSoftmax", a34) { $0[0].logSoftmax(axis: 0) },
        Case("matmul", { [Inputs.random([3, 4], seed: 16), Inputs.random([4, 2], seed: 17)] }) { matmul($0[0], $0[1]) },
        Case("matmul adding bias through the epilogue (N 17, K 260: two Double K blocks)", second: false,
             { [Inputs.random([2, 260], seed: 44), Inputs.random([260, 17], seed: 45), Inputs.random([17], seed: 46)] }) { matmul($0[0], $0[1], adding: $0[2]) },
        Case("linearReLU (relu of x Wᵀ + b, applied by the GEMM)", { [Inputs.random([3, 4], seed: 47), Inputs.random([5, 4], seed: 48), Inputs.random([5], seed: 49)] }) {
            linearReLU($0[0], weight: $0[1], bias: $0[2])
        },
        // The weight is the transpose of a [260, 17] leaf, so the GEMM reads B row-major and K 260
        // spans two Double K blocks: the ReLU must wait for the second.
        Case("linearReLU through the epilogue (rank-3 input, N 17, K 260: two Double K blocks, no bias)", second: false,
             { [Inputs.random([2, 2, 260], seed: 50), Inputs.random([260, 17], seed: 51)] }) { linearReLU($0[0], weight: $0[1].T) },
        Case("matmul adding bias (addmm)", { [Inputs.random([3, 4], seed: 41), Inputs.random([4, 5], seed: 42), Inputs.random([5], seed: 43)] }) { matmul($0[0], $0[1], adding: $0[2]) },
        Case("matmul transposed operands", { [Inputs.random([4, 3], seed: 18), Inputs.random([2, 4], seed: 19)] }) { matmul($0[0].T, $0[1].T) },
        Case("matmul batched broadcast", { [Inputs.random([2, 3, 4], seed: 20), Inputs.random([4, 2], seed: 21)] }) { matmul($0[0], $0[1]) },
        Case("matmul vector", { [Inputs.random([4], seed: 22), Inputs.random([4, 3], seed: 23)] }) { matmul($0[0], $0[1]) },
        Case("reshape", a34) { $0[0].reshaped([2, -1]).exp() },
        Case("permute", { [Inputs.random([2, 3, 4], seed: 24)] }) { $0[0].permuted([2, 0, 1]) * T.arange(1, 3).reshaped([2, 1]) },
        Case("transpose + contiguous", a34) { $0[0].T.contiguous().squared() },
        Case("expand", { [Inputs.random([3, 1], seed: 25)] }) { $0[0].expanded(to: [2, 3, 4]).sigmoid() },
        Case("slice with step", { [Inputs.random([7, 3], seed: 26)] }) { $0[0].sliced(axis: 0, 1..<7, step: 2).exp() },
        Case("subscript", a34) { $0[0][1] * $0[0][2] },
        Case("squeeze/unsqueeze", { [Inputs.random([3, 1, 4], seed: 27)] }) { $0[0].squeezed(1).unsqueezed(0).tanh() },
        Case("concat", { [Inputs.random([2, 3], seed: 28), Inputs.random([2, 2], seed: 29)] }) { concat([$0[0], $0[1].exp()], axis: 1) },
        Case("stack", { [Inputs.random([2, 3], seed: 30), Inputs.random([2, 3], seed: 31)] }) { stack([$0[0], $0[1] * $0[0]], axis: 1) },
        Case("indexSelect with repeats", a34) { $0[0].indexSelect(axis: 1, indices: [3, 0, 3]).squared() },
        Case("indexSelect of long rows", { [Inputs.random([4, 40], seed: 32)] }) { $0[0].indexSelect(axis: 0, indices: [2, 2, 0]).squared() },
        Case("gathering", a34) { $0[0].gathering(alongAxis: 1, indices: [2, 0, 3]).exp() },
        Case("flattened", a34) { $0[0].T.flattened() * T.arange(0, 12) },
    ]

    static func scalarArithmetic(_ x: T) -> T {
        let a: T = (2.0 - x * 3 + 1) / 4
        let b: T = 0.5 / (x.squared() + 1)
        return a - b
    }

    @Test(arguments: cases)
    func firstOrder(_ c: Case) {
        let report = gradcheck(c.f, at: c.inputs())
        #expect(report.passed, "\(c.name): \(report)")
        #expect(report.entriesChecked > 0)
    }

    @Test(arguments: cases.filter(\.second))
    func secondOrder(_ c: Case) {
        let report = gradgradcheck(c.f, at: c.inputs())
        #expect(report.passed, "\(c.name): \(report)")
    }

    @Test func gradcheckCatchesAWrongGradient() {
        // A deliberately wrong rule: the value of x² with the gradient of x³ (3x²).
        let wrong: ([T]) -> T = { xs in
            let x = xs[0]
            let y = x.squared().detached()
            guard x.requiresGrad else { return y }
            return T.custom("wrong", inputs: [x], value: y) { g in [g * x * x * 3] }
        }
        let report = gradcheck(wrong, at: [T([0.5, 1.5, -2.0])])
        #expect(!report.passed)
        #expect(report.worst != nil)
        #expect(report.description.contains("FAILED"))
    }

    @Test func hessianVectorProductMatchesKnownHessian() {
        // f(x) = ½ xᵀ A x + Σ x³/3  ⇒  H = (A + Aᵀ)/2 + diag(2x).
        let a = Inputs.random([4, 4], seed: 40)
        let x = Inputs.random([4], seed: 41).requiringGrad()
        let v = Inputs.random([4], seed: 42)
        let f = (matmul(matmul(x, a), x) * 0.5 + x.pow(3).sum() / 3)
        let g = gradients(of: f, wrt: [x], createGraph: true)[0]
        let hv = gradients(of: (g * v).sum(), wrt: [x])[0]
        let xs = x.scalars, vs = v.scalars, am = a.scalars
        var expected = [Double](repeating: 0, count: 4)
        for i in 0..<4 {
            for j in 0..<4 { expected[i] += 0.5 * (am[i * 4 + j] + am[j * 4 + i]) * vs[j] }
            expected[i] += 2 * xs[i] * vs[i]
        }
        #expect(maxRelativeError(hv.scalars, expected) < 1e-12, "\(hv.scalars) vs \(expected)")
        // And the gradient itself: (A + Aᵀ)x/2 + x².
        var g0 = [Double](repeating: 0, count: 4)
        for i in 0..<4 {
            for j in 0..<4 { g0[i] += 0.5 * (am[i * 4 + j] + am[j * 4 + i]) * xs[j] }
            g0[i] += xs[i] * xs[i]
        }
        #expect(maxRelativeError(g.scalars, g0) < 1e-12)
    }

    @Test func gradgradcheckOnComposedFunction() {
        let f: ([T]) -> T = { xs in (matmul(xs[0], xs[1]).tanh() * xs[0].sum(axis: 1, keepDims: true)).logSumExp(axis: 1) }
        let r = gradgradcheck(f, at: [Inputs.random([2, 3], seed: 50), Inputs.random([3, 2], seed: 51)])
        #expect(r.passed, "\(r)")
    }
}
