import OnsagerCore
import Foundation

/// Dense linear algebra on tensors, numpy.linalg-style. Computation is in Double whatever the
/// tensor's precision. Solve, Cholesky, triangular solve, log-determinant and singular values are
/// differentiable (their rules are written with these same ops); the others return plain values.
/// Singular or non-positive-definite input throws a `LinearAlgebraError` naming the op.
public enum Linalg {
    static func matrix<S>(_ t: Tensor<S>, _ op: String) throws -> DenseMatrix { try DenseMatrix(t.detached(), op: op) }

    /// As a column matrix when 1-D (numpy's convention for right-hand sides).
    static func columns<S>(_ b: Tensor<S>) -> (Tensor<S>, Bool) { b.rank == 1 ? (b.unsqueezed(1), true) : (b, false) }

    // MARK: Cholesky and triangular solves

    /// Lower-triangular L with A = L Lᵀ (reads A's lower triangle). Differentiable (symmetric gradient).
    public static func cholesky<S>(_ a: Tensor<S>) throws -> Tensor<S> {
        let l: Tensor<S> = try Decompose.cholesky(try matrix(a, "cholesky")).tensor()
        guard a.requiresGrad && GradMode.isEnabled else { return l }
        return Tensor.custom("cholesky", inputs: [a], value: l) { gl in
            // Murray (2016): P = Φ(Lᵀ L̄), S = L⁻ᵀ P L⁻¹, Ā = ½(S + Sᵀ); Φ keeps the lower triangle, halves the diagonal.
            let lv = l.detached()
            let p = (matmul(lv.T, gl)).lowerTriangle(diagonalScale: 0.5)
            let y = try! solveTriangular(lv, p, lower: true, transpose: true)
            let s = try! solveTriangular(lv, y.T, lower: true, transpose: true).T
            return [(s + s.T) * 0.5]
        }
    }

    /// X with T X = B (or Tᵀ X = B) for triangular T. Differentiable in T (its triangle) and B.
    public static func solveTriangular<S>(_ t: Tensor<S>, _ b: Tensor<S>, lower: Bool, transpose: Bool = false) throws -> Tensor<S> {
        let (bm, vector) = columns(b)
        let tm = try matrix(t, "solveTriangular"), bd = try matrix(bm, "solveTriangular")
        guard tm.rows == tm.cols, tm.rows == bd.rows else {
            throw LinearAlgebraError.shape(op: "solveTriangular", reason: "T \(t.shape) and B \(b.shape) do not fit")
        }
        var x: Tensor<S> = try Decompose.triangularSolve(tm, bd, lower: lower, transpose: transpose).tensor()
        if (t.requiresGrad || b.requiresGrad) && GradMode.isEnabled {
            let xv = x
            x = Tensor.custom("solve_triangular", inputs: [t, bm], value: x) { g in
                let gb = try! solveTriangular(t, g, lower: lower, transpose: !transpose)
                let gt = transpose ? -matmul(xv, gb.T) : -matmul(gb, xv.T)
                return [gt.lowerTriangle(diagonalScale: 1, upper: !lower), gb]
            }
        }
        return vector ? x.squeezed(1) : x
    }

    // MARK: LU, determinants

    /// X with A X = B (LU with partial pivoting). B may be a vector. Differentiable in A and B.
    public static func solve<S>(_ a: Tensor<S>, _ b: Tensor<S>) throws -> Tensor<S> {
        let (bm, vector) = columns(b)
        let am = try matrix(a, "solve"), bd = try matrix(bm, "solve")
        guard am.rows == am.cols, am.rows == bd.rows else { throw LinearAlgebraError.shape(op: "solve", reason: "A \(a.shape) and B \(b.shape) do not fit") }
        let (lu, perm, _) = try Decompose.lu(am)
        var x: Tensor<S> = Decompose.luSolve(lu, perm, bd).tensor()
        if (a.requiresGrad || b.requiresGrad) && GradMode.isEnabled {
            let xv = x
            x = Tensor.custom("solve", inputs: [a, bm], value: x) { g in
                let gb = try! solve(a.T, g)
                return [-matmul(gb, xv.T), gb]
            }
        }
        return vector ? x.squeezed(1) : x
    }

    /// The inverse (via `solve` with the identity; differentiable).
    public static func inverse<S>(_ a: Tensor<S>) throws -> Tensor<S> { try solve(a, Tensor.eye(a.shape[0])) }

    /// Sign and log |det A|; the log is differentiable (gradient A⁻ᵀ).
    public static func slogdet<S>(_ a: Tensor<S>) throws -> (sign: S, logAbsDet: Tensor<S>) {
        let am = try matrix(a, "slogdet")
        guard am.rows == am.cols else { throw LinearAlgebraError.shape(op: "slogdet", reason: "expected a square matrix, got \(a.shape)") }
        let lu: DenseMatrix, sign: Double
        do { (lu, _, sign) = try Decompose.lu(am, op: "slogdet") } catch LinearAlgebraError.singular { return (0, Tensor(-S.infinity)) }
        var logAbs = 0.0, s = sign
        for i in 0..<am.rows { logAbs += Foundation.log(Swift.abs(lu[i, i])); if lu[i, i] < 0 { s = -s } }
        var out = Tensor<S>(S(logAbs))
        if a.requiresGrad && GradMode.isEnabled {
            out = Tensor.custom("slogdet", inputs: [a], value: out) { g in [try! inverse(a).T * g] }
        }
        return (S(s), out)
    }

    /// det A (not differentiable; use `slogdet` for gradients).
    public static func det<S>(_ a: Tensor<S>) throws -> S {
        let (s, l) = try slogdet(a.detached())
        return s == 0 ? 0 : s * S(Foundation.exp(Double(l.item)))
    }

    // MARK: QR, eigen, SVD

    /// Thin QR: Q (m×k) with orthonormal columns and upper-triangular R (k×n), k = min(m, n),
    /// R's diagonal non-negative.
    public static func qr<S>(_ a: Tensor<S>) throws -> (q: Tensor<S>, r: Tensor<S>) {
        let (q, r) = Decompose.qr(try matrix(a, "qr"))
        return (q.tensor(), r.tensor())
    }

    /// Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix.
    public static func eigh<S>(_ a: Tensor<S>) throws -> (values: Tensor<S>, vectors: Tensor<S>) {
        let (w, v) = try Decompose.eigh(try matrix(a, "eigh"))
        return (Tensor(w.map { S($0) }), v.tensor())
    }

    /// A = U diag(s) Vᵀ with s descending. Thin by default (U m×k, Vᵀ k×n); `full` completes U
    /// and V to square orthogonal matrices.
    public static func svd<S>(_ a: Tensor<S>, full: Bool = false) throws -> (u: Tensor<S>, s: Tensor<S>, vt: Tensor<S>) {
        let m = try matrix(a, "svd")
        let (u, s, v) = try Decompose.svd(m)
        var um = u, vm = v
        if full {
            um = Decompose.completeBasis(u)
            vm = Decompose.completeBasis(v)
        }
        return (um.tensor(), Tensor(s.map { S($0) }), vm.transposed.tensor())
    }

    /// Singular values, descending. Differentiable: the gradient of Σ gᵢ sᵢ is U diag(g) Vᵀ
    /// (well defined for distinct singular values).
    public static func singularValues<S>(_ a: Tensor<S>) throws -> Tensor<S> {
        let (u, s, vt) = try svd(a.detached())
        guard a.requiresGrad && GradMode.isEnabled else { return s }
        return Tensor.custom("singular_values", inputs: [a], value: s) { g in [matmul(u * g.unsqueezed(0), vt)] }
    }

    /// Moore–Penrose pseudo-inverse; singular values below rcond·max(s) count as zero (numpy's default rcond 1e-15).
    public static func pinv<S>(_ a: Tensor<S>, rcond: Double = 1e-15) throws -> Tensor<S> {
        let (u, s, v) = try Decompose.svd(try matrix(a, "pinv"))
        let cutoff = rcond * (s.first ?? 0)
        var out = DenseMatrix(rows: a.shape[1], cols: a.shape[0])
        for (k, sk) in s.enumerated() where sk > cutoff {
            for i in 0..<v.rows { for j in 0..<u.rows { out[i, j] += v[i, k] * u[j, k] / sk } }
        }
        return out.tensor()
    }

    /// Rank: singular values above `tolerance` (default max(s)·max(m, n)·ε, as numpy).
    public static func matrixRank<S>(_ a: Tensor<S>, tolerance: Double? = nil) throws -> Int {
        let (_, s, _) = try Decompose.svd(try matrix(a, "matrixRank"))
        let tol = tolerance ?? (s.first ?? 0) * Double(Swift.max(a.shape[0], a.shape[1])) * Double.ulpOfOne
        return s.filter { $0 > tol }.count
    }

    /// 2-norm condition number s_max / s_min (∞ when singular).
    public static func conditionNumber<S>(_ a: Tensor<S>) throws -> Double {
        let (_, s, _) = try Decompose.svd(try matrix(a, "conditionNumber"))
        guard let hi = s.first, let lo = s.last else { return .nan }
        return lo == 0 ? .infinity : hi / lo
    }

    /// Least-squares solution of A x ≈ b with minimum norm (via the SVD, rcond as in `pinv`).
    public static func leastSquares<S>(_ a: Tensor<S>, _ b: Tensor<S>, rcond: Double = 1e-15) throws -> Tensor<S> {
        let p = try pinv(a, rcond: rcond)
        return withoutGrad { matmul(p, b) }
    }
}
