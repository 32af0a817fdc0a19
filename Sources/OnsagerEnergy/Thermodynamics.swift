import OnsagerCore
import Foundation

/// The thermodynamics of a model at one inverse temperature β, all from ln Z(β) and its
/// derivatives ("the partition function is a generating function"):
///
///     F = −ln Z/β,   U = ⟨E⟩ = −∂ln Z/∂β,   C = β² ∂²ln Z/∂β² = β² Var(E),   S = β(U − F) = βU + ln Z,
///
/// for the model with energy βE(v, h) = −β(a·v + b·h + vᵀWh). Entropy and heat capacity are in
/// nats (k_B = 1).
public struct Thermodynamics: Sendable, CustomStringConvertible {
    /// Inverse temperature β.
    public let beta: Double
    /// ln Z(β).
    public let logZ: Double
    /// Free energy F = −ln Z/β.
    public var freeEnergy: Double { -logZ / beta }
    /// Mean energy U = −∂ln Z/∂β.
    public let meanEnergy: Double
    /// Heat capacity C = β² ∂²ln Z/∂β² (nil when the method gives no second derivative).
    public let heatCapacity: Double?
    /// Entropy S = βU + ln Z.
    public var entropy: Double { beta * meanEnergy + logZ }

    /// The quantities at β from ln Z and its first two derivatives in β.
    public init(beta: Double, logZ: Double, meanEnergy: Double, heatCapacity: Double?) {
        self.beta = beta
        self.logZ = logZ
        self.meanEnergy = meanEnergy
        self.heatCapacity = heatCapacity
    }

    /// "β 1.000: ln Z …, F …, U …, S …, C …".
    public var description: String {
        String(format: "β %.3f: ln Z %.4f, F %.4f, U %.4f, S %.4f, C %@", beta, logZ, freeEnergy, meanEnergy, entropy,
               heatCapacity.map { String(format: "%.4f", $0) } ?? "—")
    }
}

extension RBM {
    /// ln Z of this model at inverse temperature `beta` (replacing its `beta`), by enumerating the
    /// smaller layer — differentiable in `beta` (a one-element tensor) and in W, a and b, to any
    /// order, so derivatives of ln Z are observables (`exactThermodynamics`).
    public func exactLogPartition(beta: Tensor<Scalar>) -> Tensor<Scalar> {
        let n = Swift.min(visibleCount, hiddenCount)
        check(n <= 20, "exactLogPartition(beta:): the smaller layer has \(n) units; the differentiable enumeration keeps 2^\(n) states on the tape (at most 2^20)")
        check(beta.scalarCount == 1, "exactLogPartition(beta:): beta must have one element, got shape \(beta.shape)")
        let states = Tensor<Scalar>.binaryStates(n)
        let b = beta.reshaped([])
        let terms = hiddenCount <= visibleCount
            ? RBM.clampedFreeEnergy(linear: matmul(states, hiddenBias) * b, field: (matmul(states, weights.T) + visibleBias) * b)
            : RBM.clampedFreeEnergy(linear: matmul(states, visibleBias) * b, field: (matmul(states, weights) + hiddenBias) * b)
        return (-terms).logSumExp(axis: 0)
    }

    /// F, U, S and C at `beta`, exactly: ln Z(β) by enumeration and its first and second
    /// derivatives in β by the tape (gradient of a gradient), in Double.
    public func exactThermodynamics(at beta: Double) -> Thermodynamics {
        let model = converted(to: Double.self)
        let b = Tensor<Double>(beta).requiringGrad()
        return withGradEnabled(true) {
            let lz = model.exactLogPartition(beta: b)
            let d1 = gradients(of: lz, wrt: [b], createGraph: true)[0]
            let d2 = d1.requiresGrad ? gradients(of: d1, wrt: [b])[0].item : 0
            return Thermodynamics(beta: beta, logZ: lz.item, meanEnergy: -d1.item, heatCapacity: beta * beta * d2)
        }
    }

    /// F, U, S and C at `beta` from a Plefka/TAP free energy: ln Z(β) ≈ −G(m*(β); β) with m*
    /// solved from m = ½ by `solver`. U is the envelope derivative −∂(−G)/∂β at fixed m* (exact for
    /// a stationary m*); C comes from central differences of U at β ± `step` (m* re-solved), so
    /// it carries the solver's tolerance divided by the step.
    public func meanFieldThermodynamics(at beta: Double, solver: TAPSolver, step: Double = 1e-3) -> Thermodynamics {
        let model = converted(to: Double.self)
        func energyAndLogZ(_ beta: Double) -> (Double, Double) {
            let half = Magnetizations(visible: Tensor<Double>(repeating: 0.5, shape: [1, visibleCount]),
                                      hidden: Tensor<Double>(repeating: 0.5, shape: [1, hiddenCount]))
            let scaled = RBM<Double>(weights: (model.weights * beta).detached(), visibleBias: (model.visibleBias * beta).detached(),
                                     hiddenBias: (model.hiddenBias * beta).detached())
            let m = withoutGrad { solver.solve(scaled, from: half).0 }.detached()
            // Envelope: d(−G)/dβ at fixed m*, through the model's parameters scaled by a tape β.
            let b = Tensor<Double>(beta).requiringGrad()
            return withGradEnabled(true) {
                let betaModel = RBM<Double>(weights: model.weights.detached() * b, visibleBias: model.visibleBias.detached() * b,
                                            hiddenBias: model.hiddenBias.detached() * b)
                let negG = betaModel.negativeGibbsFreeEnergy(m, approximation: solver.approximation).sum()
                return (-gradients(of: negG, wrt: [b])[0].item, negG.item)
            }
        }
        let (u, lz) = energyAndLogZ(beta)
        let (up, _) = energyAndLogZ(beta + step), (um, _) = energyAndLogZ(beta - step)
        // C = β² ∂²ln Z/∂β² = −β² ∂U/∂β.
        return Thermodynamics(beta: beta, logZ: lz, meanEnergy: u, heatCapacity: -beta * beta * (up - um) / (2 * step))
    }
}

extension Tensor {
    /// All 2ⁿ binary vectors of length n as rows, [2ⁿ, n]; row c holds the bits of c, lowest first.
    static func binaryStates(_ n: Int) -> Tensor {
        Tensor(shape: [1 << n, n], scalars: (0..<(1 << n)).flatMap { c in (0..<n).map { Scalar(Double((c >> $0) & 1)) } })
    }
}
