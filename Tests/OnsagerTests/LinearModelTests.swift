import Foundation
import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData
@testable import OnsagerLinearAlgebra

@Suite struct LinearModelTests {
    typealias T = Tensor<Double>
    struct Models: Decodable { let logistic_coef: [Double]; let logistic_intercept: Double; let ridge_coef: [Double]; let ridge_intercept: Double }
    static let golden: Models = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/models.json")
        return try! JSONDecoder().decode(Models.self, from: Data(contentsOf: url))
    }()
    static func feature(_ i: Int, _ j: Int) -> Double {
        let a: Double = 0.37 * Double(i) + 1.1 * Double(j)
        return sin(a) + 0.1 * Double(j)
    }
    static let x = T(shape: [60, 5], scalars: (0..<60).flatMap { i in (0..<5).map { j in feature(i, j) } })
    static let labels = (0..<60).map { i -> Double in sin(0.37 * Double(i)) + 0.5 * cos(0.21 * Double(i)) > 0.1 ? 1 : 0 }
    static let targets = T((0..<60).map { cos(0.13 * Double($0)) + 0.05 * Double($0) })

    @Test func ridgeMatchesScikitLearnAndNormalEquations() throws {
        let r = try RidgeSVD(x: Self.x, y: Self.targets, fitIntercept: true)
        let m = r.fit(lambda: 0.3)
        #expect(maxRelativeError(m.weights, Self.golden.ridge_coef) < 1e-10)
        #expect(Swift.abs(m.intercept - Self.golden.ridge_intercept) < 1e-10)
        // Without intercept: (XᵀX + λI) w = Xᵀy.
        let r0 = try RidgeSVD(x: Self.x, y: Self.targets, fitIntercept: false)
        let w = try Linalg.solve(matmul(Self.x.T, Self.x) + T.eye(5) * 2.5, matmul(Self.x.T, Self.targets))
        #expect(maxRelativeError(r0.fit(lambda: 2.5).weights, w.scalars) < 1e-10)
        // TSVD with every component is least squares; λ = 0 is the pseudo-inverse solution.
        let ls = try Linalg.leastSquares(Self.x, Self.targets).scalars
        #expect(maxRelativeError(r0.fit(rank: 5).weights, ls) < 1e-9)
        #expect(maxRelativeError(r0.fit(lambda: 0).weights, ls) < 1e-9)
    }

    @Test func minimumNormOnRankDeficientData() throws {
        let d = LinalgInputs.D, y = LinalgInputs.y6
        let r = try RidgeSVD(x: d, y: y, fitIntercept: false)
        let want = LinalgGolden.tensor("lstsq_D_y").scalars
        #expect(maxRelativeError(r.fit(lambda: 0).weights, want) < 1e-9)
        #expect(r.s.last! < 1e-12 * r.s.first!)
    }

    @Test func gcvAndLCurve() throws {
        let r = try RidgeSVD(x: Self.x, y: Self.targets, fitIntercept: false)
        // GCV against an explicit hat matrix H = X (XᵀX + λI)⁻¹ Xᵀ.
        let lambda = 0.7
        let h = matmul(Self.x, try Linalg.solve(matmul(Self.x.T, Self.x) + T.eye(5) * lambda, Self.x.T))
        let resid = Self.targets - matmul(h, Self.targets)
        let trace = (h * T.eye(60)).sum().item
        let rss: Double = (resid * resid).sum().item
        let dof: Double = 60 - trace
        let gcv: Double = 60 * rss / (dof * dof)
        #expect(Swift.abs(r.gcv(lambda: lambda) - gcv) < 1e-10 * gcv)
        let grid = (0..<121).map { pow(10, -6 + Double($0) * 0.1) }
        let curve = r.lCurve(grid: grid)
        #expect(zip(curve, curve.dropFirst()).allSatisfy { $0.residual <= $1.residual + 1e-12 && $0.solution >= $1.solution - 1e-12 })
        let corner = r.lCurveCorner(grid: grid)
        #expect(corner > grid.first! && corner < grid.last!)
        #expect(grid.contains(r.gcvChoice(grid: grid)))
        #expect((1...5).contains(r.tsvdGCVChoice()))
        #expect(r.varianceFactor > 0)
    }

    @Test func logisticRegressionMatchesScikitLearn() throws {
        var lr = LogisticRegression(c: 1)
        try lr.fit(x: Self.x, y: Self.labels)
        #expect(maxRelativeError(lr.weights, Self.golden.logistic_coef) < 1e-6, "\(lr.weights) vs \(Self.golden.logistic_coef)")
        #expect(Swift.abs(lr.intercept - Self.golden.logistic_intercept) < 1e-6)
        #expect(lr.iterations < 30)
    }

    @Test func csvReaderErrors() throws {
        let p = scratchURL("csv.csv").path
        try "1,2,3\r\n4,5,6\r\n".write(toFile: p, atomically: true, encoding: .utf8)
        #expect(try CSV.read(p) == [[1, 2, 3], [4, 5, 6]])
        try "a,b\n1,2\n3,x\n".write(toFile: p, atomically: true, encoding: .utf8)
        do { _ = try CSV.read(p, skipHeader: true); Issue.record("expected an error") } catch let e as DataError {
            #expect("\(e)".contains("line 3, column 2") && "\(e)".contains(p))
        }
        try "1,2\n3\n".write(toFile: p, atomically: true, encoding: .utf8)
        #expect(throws: DataError.self) { try CSV.read(p) }
    }
}
