import Foundation
import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData
@testable import OnsagerLinearAlgebra

enum LinalgInputs {
    typealias T = Tensor<Double>
    static func grid(_ m: Int, _ n: Int, _ f: (Double, Double) -> Double) -> T {
        T(shape: [m, n], scalars: (0..<m).flatMap { i in (0..<n).map { j in f(Double(i), Double(j)) } })
    }
    static let A = grid(5, 5) { cos(1.3 * $0 + 0.7 * $1) } + T.eye(5) * 5
    static let B = grid(5, 5) { sin(0.9 * $0 - 0.4 * $1 + 0.2) }
    static let S = matmul(B, B.T) + T.eye(5)
    static let M = grid(7, 4) { cos(0.3 * $0 * $1 + $0) }
    static let H = grid(6, 6) { 1 / ($0 + $1 + 1) }
    static let R = grid(6, 3) { sin($0 + 2 * $1 + 1) }
    static let D = concat([R, R.sliced(axis: 1, 0..<1) + R.sliced(axis: 1, 1..<2)], axis: 1)
    static let b5 = T((0..<5).map { sin(1.0 + Double($0)) })
    static let y6 = T((0..<6).map { cos(0.5 * Double($0)) })
}

struct LinalgGolden {
    static let file: Golden.File = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/linalg.json")
        return try! JSONDecoder().decode(Golden.File.self, from: Data(contentsOf: url))
    }()
    static func tensor(_ name: String) -> Tensor<Double> {
        let c = file.cases[name]!
        return Tensor(shape: c.shape, scalars: c.values)
    }
}

@Suite struct LinearAlgebraTests {
    typealias T = Tensor<Double>
    typealias I = LinalgInputs

    @Test func valuesMatchNumpy() throws {
        func expectClose(_ got: T, _ name: String, rtol: Double = 1e-11, atol: Double = 1e-12) {
            let want = LinalgGolden.tensor(name)
            #expect(allClose(got.reshaped(want.shape), want, rtol: rtol, atol: atol), "\(name): \(got.scalars) vs \(want.scalars)")
        }
        expectClose(try Linalg.cholesky(I.S), "cholesky_S")
        expectClose(try Linalg.solve(I.A, I.b5), "solve_A_b")
        expectClose(try Linalg.inverse(I.A), "inv_A")
        expectClose(T(try Linalg.det(I.A)), "det_A")
        let (sign, logdet) = try Linalg.slogdet(I.A)
        expectClose(T([sign, logdet.item]), "slogdet_A")
        expectClose(try Linalg.qr(I.M).r, "qr_R_M")
        expectClose(try Linalg.eigh(I.S).values, "eigh_S_values")
        expectClose(try Linalg.eigh(I.H).values, "eigh_H_values", rtol: 1e-8, atol: 1e-15)
        expectClose(try Linalg.svd(I.M).s, "svd_M_s")
        expectClose(try Linalg.svd(I.H).s, "svd_H_s", rtol: 1e-9, atol: 1e-15)
        expectClose(try Linalg.svd(I.D).s, "svd_D_s", rtol: 1e-10, atol: 1e-13)
        expectClose(try Linalg.pinv(I.D), "pinv_D", rtol: 1e-9, atol: 1e-11)
        expectClose(try Linalg.pinv(I.M), "pinv_M")
        #expect(try Linalg.matrixRank(I.D) == Int(LinalgGolden.tensor("rank_D").item))
        expectClose(T(try Linalg.conditionNumber(I.A)), "cond_A")
        expectClose(T(try Linalg.conditionNumber(I.H)), "cond_H", rtol: 1e-7)
        expectClose(try Linalg.leastSquares(I.D, I.y6), "lstsq_D_y", rtol: 1e-9, atol: 1e-11)
    }

    /// U S Vᵀ = A, QR = A, L Lᵀ = A, V Λ Vᵀ = A and orthogonality, on random and ill-conditioned matrices.
    @Test(arguments: [(30, 8), (8, 30), (12, 12), (200, 57)])
    func reconstructions(m: Int, n: Int) throws {
        let g = RandomGenerator(seed: UInt64(m * 100 + n))
        var a = T.normal([m, n], generator: g)
        // Make it ill-conditioned: scale columns over 10 orders of magnitude.
        a = a * T((0..<n).map { pow(10, -10 * Double($0) / Double(Swift.max(n - 1, 1))) })
        let k = Swift.min(m, n)
        let (u, s, vt) = try Linalg.svd(a)
        #expect(u.shape == [m, k] && s.shape == [k] && vt.shape == [k, n])
        #expect(allClose(matmul(u * s.unsqueezed(0), vt), a, rtol: 0, atol: 1e-12))
        #expect(allClose(matmul(u.T, u), T.eye(k), rtol: 0, atol: 1e-10))
        #expect(allClose(matmul(vt, vt.T), T.eye(k), rtol: 0, atol: 1e-10))
        let (uf, _, vtf) = try Linalg.svd(a, full: true)
        #expect(uf.shape == [m, m] && vtf.shape == [n, n])
        #expect(allClose(matmul(uf.T, uf), T.eye(m), rtol: 0, atol: 1e-10) && allClose(matmul(vtf, vtf.T), T.eye(n), rtol: 0, atol: 1e-10))
        let (q, r) = try Linalg.qr(a)
        #expect(allClose(matmul(q, r), a, rtol: 0, atol: 1e-12))
        #expect(allClose(r, r.lowerTriangle(diagonalScale: 1, upper: true), rtol: 0, atol: 0))
        let spd = matmul(a.T, a) + T.eye(n) * 1e-3
        let l = try Linalg.cholesky(spd)
        #expect(allClose(matmul(l, l.T), spd, rtol: 1e-10, atol: 1e-12))
        let (w, v) = try Linalg.eigh(spd)
        #expect(allClose(matmul(v * w.unsqueezed(0), v.T), spd, rtol: 1e-9, atol: 1e-10))
        #expect(zip(w.scalars, w.scalars.dropFirst()).allSatisfy { $0 <= $1 })
        // Tall/square: the column scaling makes A ill-conditioned; the smallest singular value is
        // still resolved (Jacobi keeps relative accuracy).
        if m >= n { #expect(s.scalars.last! > 0 && s.scalars.first! / s.scalars.last! > 1e8, "\(s.scalars)") }
    }

    @Test func gradientsOfDifferentiableOps() {
        let g = RandomGenerator(seed: 7)
        let a = T.normal([4, 4], generator: g) + T.eye(4) * 3, b = T.normal([4, 2], generator: g)
        let cases: [(String, ([T]) -> T, [T])] = [
            ("solve", { try! Linalg.solve($0[0], $0[1]) }, [a, b]),
            ("solve vector", { try! Linalg.solve($0[0], $0[1]) }, [a, T.normal([4], generator: g)]),
            ("cholesky of X Xᵀ + 4I", { x in try! Linalg.cholesky(matmul(x[0], x[0].T) + T.eye(4) * 4) }, [T.normal([4, 4], generator: g)]),
            ("slogdet", { try! Linalg.slogdet($0[0]).logAbsDet }, [a]),
            ("singular values", { try! Linalg.singularValues($0[0]) }, [T.normal([5, 3], generator: g)]),
            ("solveTriangular", { try! Linalg.solveTriangular($0[0].lowerTriangle() + T.eye(3) * 3, $0[1], lower: true) }, [T.normal([3, 3], generator: g), T.normal([3, 2], generator: g)]),
            ("solveTriangular transposed", { try! Linalg.solveTriangular($0[0].lowerTriangle() + T.eye(3) * 3, $0[1], lower: true, transpose: true) }, [T.normal([3, 3], generator: g), T.normal([3, 2], generator: g)]),
            ("inverse", { try! Linalg.inverse($0[0]) }, [a]),
        ]
        for (name, f, inputs) in cases {
            let r = gradcheck(f, at: inputs)
            #expect(r.passed, "\(name): \(r)")
        }
    }

    @Test func errorsNameTheOp() throws {
        let notSPD = T([[1, 2], [2, 1]])
        #expect(throws: LinearAlgebraError.notPositiveDefinite(op: "cholesky", pivot: 1)) { try Linalg.cholesky(notSPD) }
        let singular = T([[1, 2], [2, 4]])
        #expect(throws: LinearAlgebraError.singular(op: "solve", pivot: 1)) { try Linalg.solve(singular, T([1, 1])) }
        #expect(throws: LinearAlgebraError.self) { try Linalg.solve(T.eye(3), T([1, 1])) }
        #expect("\(LinearAlgebraError.singular(op: "solve", pivot: 1))".contains("solve"))
        #expect(try Linalg.det(singular) == 0)
        #expect(try Linalg.slogdet(singular).sign == 0)
        // Float input is computed in Double.
        let f = try Linalg.solve(Tensor<Float>([[2, 0], [0, 4]]), Tensor<Float>([1, 1]))
        #expect(f.scalars == [0.5, 0.25])
    }
}

@Suite struct RankDeficientSVDTests {
    /// Rank-deficient input (duplicate rows, zero columns, a product of thin factors) converges and
    /// the rank is right: columns that collapse to rounding noise count as converged.
    @Test func rankDeficientDesignConverges() throws {
        let g = RandomGenerator(seed: 77)
        var x = matmul(Tensor<Double>.normal([57, 50], generator: g), Tensor<Double>.normal([50, 57], generator: g))
        x = x * Tensor((0..<57).map { $0 % 19 == 0 ? 0.0 : 1.0 })          // three zero columns
        x = concat([x, x.sliced(axis: 0, 0..<3)], axis: 0)                   // duplicate rows
        let centered = x - x.mean(axis: 0, keepDims: true)
        #expect(try Linalg.matrixRank(x) == 50)
        #expect(try Linalg.matrixRank(centered) == 50)
        let (u, s, vt) = try Linalg.svd(centered)
        #expect(allClose(matmul(u * s.unsqueezed(0), vt), centered, rtol: 0, atol: 1e-9))
    }
}
