import OnsagerCore

/// Errors of the linear-algebra routines; each names the op.
public enum LinearAlgebraError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Cholesky met a pivot that is not positive.
    case notPositiveDefinite(op: String, pivot: Int)
    /// A solve met a zero pivot.
    case singular(op: String, pivot: Int)
    /// The operands' shapes do not fit the op.
    case shape(op: String, reason: String)
    /// An iterative factorisation (Jacobi sweeps) did not converge.
    case noConvergence(op: String, sweeps: Int)

    /// The message, naming the op.
    public var description: String {
        switch self {
        case let .notPositiveDefinite(op, p): return "\(op): matrix is not symmetric positive definite (pivot \(p) is not positive)"
        case let .singular(op, p): return "\(op): matrix is singular (zero pivot in column \(p))"
        case let .shape(op, r): return "\(op): \(r)"
        case let .noConvergence(op, s): return "\(op): no convergence after \(s) sweeps"
        }
    }
}
