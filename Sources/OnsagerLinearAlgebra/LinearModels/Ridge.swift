import OnsagerCore
import Foundation

/// Ridge (Tikhonov) regression computed through one SVD of the (centred) design matrix, so any
/// number of regularisation strengths λ ≥ 0, truncated-SVD solutions, GCV scores and L-curve
/// points come from the same factorisation. λ = 0 gives the minimum-norm least-squares solution.
///
///     w(λ) = V diag(sᵢ / (sᵢ² + λ)) Uᵀ y,    residual r = y − X w,    H = U diag(sᵢ²/(sᵢ² + λ)) Uᵀ
public struct RidgeSVD {
    /// Columns of U (n × k), as k arrays of n.
    public let u: [[Double]]
    /// Singular values s₁ ≥ … ≥ s_k.
    public let s: [Double]
    /// Columns of V (p × k), as k arrays of p.
    public let v: [[Double]]
    /// Uᵀ y.
    public let uty: [Double]
    /// ‖y‖² (after centring).
    public let yNorm2: Double
    /// Number of rows of X.
    public let n: Int
    /// Number of features (columns of X).
    public let p: Int
    /// Whether X and y were centred (an unpenalised intercept).
    public let fitIntercept: Bool
    /// Column means of X (zeros without an intercept).
    public let xMean: [Double]
    /// Mean of y (zero without an intercept).
    public let yMean: Double

    /// Factorises X (n × p, Double) with targets y. With `fitIntercept`, X and y are centred first,
    /// so the intercept is not penalised.
    public init(x: Tensor<Double>, y: Tensor<Double>, fitIntercept: Bool = true) throws {
        check(x.rank == 2 && y.shape == [x.shape[0]], "RidgeSVD: X \(x.shape) and y \(y.shape) do not fit")
        let n = x.shape[0], p = x.shape[1]
        self.n = n; self.p = p
        self.fitIntercept = fitIntercept
        var xc = try DenseMatrix(x, op: "ridge")
        var yv = y.scalars
        let xc0 = xc
        let means = fitIntercept ? (0..<p).map { j in (0..<n).reduce(0.0) { $0 + xc0[$1, j] } / Double(n) } : Array(repeating: 0, count: p)
        let ym = fitIntercept ? yv.reduce(0, +) / Double(n) : 0
        xMean = means
        yMean = ym
        if fitIntercept {
            for i in 0..<n { for j in 0..<p { xc[i, j] -= means[j] } }
            yv = yv.map { $0 - ym }
        }
        let (um, sv, vm) = try Decompose.svd(xc, op: "ridge")
        s = sv
        let uc = (0..<sv.count).map { k in (0..<um.rows).map { um[$0, k] } }
        u = uc
        v = (0..<sv.count).map { k in (0..<vm.rows).map { vm[$0, k] } }
        uty = uc.map { col in zip(col, yv).reduce(0) { $0 + $1.0 * $1.1 } }
        yNorm2 = yv.reduce(0) { $0 + $1 * $1 }
    }

    /// Filter factors fᵢ = sᵢ²/(sᵢ² + λ) (or 1 for the first k components and 0 after, for TSVD).
    func filters(lambda: Double) -> [Double] { s.map { $0 * $0 / ($0 * $0 + lambda) } }
    func filters(rank k: Int) -> [Double] { s.indices.map { $0 < k && s[$0] > 0 ? 1 : 0 } }

    func weights(_ f: [Double]) -> [Double] {
        var w = [Double](repeating: 0, count: p)
        for k in s.indices where s[k] > 0 && f[k] != 0 {
            let c = f[k] * uty[k] / s[k]
            for j in 0..<p { w[j] += c * v[k][j] }
        }
        return w
    }

    /// A fitted linear model: weights and intercept.
    public struct Model: Sendable {
        /// One weight per feature.
        public let weights: [Double]
        /// The intercept.
        public let intercept: Double
        /// Predictions for rows of X.
        public func predict(_ x: Tensor<Double>) -> [Double] {
            let out = matmul(x, Tensor(weights)).scalars
            return out.map { $0 + intercept }
        }
    }

    func model(_ f: [Double]) -> Model {
        let w = weights(f)
        return Model(weights: w, intercept: yMean - zip(xMean, w).reduce(0) { $0 + $1.0 * $1.1 })
    }

    /// The ridge solution for λ (λ = 0: minimum-norm least squares).
    public func fit(lambda: Double) -> Model { model(filters(lambda: lambda)) }
    /// The truncated-SVD solution keeping the k largest singular values.
    public func fit(rank k: Int) -> Model { model(filters(rank: k)) }

    /// ‖residual‖ and ‖w‖ for filter factors f (for the L-curve).
    func norms(_ f: [Double]) -> (residual: Double, solution: Double) {
        // r = y − U diag(f) Uᵀ y; ‖r‖² = ‖y‖² − Σ (2f − f²)(uᵢᵀy)²
        var r2 = yNorm2, w2 = 0.0
        for k in s.indices {
            r2 -= (2 * f[k] - f[k] * f[k]) * uty[k] * uty[k]
            if s[k] > 0 { w2 += (f[k] * uty[k] / s[k]) * (f[k] * uty[k] / s[k]) }
        }
        return (Swift.max(r2, 0).squareRoot(), w2.squareRoot())
    }

    /// Generalized cross-validation: n‖(I − H)y‖² / (n − tr H)².
    public func gcv(lambda: Double) -> Double {
        let f = filters(lambda: lambda)
        let trace = f.reduce(0, +)
        let r = norms(f).residual
        return Double(n) * r * r / ((Double(n) - trace) * (Double(n) - trace))
    }

    /// λ minimising GCV on a grid.
    public func gcvChoice(grid: [Double]) -> Double { grid.min { gcv(lambda: $0) < gcv(lambda: $1) }! }

    /// (‖r(λ)‖, ‖w(λ)‖) for each λ on the grid.
    public func lCurve(grid: [Double]) -> [(lambda: Double, residual: Double, solution: Double)] {
        grid.map { l in let nm = norms(filters(lambda: l)); return (l, nm.residual, nm.solution) }
    }

    /// The L-curve's corner: the grid point of maximum curvature of (log ‖r‖, log ‖w‖) as a function
    /// of log λ (finite differences on the grid; the grid should be log-spaced and fine).
    public func lCurveCorner(grid: [Double]) -> Double {
        let pts = lCurve(grid: grid)
        guard pts.count >= 5 else { return grid[grid.count / 2] }
        let x = pts.map { Foundation.log($0.residual) }, y = pts.map { Foundation.log($0.solution) }, t = grid.map { Foundation.log($0) }
        var best = 1, bestK = -Double.infinity
        for i in 1..<(pts.count - 1) {
            let h1 = t[i] - t[i - 1], h2 = t[i + 1] - t[i]
            let dx = (x[i + 1] - x[i - 1]) / (h1 + h2), dy = (y[i + 1] - y[i - 1]) / (h1 + h2)
            let ddx = 2 * ((x[i + 1] - x[i]) / h2 - (x[i] - x[i - 1]) / h1) / (h1 + h2)
            let ddy = 2 * ((y[i + 1] - y[i]) / h2 - (y[i] - y[i - 1]) / h1) / (h1 + h2)
            // Signed curvature; the corner of an L bends towards the origin (negative in this orientation).
            let k = (dx * ddy - dy * ddx) / Foundation.pow(dx * dx + dy * dy, 1.5)
            if -k > bestK && k.isFinite { bestK = -k; best = i }
        }
        return grid[best]
    }

    /// The rank whose truncated-SVD solution minimises GCV (trace H = k).
    public func tsvdGCVChoice() -> Int {
        (1...Swift.max(1, s.filter { $0 > 0 }.count)).min { a, b in
            func score(_ k: Int) -> Double { let r = norms(filters(rank: k)).residual; return Double(n) * r * r / Double((n - k) * (n - k)) }
            return score(a) < score(b)
        } ?? 1
    }

    /// Σ 1/sᵢ² over non-zero singular values: the variance factor of least squares.
    public var varianceFactor: Double { s.filter { $0 > 1e-12 * (s.first ?? 1) }.reduce(0) { $0 + 1 / ($1 * $1) } }
}
