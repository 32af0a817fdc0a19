import OnsagerCore

/// Training by the extended mean-field (EMF) free energy (Gabrié, Tramel & Krzakala 2015):
///
///     loss = mean_data F(v) − mean_particles G(m*)        (−G(m*) ≈ ln Z at the fixed point)
///
/// i.e. −log p(v) = F(v) + ln Z with ln Z replaced by −G(m*). (Writing the loss as F + G, as one
/// reference note does, flips the negative phase; training then diverges — see TAPTests.)
/// Two gradient modes: `.envelope` detaches m* (stationary, so d ln Z/dθ = ∂(−G)/∂θ at fixed m*);
/// `.unrolled` backpropagates through the damped iterations (the tied-weight MLP view).
public struct EMFTrainer<Scalar: TensorScalar>: RBMTrainer {
    /// How the gradient treats the fixed point m*.
    public enum GradientMode: String, Sendable {
        /// m* is detached: stationarity makes d ln Z/dθ = ∂(−G)/∂θ at fixed m*.
        case envelope
        /// The damped sweeps are recorded and backpropagated through.
        case unrolled
    }
    /// The fixed-point solver (its order is also the order of G in the loss).
    public var solver: TAPSolver
    /// The gradient mode.
    public var mode: GradientMode
    /// Persistent magnetizations (fantasy particles); nil means data-initialised for each batch.
    public var particles: Magnetizations<Scalar>?
    /// L2 penalty ½λ‖W‖².
    public var l2: Double
    /// Switch to persistent magnetizations (started from the batch at hand) after this many
    /// updates; nil: only when `makePersistent` is called.
    public var persistentAfter: Int?
    /// Number of losses computed so far (one per update).
    public private(set) var updates = 0

    /// An EMF trainer with the given solver, gradient mode, L2 penalty and switch to persistence.
    public init(solver: TAPSolver, mode: GradientMode = .envelope, l2: Double = 0, persistentAfter: Int? = nil) {
        self.solver = solver
        self.mode = mode
        self.l2 = l2
        self.persistentAfter = persistentAfter
    }

    /// Switches to persistent magnetizations started from this batch (the reference code does so
    /// from epoch 5).
    public mutating func makePersistent(from batch: Tensor<Scalar>, model: RBM<Scalar>) {
        particles = TAPSolver.start(from: batch, model: model)
    }

    /// "EMF TAP2, 3 sweeps, envelope, persistent after 3000 updates" (the order, sweeps, gradient
    /// mode and switch to persistence).
    public var checkpointSignature: String {
        "EMF \(solver.approximation), \(solver.iterations) sweeps, \(mode.rawValue), " + (persistentAfter.map { "persistent after \($0) updates" } ?? "persistent when asked")
    }

    /// The update count ("updates", one element) and, once persistent, the particles
    /// ("particles.visible", "particles.hidden"). Assigning restores them.
    public var stateTensors: [String: Tensor<Scalar>] {
        get {
            var state = ["updates": Tensor<Scalar>(shape: [1], scalars: [Scalar(Double(updates))])]
            if let p = particles {
                state["particles.visible"] = p.visible
                state["particles.hidden"] = p.hidden
            }
            return state
        }
        set {
            if let u = newValue["updates"] { updates = Int(Double(u.scalars[0])) }
            if let v = newValue["particles.visible"], let h = newValue["particles.hidden"] {
                particles = Magnetizations(visible: v, hidden: h)
            } else {
                particles = nil
            }
        }
    }

    /// The EMF loss for one batch (advancing persistent particles).
    public mutating func loss(_ model: RBM<Scalar>, batch: Tensor<Scalar>) -> Tensor<Scalar> {
        updates += 1
        if let after = persistentAfter, updates == after + 1 { makePersistent(from: batch, model: model) }
        let start = particles ?? TAPSolver.start(from: batch, model: model)
        let m: Magnetizations<Scalar>
        switch mode {
        case .envelope: m = withoutGrad { solver.solve(model, from: start).0 }
        case .unrolled: m = solver.solve(model, from: start).0
        }
        if particles != nil { particles = m.detached() }
        var l = model.freeEnergy(batch).mean() + model.negativeGibbsFreeEnergy(mode == .envelope ? m.detached() : m, approximation: solver.approximation).mean()
        if l2 != 0 { l = l + model.weights.squared().sum() * Scalar(0.5 * l2) }
        return l
    }
}
