import OnsagerCore

/// The rings of an RBM's interaction graph without backtracking, summed to all orders:
///
///     Φ_nb = −½ ln det(I − B) = Σ_L tr Bᴸ/(2L)
///
/// with B the non-backtracking (Hashimoto) matrix on the 2·Nv·Nh directed edges, each weighted
/// u_ij = Wᵢⱼ √(κvᵢ κhⱼ). A closed non-backtracking walk of length 4 is a 4-cycle, so the W⁴
/// term is exactly Plefka's cycle term, each cycle counted once; every longer simple cycle also
/// enters once, with the weight Π W κ the loop series gives it at leading order. There is no W²
/// term (a walk i → j → i backtracks).
///
/// Computed without the 2NvNh-square matrix by the weighted Ihara–Bass formula
/// (Watanabe & Fukumizu 2009): det(I − B) = det(I + D̂ − Â) Πᵢⱼ (1 − rᵢⱼ), where rᵢⱼ = uᵢⱼ²,
/// Â is the graph's matrix of uᵢⱼ/(1 − rᵢⱼ) and D̂ the diagonal of Σ rᵢⱼ/(1 − rᵢⱼ). The Schur
/// complement onto the smaller layer leaves one n × n determinant per particle, which needs no
/// square root of κ: det(I + D̂h − N Dh), N = W̃ᵀ diag(κv/(1 + D̂v)) W̃, W̃ = W/(1 − r).
enum NonBacktrackingRings {
    /// Φ_nb per particle; NaN outside the domain (some rᵢⱼ ≥ 1, or I + D̂ − Â not positive
    /// definite, where the series diverges).
    static func sum<Scalar: TensorScalar>(kv: Tensor<Scalar>, kh: Tensor<Scalar>, w: Tensor<Scalar>) -> Tensor<Scalar> {
        // Schur complement onto the smaller layer: the formula is symmetric in the two layers.
        let (kx, ky, wxy) = w.shape[1] <= w.shape[0] ? (kv, kh, w) : (kh, kv, w.T)      // y: the smaller layer
        let r = (wxy * wxy).unsqueezed(0) * kx.unsqueezed(2) * ky.unsqueezed(1)          // [P, Nx, Ny]
        let oneMinusR = 1 - r
        let dx = (r / oneMinusR).sum(axis: 2), dy = (r / oneMinusR).sum(axis: 1)         // D̂ of each layer, [P, N]
        let tilde = wxy.unsqueezed(0) / oneMinusR                                          // W̃, [P, Nx, Ny]
        let n = matmul(tilde.transposed(1, 2), tilde * (kx / (1 + dx)).unsqueezed(2))      // [P, Ny, Ny]
        let logs = (1 + dx).log().sum(axis: 1) + oneMinusR.log().sum(axes: [1, 2])
        let dets = (0..<kv.shape[0]).map { p -> Tensor<Scalar> in
            guard withoutGrad({ r.sliced(axis: 0, p..<(p + 1)).max().item }) < 1 else { return Tensor(Scalar.nan) }
            return RingMatrix.logDeterminant(diagonal: 1 + dy.sliced(axis: 0, p..<(p + 1)).squeezed(0), gram: n.sliced(axis: 0, p..<(p + 1)).squeezed(0),
                                             kappa: ky.sliced(axis: 0, p..<(p + 1)))
        }
        return (logs + stack(dets)) * -0.5
    }
}
