import OnsagerCore

/// One of the two layers of an RBM. The stationarity equations are written once and applied to
/// either layer by swapping the roles of the two.
public enum RBMLayer: Sendable {
    /// The visible layer (magnetizations mv).
    case visible
    /// The hidden layer (magnetizations mh).
    case hidden
}

/// An approximation of the Gibbs free energy of an RBM as a function of the magnetizations,
///
///     −G(mv, mh) = S(mv) + S(mh) + Φ(mv, mh),
///
/// S the binary entropy. A type supplies Φ (the *interaction*) as a graph of tape ops; the
/// stationarity equations m = σ(∂Φ/∂m), the fixed-point solver (`TAPSolver`), the residual,
/// ln Z ≈ −G(m*) and EMF training then follow without deriving anything by hand: the fields
/// come from the tape. Plefka's series (`PlefkaOrder`, orders 1–4) and the ring resummation
/// (`RingResummation`) are the built-in ones; a new expansion is one struct:
///
/// ```swift
/// // Order 3 plus the single-edge part of order 4, without its 4-cycles:
/// struct EdgeOnlyOrder4: GibbsFreeEnergyApproximation {
///     func interaction<S>(_ rbm: RBM<S>, _ m: Magnetizations<S>, couplings w: CouplingPowers<S>) -> Tensor<S> {
///         let kv = m.visible * (1 - m.visible), kh = m.hidden * (1 - m.hidden)
///         let edge = matmul(kv, w.power(4)) * kh * (1 - kh * 6) - matmul(kv * kv, w.power(4)) * kh * (6 - kh * 30)
///         return PlefkaOrder.tap3.interaction(rbm, m, couplings: w) + edge.sum(axis: 1) / 24
///     }
///     var description: String { "TAP3+edge" }
/// }
/// let solver = TAPSolver(EdgeOnlyOrder4(), iterations: 200, tolerance: 1e-12)
/// ```
public protocol GibbsFreeEnergyApproximation: Sendable, CustomStringConvertible {
    /// Φ(mv, mh) = −G − S(mv) − S(mh), one value per row of the magnetizations, built from tape
    /// ops (so its gradients in m, W, a and b, and their gradients, come from the tape).
    /// `couplings` holds βW and its elementwise powers, computed once per solve.
    func interaction<S: TensorScalar>(_ model: RBM<S>, _ m: Magnetizations<S>, couplings: CouplingPowers<S>) -> Tensor<S>

    /// The stationarity field ∂Φ/∂m of one layer written out by hand, or nil (the default) to
    /// have the tape derive it from `interaction`. Worth writing only where it is faster; a
    /// test should compare it with the tape's (`tapeField`).
    func handWrittenField<S: TensorScalar>(of layer: RBMLayer, _ model: RBM<S>, _ m: Magnetizations<S>,
                                           couplings: CouplingPowers<S>) -> Tensor<S>?
}

extension GibbsFreeEnergyApproximation {
    /// No hand-written fields: the tape derives them.
    public func handWrittenField<S: TensorScalar>(of layer: RBMLayer, _ model: RBM<S>, _ m: Magnetizations<S>,
                                                  couplings: CouplingPowers<S>) -> Tensor<S>? { nil }

    /// The stationarity field ∂Φ/∂m of one layer at `m`, derived by the tape. Differentiable
    /// (built with `createGraph`) when grad mode is on, so a solve recorded on the tape can be
    /// backpropagated through (the unrolled EMF gradient).
    public func tapeField<S: TensorScalar>(of layer: RBMLayer, _ model: RBM<S>, _ m: Magnetizations<S>,
                                           couplings: CouplingPowers<S>) -> Tensor<S> {
        let differentiable = GradMode.isEnabled
        let own = layer == .visible ? m.visible : m.hidden
        return withGradEnabled(true) {
            // A fresh node for the layer differentiated, so the result is the partial derivative
            // at fixed other layer even when the other layer was computed from this one (the
            // hidden half-sweep uses the new mv, a function of the old mh).
            let x = differentiable && own.requiresGrad ? own + 0 : own.detached().requiringGrad()
            let point = layer == .visible ? Magnetizations(visible: x, hidden: m.hidden) : Magnetizations(visible: m.visible, hidden: x)
            // Without a differentiable result the couplings must be off the tape: this backward
            // pass frees what it walks, and cached powers of W would be walked again next sweep.
            let phi = interaction(model, point, couplings: differentiable ? couplings : couplings.detached()).sum()
            guard phi.requiresGrad else { return Tensor.zeros(own.shape) }
            return gradients(of: phi, wrt: [x], createGraph: differentiable)[0]
        }
    }

    /// The field the solver uses: the hand-written one unless `fromTape`, else the tape's.
    func field<S: TensorScalar>(of layer: RBMLayer, _ model: RBM<S>, _ m: Magnetizations<S>,
                                couplings: CouplingPowers<S>, fromTape: Bool) -> Tensor<S> {
        if !fromTape, let f = handWrittenField(of: layer, model, m, couplings: couplings) { return f }
        return tapeField(of: layer, model, m, couplings: couplings)
    }
}

/// βW and its elementwise powers W∘W, W∘W∘W, …, each computed once, when first asked for (a
/// solve asks for them every sweep). On the tape when W is.
public final class CouplingPowers<Scalar: TensorScalar> {
    /// βW.
    public let w: Tensor<Scalar>
    private var powers: [Int: Tensor<Scalar>] = [:]

    /// The powers of `w` (βW of some RBM).
    public init(_ w: Tensor<Scalar>) { self.w = w }

    /// The powers of the model's βW.
    public convenience init(_ model: RBM<Scalar>) { self.init(model.w) }

    /// The same powers cut from the tape (itself when they are not on it).
    public func detached() -> CouplingPowers {
        guard w.requiresGrad else { return self }
        let copy = CouplingPowers(w.detached())
        copy.powers = powers.mapValues { $0.detached() }
        return copy
    }

    /// W raised elementwise to the power n ≥ 1.
    public func power(_ n: Int) -> Tensor<Scalar> {
        check(n >= 1, "CouplingPowers.power: exponent must be at least 1, got \(n)")
        if n == 1 { return w }
        if let p = powers[n] { return p }
        let p = n == 2 ? w * w : n % 2 == 0 ? power(n / 2) * power(n / 2) : power(n - 1) * w
        powers[n] = p
        return p
    }
}
