import OnsagerCore

/// Errors of the linear-algebra routines; each names the op.
public enum LinearAlgebraError: Error, CustomStringConvertible, Equatable, Sendable {
    case notPositiveDefinite(op: String, pivot: Int)
    case singular(op: String, pivot: Int)
    case shape(op: String, reason: String)
    case noConvergence(op: String, sweeps: Int)

    public var description: String {
        switch self {
        case let .notPositiveDefinite(op, p): return "\(op): matrix is not symmetric positive definite (pivot \(p) is not positive)"
        case let .singular(op, p): return "\(op): matrix is singular (zero pivot in column \(p))"
        case let .shape(op, r): return "\(op): \(r)"
        case let .noConvergence(op, s): return "\(op): no convergence after \(s) sweeps"
        }
    }
}
