import OnsagerCore
import Foundation

/// L2-regularised logistic regression fitted by Newton's method (IRLS), with scikit-learn's
/// objective: ½‖w‖² + C Σᵢ log(1 + exp(−yᵢ(xᵢ·w + b))), intercept not penalised.
public struct LogisticRegression: Sendable {
    /// Inverse regularisation strength C (scikit-learn's name).
    public var c: Double
    /// Newton steps allowed before `fit` gives up.
    public var maxIterations: Int
    /// `fit` stops when the largest change of a coefficient falls below this.
    public var tolerance: Double
    /// Fitted weights, one per feature.
    public private(set) var weights: [Double] = []
    /// Fitted intercept.
    public private(set) var intercept = 0.0
    /// Newton steps taken by the last `fit`.
    public private(set) var iterations = 0

    /// An unfitted model with the given C, iteration cap and tolerance.
    public init(c: Double = 1, maxIterations: Int = 100, tolerance: Double = 1e-8) {
        check(c > 0, "LogisticRegression: C must be positive, got \(c)")
        self.c = c
        self.maxIterations = maxIterations
        self.tolerance = tolerance
    }

    /// Fits labels in {0, 1}. Newton steps solve (I' + C Xᵀ W X) Δ = −∇ by Cholesky, with
    /// backtracking so the objective never increases.
    public mutating func fit(x: Tensor<Double>, y: [Double]) throws {
        let n = x.shape[0], p = x.shape[1]
        let xa = concat([x, Tensor.ones([n, 1])], axis: 1)          // last column: intercept
        let t = Tensor(y)
        var theta = Tensor<Double>.zeros([p + 1])
        let penalty = Tensor<Double>((0..<(p + 1)).map { $0 < p ? 1 : 0 })
        func objective(_ th: Tensor<Double>) -> Double {
            let z = matmul(xa, th)
            // log(1 + e^{-z}) for y = 1 and log(1 + e^{z}) for y = 0: softplus(z) − y·z.
            return 0.5 * (th * th * penalty).sum().item + c * (z.softplus() - t * z).sum().item
        }
        var f = objective(theta)
        iterations = 0
        for it in 0..<maxIterations {
            iterations = it + 1
            let z = matmul(xa, theta), prob = z.sigmoid()
            let grad = theta * penalty + matmul(xa.T, prob - t) * c
            let w = prob * (1 - prob)
            let hess = matmul(xa.T * w.unsqueezed(0), xa) * c + Tensor.eye(p + 1) * penalty.unsqueezed(0) + Tensor.eye(p + 1) * 1e-10
            let step = try Linalg.solve(hess, -grad)
            var alpha = 1.0, next = theta + step, fn = objective(next)
            while fn > f && alpha > 1e-10 { alpha /= 2; next = theta + step * alpha; fn = objective(next) }
            let decrease = f - fn
            theta = next; f = fn
            if decrease <= tolerance * Swift.max(1, Swift.abs(f)) { break }
        }
        let th = theta.scalars
        weights = Array(th[0..<p])
        intercept = th[p]
    }

    /// P(y = 1 | x) for rows of X.
    public func probabilities(_ x: Tensor<Double>) -> [Double] {
        (matmul(x, Tensor(weights)) + intercept).sigmoid().scalars
    }
}
