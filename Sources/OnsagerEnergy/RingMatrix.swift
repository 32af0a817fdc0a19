import OnsagerCore
import OnsagerLinearAlgebra

/// The ring matrix of an RBM's Plefka expansion, per particle: A = Dv^½ W Dh Wᵀ Dv^½ with
/// D = diag κ(m). Its powers' traces are the ring ("circle") diagrams: ½ tr A is the order-2
/// term, ¼ tr A² the 4-cycles (with repeated indices), and Σₖ tr Aᵏ/(2k) = −½ ln det(I − A).
///
/// Stored in the cheaper of two equivalent forms: the Gram matrix over the smaller layer,
/// Q = Wᵀ Dv W with weights κh (when Nh ≤ Nv) or P = W Dh Wᵀ with weights κv, so that
/// tr Aᵏ = tr (Q Dh)ᵏ and det(I − A) = det(I − Q Dh) (Sylvester) without square roots of κ.
struct RingMatrix<Scalar: TensorScalar> {
    /// Q or P, shape [particles, n, n] (n the smaller layer's size).
    let gram: Tensor<Scalar>
    /// κ of the smaller layer, [particles, n].
    let kappa: Tensor<Scalar>

    init(kv: Tensor<Scalar>, kh: Tensor<Scalar>, w: Tensor<Scalar>) {
        if w.shape[1] <= w.shape[0] {
            gram = matmul(w.T, w.unsqueezed(0) * kv.unsqueezed(2))
            kappa = kh
        } else {
            gram = matmul(w, w.T.unsqueezed(0) * kh.unsqueezed(2))
            kappa = kv
        }
    }

    /// tr A² = Σ_jl Q_jl² κ_j κ_l per particle, Q the Gram matrix over the smaller layer:
    /// `squaredGramForm`, whose value (and gradient, unless recorded) computes only Q's lower
    /// part a block at a time, without a [particles, n, n] tensor.
    static func traceOfSquare(kv: Tensor<Scalar>, kh: Tensor<Scalar>, w: Tensor<Scalar>) -> Tensor<Scalar> {
        w.shape[1] <= w.shape[0] ? Tensor.squaredGramForm(w, weights: kv, kh) : Tensor.squaredGramForm(w.T, weights: kh, kv)
    }

    /// −½ ln det(I − A) per particle; NaN where the ring series diverges: A is positive
    /// semidefinite, so that is where its largest eigenvalue reaches 1, i.e. where the Cholesky
    /// factorisation of the symmetric form I − D^½ Q D^½ fails. (The determinant's sign alone
    /// cannot tell: two eigenvalues beyond 1 leave it positive.)
    func negativeHalfLogDeterminant() -> Tensor<Scalar> {
        let ones = Tensor<Scalar>(repeating: 1, shape: [kappa.shape[1]])
        return stack((0..<gram.shape[0]).map { p in
            Self.logDeterminant(diagonal: ones, gram: gram.sliced(axis: 0, p..<(p + 1)).squeezed(0), kappa: kappa.sliced(axis: 0, p..<(p + 1))) * -0.5
        })
    }

    /// ln det(diag(`diagonal`) − G diag(κ)) for one particle (`kappa` [1, n]), differentiable; NaN
    /// unless the symmetric form diag(`diagonal`) − κ^½ G κ^½ is positive definite (checked by
    /// Cholesky off the tape). The non-symmetric form is similar to it and needs no √κ on the tape.
    static func logDeterminant(diagonal: Tensor<Scalar>, gram g: Tensor<Scalar>, kappa k: Tensor<Scalar>) -> Tensor<Scalar> {
        let eye = Tensor<Scalar>.eye(diagonal.shape[0])
        let positive = withoutGrad { () -> Bool in
            let root = k.detached().clamped(min: 0, max: 1).sqrt()
            return (try? Linalg.cholesky(eye * diagonal.detached().unsqueezed(0) - g.detached() * root * root.T)) != nil
        }
        guard positive, let (_, logAbs) = try? Linalg.slogdet(eye * diagonal.unsqueezed(0) - g * k) else { return Tensor(Scalar.nan) }
        return logAbs
    }

    /// ∂(¼ tr A²)/∂κx = ½ Σ_k Σ_{j,l} Wᵢⱼ Wᵢₗ Wₖⱼ Wₖₗ κxₖ κyⱼ κyₗ for layer x (other layer y),
    /// `wx` the couplings seen from x ([Ny, Nx]): ½ (G ∘ G) κx with G = wxᵀ diag(κy) wx over x.
    /// Off the tape that is `squaredGramProduct`'s kernel, which takes the lower half of G (about
    /// 0.6 Nx² Ny multiply-adds per particle) or, for Nx over about three times Ny, the other
    /// layer's Gram matrix (2 Nx Ny²). On the tape, the composed products: G itself when x is
    /// the smaller layer (Nx² Ny), else through the other layer's Gram matrix.
    static func cycleField(kx: Tensor<Scalar>, ky: Tensor<Scalar>, wx: Tensor<Scalar>) -> Tensor<Scalar> {
        let nx = wx.shape[1], ny = wx.shape[0]
        let tracked = GradMode.isEnabled && (kx.requiresGrad || ky.requiresGrad || wx.requiresGrad)
        if !tracked || nx <= ny { return Tensor.squaredGramProduct(wx, weights: ky, kx) * 0.5 }
        let g = matmul(wx, wx.T.unsqueezed(0) * kx.unsqueezed(2))                     // [P, Ny, Ny]
        let t = matmul(wx.T, g * ky.unsqueezed(2) * ky.unsqueezed(1))                  // [P, Nx, Ny]
        return (t * wx.T.unsqueezed(0)).sum(axis: 2) * 0.5
    }
}
