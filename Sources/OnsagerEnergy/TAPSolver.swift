import OnsagerCore

/// Damped, layer-by-layer fixed-point iteration of the TAP stationarity equations:
///
///     mv ← (1 − d)·σ(f_v(mv, mh)) + d·mv,   then   mh ← (1 − d)·σ(f_h(mv, mh)) + d·mh
///
/// with damping d (the reference code's ½), batched over any number of starting points.
public struct TAPSolver: Sendable {
    /// Expansion order of the equations (and of −G when evaluating).
    public var order: PlefkaOrder
    /// Maximum number of sweeps (one sweep updates mv then mh).
    public var iterations: Int
    /// Fraction of the old magnetization kept at each update (0 = undamped).
    public var damping: Double
    /// Stop early when the largest change of a magnetization in a sweep falls below this (0: never).
    public var tolerance: Double

    /// A solver of the given order; damping must lie in [0, 1).
    public init(order: PlefkaOrder, iterations: Int = 3, damping: Double = 0.5, tolerance: Double = 0) {
        check(iterations >= 0, "TAPSolver: iterations must be non-negative, got \(iterations)")
        check((0..<1).contains(damping), "TAPSolver: damping must lie in [0, 1), got \(damping)")
        self.order = order
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
        let pw = PlefkaWeights(model.w, order: order)
        var mv = start.visible, mh = start.hidden
        let d = S(damping)
        var change = Double.infinity
        var sweeps = 0
        while sweeps < iterations {
            let nv = model.stationarityField(of: .visible, own: mv, other: mh, order: order, weights: pw).sigmoid() * (1 - d) + mv * d
            let nh = model.stationarityField(of: .hidden, own: mh, other: nv, order: order, weights: pw).sigmoid() * (1 - d) + mh * d
            sweeps += 1
            if tolerance > 0 {
                change = withoutGrad { Swift.max(Double((nv - mv).abs().max().item), Double((nh - mh).abs().max().item)) }
            }
            mv = nv
            mh = nh
            if tolerance > 0 && change < tolerance { break }
        }
        if tolerance == 0 && sweeps > 0 { change = .nan }
        return (Magnetizations(visible: mv, hidden: mh), Report(sweeps: sweeps, lastChange: change, converged: change < tolerance))
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
        let g = withGradEnabled(true) { frozen.negativeGibbsFreeEnergy(Magnetizations(visible: mv, hidden: mh), order: order).sum() }
        let grads = gradients(of: g, wrt: [mv, mh])
        return withoutGrad { ((grads[0] * grads[0]).sum(axis: 1) + (grads[1] * grads[1]).sum(axis: 1)).sqrt() }
    }
}
