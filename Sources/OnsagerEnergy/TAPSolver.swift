import OnsagerCore

/// Damped, layer-by-layer fixed-point iteration of the TAP stationarity equations:
///
///     mv ← (1 − d)·σ(f_v(mv, mh)) + d·mv,   then   mh ← (1 − d)·σ(f_h(mv, mh)) + d·mh
///
/// with damping d (the reference code's ½), batched over any number of starting points.
///
/// The equations are those of any `GibbsFreeEnergyApproximation`: m = σ(∂Φ/∂m), with the field
/// ∂Φ/∂m hand-written where the approximation has one (Plefka orders 1–4) and derived by the
/// tape otherwise (or always, with `fieldsFromTape`).
public struct TAPSolver: Sendable {
    /// The free energy whose stationarity equations are solved (and which −G evaluates).
    public var approximation: any GibbsFreeEnergyApproximation
    /// Derive the fields by the tape even where the approximation has hand-written ones.
    public var fieldsFromTape: Bool
    /// Maximum number of sweeps (one sweep updates mv then mh).
    public var iterations: Int
    /// Fraction of the old magnetization kept at each update (0 = undamped).
    public var damping: Double
    /// Stop early when the largest change of a magnetization in a sweep falls below this (0: never).
    public var tolerance: Double

    /// A solver of a Plefka order; damping must lie in [0, 1).
    public init(order: PlefkaOrder, iterations: Int = 3, damping: Double = 0.5, tolerance: Double = 0, fieldsFromTape: Bool = false) {
        self.init(order, iterations: iterations, damping: damping, tolerance: tolerance, fieldsFromTape: fieldsFromTape)
    }

    /// A solver of any approximation's equations (`.tap4`, `.ring`, your own); damping must lie in [0, 1).
    public init(_ approximation: any GibbsFreeEnergyApproximation, iterations: Int = 3, damping: Double = 0.5,
                tolerance: Double = 0, fieldsFromTape: Bool = false) {
        check(iterations >= 0, "TAPSolver: iterations must be non-negative, got \(iterations)")
        check((0..<1).contains(damping), "TAPSolver: damping must lie in [0, 1), got \(damping)")
        self.approximation = approximation
        self.fieldsFromTape = fieldsFromTape
        self.iterations = iterations
        self.damping = damping
        self.tolerance = tolerance
    }

    /// How a solve ended.
    public struct Report: Sendable, CustomStringConvertible {
        /// Sweeps done.
        public let sweeps: Int
        /// Largest change of any magnetization in the last sweep.
        public let lastChange: Double
        /// True when the last change fell below the tolerance.
        public let converged: Bool
        /// Sweeps, last change, and whether it converged.
        public var description: String { "\(sweeps) sweeps, last change \(lastChange)\(converged ? " (converged)" : "")" }
    }

    /// Iterates from `start`. Recorded on the tape when grad mode is on and the model's parameters
    /// require gradients (the unrolled, "tied-weight MLP" view); wrap in `withoutGrad` otherwise.
    public func solve<S>(_ model: RBM<S>, from start: Magnetizations<S>) -> (Magnetizations<S>, Report) {
        let cp = GradMode.isEnabled ? CouplingPowers(model) : CouplingPowers(model).detached()
        var mv = start.visible, mh = start.hidden
        var change = Double.infinity
        var sweeps = 0
        while sweeps < iterations {
            let nv = sweepUpdate(.visible, model, Magnetizations(visible: mv, hidden: mh), couplings: cp)
            let nh = sweepUpdate(.hidden, model, Magnetizations(visible: nv, hidden: mh), couplings: cp)
            sweeps += 1
            if tolerance > 0 {
                change = withoutGrad { Swift.max(Double((nv - mv).abs().max().item), Double((nh - mh).abs().max().item)) }
                if change.isNaN { mv = nv; mh = nh; break }   // outside the approximation's domain
            }
            mv = nv
            mh = nh
            if tolerance > 0 && change < tolerance { break }
        }
        if tolerance == 0 && sweeps > 0 { change = .nan }
        return (Magnetizations(visible: mv, hidden: mh), Report(sweeps: sweeps, lastChange: change, converged: change < tolerance))
    }

    /// One damped half-sweep of `layer`: (1 − d)·σ(field) + d·m.
    func sweepUpdate<S>(_ layer: RBMLayer, _ model: RBM<S>, _ m: Magnetizations<S>, couplings: CouplingPowers<S>) -> Tensor<S> {
        let d = S(damping), own = layer == .visible ? m.visible : m.hidden
        let f = approximation.field(of: layer, model, m, couplings: couplings, fromTape: fieldsFromTape)
        return f.sigmoid() * (1 - d) + own * d
    }

    /// Data-initialised magnetizations: mv = v, mh = P(h | v).
    public static func start<S>(from v: Tensor<S>, model: RBM<S>) -> Magnetizations<S> {
        withoutGrad { Magnetizations(visible: v.detached(), hidden: model.hiddenProbabilities(v)) }
    }

    /// Residual ‖∂G/∂m‖ per row (the stationarity error), from the tape.
    public func residual<S>(_ model: RBM<S>, at m: Magnetizations<S>) -> Tensor<S> {
        let mv = m.visible.detached().requiringGrad(), mh = m.hidden.detached().requiringGrad()
        let frozen = RBM<S>(weights: model.weights.detached(), visibleBias: model.visibleBias.detached(),
                            hiddenBias: model.hiddenBias.detached(), beta: model.beta)
        let g = withGradEnabled(true) { frozen.negativeGibbsFreeEnergy(Magnetizations(visible: mv, hidden: mh), approximation: approximation).sum() }
        let grads = gradients(of: g, wrt: [mv, mh])
        return withoutGrad { ((grads[0] * grads[0]).sum(axis: 1) + (grads[1] * grads[1]).sum(axis: 1)).sqrt() }
    }
}
