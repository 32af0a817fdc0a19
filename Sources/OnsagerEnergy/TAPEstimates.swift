import OnsagerCore

/// Estimates of ln Z and log p(v) from the TAP free energy at a fixed point of the solver.
extension RBM {
    /// TAP estimate of ln Z per particle: −G(m*) after solving from `start` (no gradient). The
    /// per-particle form of `logPartition(.meanField(solver, start:))`, which returns the
    /// estimate with its residual and cost.
    public func tapLogPartition(from start: Magnetizations<Scalar>, solver: TAPSolver) -> Tensor<Scalar> {
        withoutGrad {
            let (m, _) = solver.solve(self, from: start)
            return negativeGibbsFreeEnergy(m, approximation: solver.approximation)
        }
    }

    /// The TAP log-likelihood monitor: log p(v) ≈ −F(v) + G(m*(v)) with data-initialised m*(v),
    /// divided by Nv + Nh when `perUnit` (the reference code's convention).
    public func tapLogLikelihood(_ v: Tensor<Scalar>, solver: TAPSolver, perUnit: Bool = false) -> Tensor<Scalar> {
        withoutGrad {
            let lz = tapLogPartition(from: TAPSolver.start(from: v, model: self), solver: solver)
            let ll = -freeEnergy(v) - lz
            return perUnit ? ll / Scalar(visibleCount + hiddenCount) : ll
        }
    }
}
