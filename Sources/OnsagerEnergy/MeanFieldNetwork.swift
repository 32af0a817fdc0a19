import OnsagerCore
import OnsagerNN

/// One damped sweep of the mean-field (order 1) or TAP (orders 2–4) stationarity equations of
/// an RBM, as a module: mv ← (1 − d)·σ(f_v(mv, mh)) + d·mv, then mh ← (1 − d)·σ(f_h(mv, mh)) + d·mh,
/// exactly `TAPSolver`'s sweep. Its parameters are an RBM's W, a and b.
public struct MeanFieldSweep<Scalar: TensorScalar>: Module {
    /// The RBM whose equations this sweep iterates (its W, a and b are the parameters).
    public var rbm: RBM<Scalar>
    /// Expansion order of the equations.
    public let order: PlefkaOrder
    /// Fraction of the old magnetization kept.
    public let damping: Double
    /// Whether the visible magnetizations are held at their start (clamped to an input) while
    /// only the hidden ones are iterated: the hidden layer then converges to the mean-field
    /// fixed point given the input, the supervised reading of the free energy.
    public let clampsVisible: Bool

    /// A sweep of `rbm`'s equations of the given order.
    public init(rbm: RBM<Scalar>, order: PlefkaOrder, damping: Double, clampsVisible: Bool = false) {
        check((0..<1).contains(damping), "MeanFieldSweep: damping must lie in [0, 1), got \(damping)")
        self.rbm = rbm
        self.order = order
        self.damping = damping
        self.clampsVisible = clampsVisible
    }

    /// The magnetizations after one sweep.
    public func callAsFunction(_ m: Magnetizations<Scalar>) -> Magnetizations<Scalar> {
        let solver = TAPSolver(order: order, iterations: 1, damping: damping), cp = CouplingPowers(rbm)
        let nv = clampsVisible ? m.visible : solver.sweepUpdate(.visible, rbm, m, couplings: cp)
        return Magnetizations(visible: nv, hidden: solver.sweepUpdate(.hidden, rbm, Magnetizations(visible: nv, hidden: m.hidden), couplings: cp))
    }

    /// The RBM's parameters: "weights", "visible_bias", "hidden_bias".
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar { rbm.visit(&v) }
    /// "MeanFieldSweep(TAP2, damping 0.5)".
    public var summary: String { "MeanFieldSweep(\(order), damping \(damping)\(clampsVisible ? ", visible clamped" : ""))" }
}

/// T damped mean-field (or TAP) sweeps as a T-layer network: the "tied-weight MLP" view of the
/// EMF forward pass. Tied, every layer holds the same W, a and b (one parameter set, found once
/// by the module system, so an optimizer sees three tensors); `untied()` gives each layer its
/// own copy, initialised from the tied values, to ask whether relaxing the tie helps.
public struct MeanFieldNetwork<Scalar: TensorScalar>: Module {
    /// The sweeps, applied in order ("sweeps.0", …).
    public var sweeps: [MeanFieldSweep<Scalar>]

    /// `depth` sweeps of `rbm`'s equations, all sharing its parameters.
    public init(tiedTo rbm: RBM<Scalar>, depth: Int, order: PlefkaOrder, damping: Double = 0.5, clampsVisible: Bool = false) {
        check(depth >= 1, "MeanFieldNetwork: depth must be at least 1, got \(depth)")
        sweeps = Array(repeating: MeanFieldSweep(rbm: rbm, order: order, damping: damping, clampsVisible: clampsVisible), count: depth)
    }

    /// Layers given explicitly (tied or not).
    public init(sweeps: [MeanFieldSweep<Scalar>]) {
        check(!sweeps.isEmpty, "MeanFieldNetwork: needs at least one sweep")
        self.sweeps = sweeps
    }

    /// The same network with every layer holding its own copy of the parameters (fresh leaves
    /// with the current values).
    public func untied() -> MeanFieldNetwork {
        MeanFieldNetwork(sweeps: sweeps.map { s in
            let r = s.rbm
            func copy(_ t: Tensor<Scalar>) -> Tensor<Scalar> { Tensor(shape: t.shape, scalars: t.scalars).requiringGrad() }
            return MeanFieldSweep(rbm: RBM(weights: copy(r.weights), visibleBias: copy(r.visibleBias), hiddenBias: copy(r.hiddenBias), beta: r.beta),
                                  order: s.order, damping: s.damping, clampsVisible: s.clampsVisible)
        })
    }

    /// Whether all layers share one parameter set (the first layer's).
    public var isTied: Bool {
        let first = sweeps[0].rbm
        return sweeps.allSatisfy { $0.rbm.weights.identity == first.weights.identity && $0.rbm.visibleBias.identity == first.visibleBias.identity
            && $0.rbm.hiddenBias.identity == first.hiddenBias.identity }
    }
    /// Number of sweeps.
    public var depth: Int { sweeps.count }

    /// The magnetizations after every sweep, from `start`.
    public func callAsFunction(_ start: Magnetizations<Scalar>) -> Magnetizations<Scalar> {
        sweeps.reduce(start) { m, sweep in sweep(m) }
    }

    /// The sweeps as children "sweeps.0", "sweeps.1", …
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar { v.children("sweeps", &sweeps) }
    /// "MeanFieldNetwork(depth, tied)".
    public var summary: String { "MeanFieldNetwork(\(depth) sweeps, \(isTied ? "tied" : "untied"))" }
}
