import OnsagerCore

/// Batch normalisation of the features on axis 1: input [n, features] or [n, features, …], the
/// statistics taken over every other axis (PyTorch's BatchNorm1d on [N, C] and [N, C, L], and
/// BatchNorm2d / 3d on images and volumes). In training mode each call normalises with the
/// batch's statistics and updates the running ones (momentum 0.1, unbiased running variance, as
/// PyTorch); evaluation mode uses the running statistics.
///
/// The running statistics live in a shared box so that the (non-mutating) call can update them,
/// also inside `Sequential`; copies of a BatchNorm value share them.
public struct BatchNorm<Scalar: TensorScalar>: Layer {
    final class Running: @unchecked Sendable {
        var mean: Tensor<Scalar>, variance: Tensor<Scalar>
        /// Training batches seen (PyTorch's `num_batches_tracked`, saved as a float).
        var batches: Tensor<Scalar> = Tensor(0)
        init(mean: Tensor<Scalar>, variance: Tensor<Scalar>) { self.mean = mean; self.variance = variance }
    }
    /// γ, the learned scale per feature ("weight" in checkpoints).
    public var scale: Tensor<Scalar>
    /// β, the learned shift per feature ("bias" in checkpoints).
    public var shift: Tensor<Scalar>
    let running: Running
    /// Weight of the newest batch in the running statistics (PyTorch's 0.1).
    public let momentum: Double
    /// Added to the variance before the square root.
    public let epsilon: Double
    /// Training mode (batch statistics) or evaluation mode (running statistics).
    public var isTraining = true
    /// Batch normalisation of `features` channels (axis 1 of the input): γ = 1, β = 0, running mean 0 and variance 1.
    public init(features: Int, momentum: Double = 0.1, epsilon: Double = 1e-5) {
        scale = Tensor<Scalar>.ones([features]).requiringGrad()
        shift = Tensor<Scalar>.zeros([features]).requiringGrad()
        running = Running(mean: .zeros([features]), variance: .ones([features]))
        self.momentum = momentum
        self.epsilon = epsilon
    }
    /// The running mean per feature.
    public var runningMean: Tensor<Scalar> { running.mean }
    /// The running (unbiased) variance per feature.
    public var runningVariance: Tensor<Scalar> { running.variance }

    /// Normalises each feature of `x` [n, features, …] (axis 1) over all other axes, then scales and shifts.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let features = scale.shape[0]
        check(x.rank >= 2 && x.shape[1] == features,
              "BatchNorm: input \(x.shape) for \(features) features; expected [n, \(features)] or [n, \(features), …]")
        // Per-feature tensors broadcast along axis 1: [features] for [n, features], else [features, 1, …].
        let perFeature = [features] + Array(repeating: 1, count: x.rank - 2)
        func along(_ t: Tensor<Scalar>) -> Tensor<Scalar> { x.rank == 2 ? t : t.reshaped(perFeature) }
        guard isTraining else {
            return (x - along(running.mean)) / along(running.variance + Scalar(epsilon)).sqrt() * along(scale) + along(shift)
        }
        let axes = [0] + Array(2..<x.rank)
        let count = axes.reduce(1) { $0 * x.shape[$1] }
        // As PyTorch: one value per channel has no variance to normalise by (and none poisons the running statistics).
        check(count > 1, "BatchNorm: expected more than 1 value per channel when training, got input \(x.shape)")
        // One kernel per direction (statistics, normalisation and γ, β together): composed, the
        // forward and backward took about twenty passes over the input.
        let (y, mean, v) = x.normalizedChannels(scale: scale, shift: shift, epsilon: epsilon)
        let m = Scalar(momentum)
        withoutGrad {
            running.mean = running.mean * (1 - m) + mean * m
            running.variance = running.variance * (1 - m) + v * Scalar(Double(count) / Double(count - 1)) * m
            running.batches = running.batches + 1
        }
        return y
    }
    /// "weight" (γ), "bias" (β), "running_mean", "running_var" and "num_batches_tracked", as PyTorch
    /// names them (the count is stored as a float; torch converts it on loading), and the mode.
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {
        v.parameter("weight", &scale)
        v.parameter("bias", &shift)
        v.buffer("running_mean", &running.mean)
        v.buffer("running_var", &running.variance)
        v.buffer("num_batches_tracked", &running.batches)
        v.mode(&isTraining)
    }
    /// "BatchNorm(features)".
    public var summary: String { "BatchNorm(\(scale.shape[0]))" }
}
