import OnsagerCore
import OnsagerNN
/// Training by the extended mean-field (EMF) free energy (Gabrié, Tramel & Krzakala 2015):
///
///     loss = mean_data F(v) − mean_particles G(m*)        (−G(m*) ≈ ln Z at the fixed point)
///
/// i.e. −log p(v) = F(v) + ln Z with ln Z replaced by −G(m*). (Writing the loss as F + G, as one
/// reference note does, flips the negative phase; training then diverges — see TAPTests.)
/// Two gradient modes: `.envelope` detaches m* (stationary, so d ln Z/dθ = ∂(−G)/∂θ at fixed m*);
/// `.unrolled` backpropagates through the damped iterations (the tied-weight MLP view).
public struct EMFTrainer<Scalar: TensorScalar>: RBMTrainer {
    public enum GradientMode: String, Sendable { case envelope, unrolled }
    public var solver: TAPSolver
    public var mode: GradientMode
    /// Persistent magnetizations (fantasy particles); nil means data-initialised for each batch.
    public var particles: Magnetizations<Scalar>?
    /// L2 penalty ½λ‖W‖².
    public var l2: Double

    public init(solver: TAPSolver, mode: GradientMode = .envelope, l2: Double = 0) {
        self.solver = solver
        self.mode = mode
        self.l2 = l2
    }

    /// Switches to persistent magnetizations started from this batch (the reference code does so
    /// from epoch 5).
    public mutating func makePersistent(from batch: Tensor<Scalar>, model: RBM<Scalar>) {
        particles = TAPSolver.start(from: batch, model: model)
    }

    /// The EMF loss for one batch (advancing persistent particles).
    public mutating func loss(_ model: RBM<Scalar>, batch: Tensor<Scalar>) -> Tensor<Scalar> {
        let start = particles ?? TAPSolver.start(from: batch, model: model)
        let m: Magnetizations<Scalar>
        switch mode {
        case .envelope: m = withoutGrad { solver.solve(model, from: start).0 }
        case .unrolled: m = solver.solve(model, from: start).0
        }
        if particles != nil { particles = m.detached() }
        var l = model.freeEnergy(batch).mean() + model.negativeGibbsFreeEnergy(mode == .envelope ? m.detached() : m, order: solver.order).mean()
        if l2 != 0 { l = l + model.weights.squared().sum() * Scalar(0.5 * l2) }
        return l
    }
}
