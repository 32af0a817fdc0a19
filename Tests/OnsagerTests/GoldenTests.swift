import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData
@testable import OnsagerLinearAlgebra

/// Op values against numpy (Golden/make_golden.py → Golden/ops.json), in Double and Float.
@Suite struct GoldenTests {
    static func compute<S: TensorScalar>(_ name: String, _: S.Type) -> Tensor<S> {
        let x = Inputs.x(S.self), p = Inputs.p(S.self), w = Inputs.w(S.self), big = Inputs.big(S.self)
        switch name {
        case "exp": return x.exp()
        case "log": return p.log()
        case "log1p": return p.log1p()
        case "sqrt": return p.sqrt()
        case "expm1": return x.expm1()
        case "sigmoid": return x.sigmoid()
        case "logsigmoid": return x.logSigmoid()
        case "tanh": return x.tanh()
        case "relu": return x.relu()
        case "softplus": return x.softplus()
        case "abs": return x.abs()
        case "sign": return x.sign()
        case "square": return x.squared()
        case "reciprocal": return p.reciprocal()
        case "leaky_relu_0.1": return x.leakyRelu(slope: 0.1)
        case "pow_1.7": return p.pow(1.7)
        case "pow_tensor": return p.pow(x)
        case "clamp_-1_2": return x.clamped(min: -1, max: 2)
        case "sum_axis0": return x.sum(axis: 0)
        case "sum_axis1": return x.sum(axis: 1)
        case "sum_all": return x.sum()
        case "mean_axis1": return x.mean(axis: 1)
        case "var_axis0_ddof0": return x.variance(axes: [0])
        case "var_axis1_ddof1": return x.variance(axes: [1], correction: 1)
        case "max_axis1": return x.max(axis: 1)
        case "min_axis0": return x.min(axis: 0)
        case "logsumexp_axis1": return x.logSumExp(axis: 1)
        case "logsumexp_big": return big.logSumExp()
        case "softmax_axis1": return x.softmax(axis: 1)
        case "log_softmax_axis0": return x.logSoftmax(axis: 0)
        case "matmul": return matmul(x, w)
        case "matmul_xT_x": return matmul(x.T, x)
        case "batched_matmul": return matmul(stack([x, x * 0.5]), w.sliced(axis: 1, 0..<2))
        case "maximum_broadcast": return Tensor.maximum(x, p[0])
        case "minimum_broadcast": return Tensor.minimum(x, p.sliced(axis: 1, 0..<1))
        case "div_broadcast": return x / p[1]
        case "where_x_gt_0": return Tensor.where(x .> 0, x, p)
        case "sigmoid_big": return big.sigmoid()
        case "softplus_big": return big.softplus()
        case "logsigmoid_big": return big.logSigmoid()
        case "tanh_big": return big.tanh()
        default: fatalError("no computation for golden case \(name)")
        }
    }

    @Test func everyGoldenCaseIsComputed() {
        #expect(Golden.file.cases.count >= 41)
    }

    @Test(arguments: Golden.file.cases.keys.sorted())
    func double(_ name: String) {
        let got = Self.compute(name, Double.self), want: Tensor<Double> = Golden.tensor(name)
        #expect(got.shape == want.shape, "\(name): shape \(got.shape) vs \(want.shape)")
        #expect(allClose(got, want, rtol: 1e-12, atol: 1e-300), "\(name): \(got.scalars) vs \(want.scalars)")
    }

    @Test(arguments: Golden.file.cases.keys.sorted())
    func float(_ name: String) {
        let got = Self.compute(name, Float.self), want: Tensor<Float> = Golden.tensor(name, Float.self)
        #expect(got.shape == want.shape)
        // Float inputs are rounded, so compare with a tolerance covering input rounding too.
        #expect(allClose(got, want, rtol: 2e-5, atol: 2e-6), "\(name): \(got.scalars) vs \(want.scalars)")
    }
}
