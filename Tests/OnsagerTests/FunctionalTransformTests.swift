import Foundation
import Testing
@testable import OnsagerCore

/// The transforms against central differences and against each other.
@Suite struct FunctionalTransformTests {
    typealias T = Tensor<Double>
    /// A non-linear map R³ → R² and a scalar function R³ → R.
    static func f(_ x: T) -> T { stack([(x * x).sum() * x.sliced(axis: 0, 0..<1).sum().tanh(), (x.exp() * T([1, -2, 0.5])).sum()]) }
    static func s(_ x: T) -> T { (x * x * x).sum() + (x.sliced(axis: 0, 0..<1).sum() * x.sliced(axis: 0, 1..<2).sum()).tanh() * x.sliced(axis: 0, 2..<3).sum().exp() }
    let x = T([0.3, -0.7, 1.1])
    let eps = 1e-6

    func centralJacobian(_ f: (T) -> T, at x: T) -> [[Double]] {
        let m = f(x).scalarCount
        var cols: [[Double]] = []
        for j in 0..<x.scalarCount {
            var p = x.scalars, q = x.scalars
            p[j] += eps; q[j] -= eps
            let fp = f(T(p)).scalars, fq = f(T(q)).scalars
            cols.append((0..<m).map { (fp[$0] - fq[$0]) / (2 * eps) })
        }
        return (0..<m).map { i in cols.map { $0[i] } }   // rows: outputs
    }

    @Test func gradAndJacobianAgreeWithCentralDifferences() {
        let numeric = centralJacobian(Self.s, at: x)[0]
        #expect(maxRelativeError(grad(Self.s)(x).scalars, numeric, floor: 1e-3) < 1e-6)
        let (v, gr) = valueAndGrad(Self.s)(x)
        #expect(v.item == Self.s(x).item && gr.scalars == grad(Self.s)(x).scalars)
        let j = jacobian(Self.f, at: x)
        #expect(j.shape == [2, 3])
        #expect(maxRelativeError(j.scalars, centralJacobian(Self.f, at: x).flatMap { $0 }, floor: 1e-3) < 1e-6)
    }

    @Test func vjpAndJvpAreTheJacobianBothWays() {
        let j = jacobian(Self.f, at: x)
        let u = T([0.4, -1.3]), v = T([1, 0.5, -2])
        let (value, pullback) = vjp(Self.f, at: x)
        #expect(value.scalars == Self.f(x).scalars)
        #expect(allClose(pullback(u), matmul(u, j), rtol: 1e-13, atol: 1e-13))
        #expect(allClose(pullback(u * 2), matmul(u, j) * 2, rtol: 1e-13, atol: 1e-13), "the pullback may be called again")
        let (value2, tangent) = jvp(Self.f, at: x, tangent: v)
        #expect(value2.scalars == value.scalars)
        #expect(allClose(tangent, matmul(j, v), rtol: 1e-13, atol: 1e-13), "forward mode from two reverse passes equals J v")
        let numeric = zip(Self.f(x + v * eps).scalars, Self.f(x - v * eps).scalars).map { ($0 - $1) / (2 * eps) }
        #expect(maxRelativeError(tangent.scalars, numeric, floor: 1e-3) < 1e-6)
    }

    @Test func hessianColumnsAreHvpsAndSymmetric() {
        let h = hessian(Self.s, at: x)
        #expect(h.shape == [3, 3])
        for i in 0..<3 {
            var e = [0.0, 0, 0]; e[i] = 1
            let col = hvp(Self.s, at: x, vector: T(e))
            #expect(maxRelativeError(col.scalars, (0..<3).map { h[index: [$0, i]] }, floor: 1e-12) < 1e-13)
        }
        #expect(allClose(h, h.transposed().contiguous(), rtol: 1e-12, atol: 1e-13))
        let numeric = centralJacobian(grad(Self.s), at: x)
        #expect(maxRelativeError(h.scalars, numeric.flatMap { $0 }, floor: 1e-3) < 1e-6, "Hessian equals the differenced gradient")
    }

    @Test func transformsLeaveTheCallersTensorsAlone() {
        let p = x.requiringGrad()
        _ = grad(Self.s)(p)
        _ = hessian(Self.s, at: p)
        #expect(p.grad == nil)
        #expect(grad({ _ in T(3) })(x).scalars == [0, 0, 0], "a constant function has zero gradient")
    }

    /// A Float model inside a Double computation: gradients reach the Float leaves, converted.
    @Test func conversionKeepsTheTape() {
        let w = Tensor<Float>([0.5, -1.5, 2]).requiringGrad()
        let xd = T([1.25, 0.75, -0.5])
        let loss = (w.converted(to: Double.self) * xd).tanh().sum()
        loss.backward()
        let want = zip(w.scalars, xd.scalars).map { Float((1 - pow(tanh(Double($0) * $1), 2)) * $1) }
        #expect(maxRelativeError(w.grad!.scalars.map(Double.init), want.map(Double.init)) < 1e-6)
        #expect(w.converted(to: Float.self).scalars == w.scalars && w.converted(to: Double.self).dtype == .float64)
        // A Double leaf through a Float stretch and back: backward() reaches it.
        let xl = T([0.4, -1.1]).requiringGrad()
        (xl.converted(to: Float.self).tanh().converted(to: Double.self) * xl).sum().backward()
        let direct = [0.4, -1.1].map { t in Double(Float(tanh(Double(Float(t))))) }
        let viaFloat = [0.4, -1.1].map { t in t * (1 - tanh(t) * tanh(t)) }
        #expect(maxRelativeError(xl.grad!.scalars, zip(direct, viaFloat).map { $0 + $1 }) < 1e-6,
                "both paths: the direct one and the one through Float")
    }
}
