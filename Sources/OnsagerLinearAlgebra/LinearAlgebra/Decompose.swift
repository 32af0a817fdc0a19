import OnsagerCore

enum Decompose {
    /// Lower-triangular L with A = L Lᵀ.
    static func cholesky(_ m: DenseMatrix, op: String = "cholesky") throws -> DenseMatrix {
        guard m.rows == m.cols else { throw LinearAlgebraError.shape(op: op, reason: "expected a square matrix, got \(m.rows)×\(m.cols)") }
        let n = m.rows
        var l = DenseMatrix(rows: n, cols: n)
        for j in 0..<n {
            var d = m[j, j]
            for k in 0..<j { d -= l[j, k] * l[j, k] }
            guard d > 0, d.isFinite else { throw LinearAlgebraError.notPositiveDefinite(op: op, pivot: j) }
            let ljj = d.squareRoot()
            l[j, j] = ljj
            for i in (j + 1)..<Swift.max(n, j + 1) {
                var s = m[i, j]
                for k in 0..<j { s -= l[i, k] * l[j, k] }
                l[i, j] = s / ljj
            }
        }
        return l
    }

    /// Solves T X = B for triangular T (lower or upper), or Tᵀ X = B when `transpose`.
    static func triangularSolve(_ t: DenseMatrix, _ b: DenseMatrix, lower: Bool, transpose: Bool = false, op: String = "solveTriangular") throws -> DenseMatrix {
        let n = t.rows
        var x = b
        let effectiveLower = lower != transpose
        func tv(_ i: Int, _ j: Int) -> Double { transpose ? t[j, i] : t[i, j] }
        for c in 0..<b.cols {
            let order: [Int] = effectiveLower ? Array(0..<n) : Array((0..<n).reversed())
            for i in order {
                var s = x[i, c]
                if effectiveLower { for k in 0..<i { s -= tv(i, k) * x[k, c] } } else { for k in (i + 1)..<Swift.max(n, i + 1) { s -= tv(i, k) * x[k, c] } }
                let d = tv(i, i)
                guard d != 0 else { throw LinearAlgebraError.singular(op: op, pivot: i) }
                x[i, c] = s / d
            }
        }
        return x
    }

    /// LU with partial pivoting: PA = LU packed in one matrix; returns (LU, row permutation, sign).
    static func lu(_ m: DenseMatrix, op: String = "solve") throws -> (DenseMatrix, [Int], Double) {
        guard m.rows == m.cols else { throw LinearAlgebraError.shape(op: op, reason: "expected a square matrix, got \(m.rows)×\(m.cols)") }
        let n = m.rows
        var a = m, perm = Array(0..<n), sign = 1.0
        let scale = m.a.map { Swift.abs($0) }.max() ?? 0
        for k in 0..<n {
            var p = k
            for i in (k + 1)..<Swift.max(n, k + 1) where Swift.abs(a[i, k]) > Swift.abs(a[p, k]) { p = i }
            guard Swift.abs(a[p, k]) > scale * Double(n) * Double.ulpOfOne else { throw LinearAlgebraError.singular(op: op, pivot: k) }
            if p != k {
                for j in 0..<n { let t = a[k, j]; a[k, j] = a[p, j]; a[p, j] = t }
                perm.swapAt(k, p)
                sign = -sign
            }
            for i in (k + 1)..<Swift.max(n, k + 1) {
                a[i, k] /= a[k, k]
                let f = a[i, k]
                if f != 0 { for j in (k + 1)..<n { a[i, j] -= f * a[k, j] } }
            }
        }
        return (a, perm, sign)
    }

    static func luSolve(_ lu: DenseMatrix, _ perm: [Int], _ b: DenseMatrix) -> DenseMatrix {
        let n = lu.rows
        var x = DenseMatrix(rows: n, cols: b.cols)
        for c in 0..<b.cols {
            var y = perm.map { b[$0, c] }
            for i in 0..<n { for k in 0..<i { y[i] -= lu[i, k] * y[k] } }
            for i in (0..<n).reversed() {
                for k in (i + 1)..<n { y[i] -= lu[i, k] * y[k] }
                y[i] /= lu[i, i]
            }
            for i in 0..<n { x[i, c] = y[i] }
        }
        return x
    }

    /// Householder QR: thin Q (m×k) and R (k×n), k = min(m, n), with R's diagonal ≥ 0.
    static func qr(_ m: DenseMatrix) -> (DenseMatrix, DenseMatrix) {
        let rows = m.rows, cols = m.cols, k = Swift.min(rows, cols)
        // Work column-major for contiguous column access.
        var a = m.transposed.a           // a[j * rows + i] = A[i, j]
        var vs: [[Double]] = []
        var betas: [Double] = []
        for j in 0..<k {
            var norm = 0.0
            for i in j..<rows { norm += a[j * rows + i] * a[j * rows + i] }
            norm = norm.squareRoot()
            var v = [Double](repeating: 0, count: rows - j)
            let x0 = a[j * rows + j]
            let alpha = x0 >= 0 ? -norm : norm
            for i in j..<rows { v[i - j] = a[j * rows + i] }
            v[0] -= alpha
            let vnorm2 = v.reduce(0) { $0 + $1 * $1 }
            let beta = vnorm2 == 0 ? 0 : 2 / vnorm2
            for c in j..<cols {
                var s = 0.0
                for i in j..<rows { s += v[i - j] * a[c * rows + i] }
                s *= beta
                if s != 0 { for i in j..<rows { a[c * rows + i] -= s * v[i - j] } }
            }
            vs.append(v)
            betas.append(beta)
        }
        var r = DenseMatrix(rows: k, cols: cols)
        for i in 0..<k { for j in i..<cols { r[i, j] = a[j * rows + i] } }
        // Q = H0 H1 … H(k−1) applied to the first k columns of I (column-major work array).
        var q = [Double](repeating: 0, count: k * rows)
        for j in 0..<k { q[j * rows + j] = 1 }
        for h in (0..<k).reversed() {
            let v = vs[h], beta = betas[h]
            for c in 0..<k {
                var s = 0.0
                for i in h..<rows { s += v[i - h] * q[c * rows + i] }
                s *= beta
                if s != 0 { for i in h..<rows { q[c * rows + i] -= s * v[i - h] } }
            }
        }
        var qm = DenseMatrix(rows: rows, cols: k)
        for i in 0..<rows { for j in 0..<k { qm[i, j] = q[j * rows + i] } }
        // Make R's diagonal non-negative (unique QR for full-rank A).
        for i in 0..<k where r[i, i] < 0 {
            for j in 0..<cols { r[i, j] = -r[i, j] }
            for t in 0..<rows { qm[t, i] = -qm[t, i] }
        }
        return (qm, r)
    }

    /// Symmetric eigendecomposition by cyclic Jacobi: ascending eigenvalues, eigenvectors as columns.
    static func eigh(_ m: DenseMatrix, op: String = "eigh") throws -> ([Double], DenseMatrix) {
        guard m.rows == m.cols else { throw LinearAlgebraError.shape(op: op, reason: "expected a square matrix, got \(m.rows)×\(m.cols)") }
        let n = m.rows
        var a = m, v = DenseMatrix.identity(n)
        for i in 0..<n { for j in 0..<i { let s = 0.5 * (a[i, j] + a[j, i]); a[i, j] = s; a[j, i] = s } }
        var sweeps = 0
        while true {
            var off = 0.0, total = 0.0
            for i in 0..<n { for j in 0..<n { total += a[i, j] * a[i, j]; if i != j { off += a[i, j] * a[i, j] } } }
            if off <= 1e-30 * Swift.max(total, 1e-300) || n < 2 { break }
            sweeps += 1
            if sweeps > 100 { throw LinearAlgebraError.noConvergence(op: op, sweeps: sweeps) }
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n where a[p, q] != 0 {
                    let theta = (a[q, q] - a[p, p]) / (2 * a[p, q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k, p], akq = a[k, q]
                        a[k, p] = c * akp - s * akq
                        a[k, q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p, k], aqk = a[q, k]
                        a[p, k] = c * apk - s * aqk
                        a[q, k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k, p], vkq = v[k, q]
                        v[k, p] = c * vkp - s * vkq
                        v[k, q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0, $0] < a[$1, $1] }
        var vs = DenseMatrix(rows: n, cols: n)
        for (newJ, oldJ) in order.enumerated() { for i in 0..<n { vs[i, newJ] = v[i, oldJ] } }
        return (order.map { a[$0, $0] }, vs)
    }

    /// Thin SVD A = U diag(s) Vᵀ with s descending (one-sided Jacobi, after a QR when tall).
    static func svd(_ m: DenseMatrix, op: String = "svd") throws -> (DenseMatrix, [Double], DenseMatrix) {
        if m.rows < m.cols {
            let (u, s, v) = try svd(m.transposed, op: op)
            return (v, s, u)
        }
        if m.rows > m.cols {
            let (q, r) = qr(m)
            let (ur, s, v) = try svd(r, op: op)
            return (q * ur, s, v)
        }
        let n = m.cols
        var u = m.transposed.a          // column-major: column j at u[j*n ..< (j+1)*n]
        var v = DenseMatrix.identity(n).a
        // Columns reduced to rounding noise (rank deficiency) are converged: rotating them forever
        // against each other would never meet a relative criterion.
        let negligible = m.a.reduce(0) { $0 + $1 * $1 } * 1e-30
        var sweeps = 0
        var rotated = true
        while rotated {
            rotated = false
            sweeps += 1
            if sweeps > 80 { throw LinearAlgebraError.noConvergence(op: op, sweeps: sweeps) }
            for p in 0..<Swift.max(n - 1, 0) {
                for q in (p + 1)..<n {
                    var alpha = 0.0, beta = 0.0, gamma = 0.0
                    for i in 0..<n {
                        let x = u[p * n + i], y = u[q * n + i]
                        alpha += x * x; beta += y * y; gamma += x * y
                    }
                    if gamma == 0 || Swift.abs(gamma) <= 1e-15 * (alpha * beta).squareRoot() || Swift.min(alpha, beta) <= negligible { continue }
                    rotated = true
                    let zeta = (beta - alpha) / (2 * gamma)
                    let t = (zeta >= 0 ? 1.0 : -1.0) / (Swift.abs(zeta) + (1 + zeta * zeta).squareRoot())
                    let c = 1 / (1 + t * t).squareRoot(), s = c * t
                    for i in 0..<n {
                        let x = u[p * n + i], y = u[q * n + i]
                        u[p * n + i] = c * x - s * y
                        u[q * n + i] = s * x + c * y
                        let vx = v[i * n + p], vy = v[i * n + q]
                        v[i * n + p] = c * vx - s * vy
                        v[i * n + q] = s * vx + c * vy
                    }
                }
            }
        }
        var sv = (0..<n).map { j in (0..<n).reduce(0.0) { $0 + u[j * n + $1] * u[j * n + $1] }.squareRoot() }
        let order = (0..<n).sorted { sv[$0] > sv[$1] }
        var um = DenseMatrix(rows: n, cols: n), vm = DenseMatrix(rows: n, cols: n)
        let tiny = (sv.max() ?? 0) * Double(n) * Double.ulpOfOne
        var rank = 0
        for (newJ, j) in order.enumerated() {
            for i in 0..<n { vm[i, newJ] = v[i * n + j] }
            if sv[j] > tiny && sv[j] > 0 {
                for i in 0..<n { um[i, newJ] = u[j * n + i] / sv[j] }
                rank += 1
            }
        }
        sv = order.map { sv[$0] }
        if rank < n {
            // Zero singular values sort last: their U columns complete the others to a basis.
            var head = DenseMatrix(rows: n, cols: rank)
            for i in 0..<n { for j in 0..<rank { head[i, j] = um[i, j] } }
            um = completeBasis(head)
            for j in rank..<n { sv[j] = 0 }
        }
        return (um, sv, vm)
    }

    /// Extends orthonormal columns to a square orthogonal matrix: identity columns, orthogonalised
    /// twice against everything before them (Gram–Schmidt), kept when not already in the span.
    static func completeBasis(_ q: DenseMatrix) -> DenseMatrix {
        let n = q.rows
        if q.cols == n { return q }
        var aug = DenseMatrix(rows: n, cols: n)
        for i in 0..<n { for j in 0..<q.cols { aug[i, j] = q[i, j] } }
        var col = q.cols
        for e in 0..<n where col < n {
            var x = [Double](repeating: 0, count: n)
            x[e] = 1
            for _ in 0..<2 {
                for c in 0..<col {
                    let d = (0..<n).reduce(0.0) { $0 + aug[$1, c] * x[$1] }
                    for i in 0..<n { x[i] -= d * aug[i, c] }
                }
            }
            let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 1e-6 {
                for i in 0..<n { aug[i, col] = x[i] / norm }
                col += 1
            }
        }
        return aug
    }
}
