import OnsagerCore

/// Batch normalisation over the batch dimension of [n, features] input. In training mode each
/// call normalises with the batch's statistics and updates the running ones (momentum 0.1,
/// unbiased running variance, as PyTorch); evaluation mode uses the running statistics.
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
    /// Batch normalisation of `features` columns: γ = 1, β = 0, running mean 0 and variance 1.
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

    /// Normalises each column of `x` [n, features], then scales and shifts.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        check(x.rank == 2 && x.shape[1] == scale.shape[0], "BatchNorm: input \(x.shape) for \(scale.shape[0]) features")
        guard isTraining else {
            return (x - running.mean) / (running.variance + Scalar(epsilon)).sqrt() * scale + shift
        }
        let n = x.shape[0]
        let mean = x.mean(axis: 0), v = x.variance(axes: [0])
        let m = Scalar(momentum)
        withoutGrad {
            running.mean = running.mean * (1 - m) + mean.detached() * m
            running.variance = running.variance * (1 - m) + v.detached() * Scalar(Double(n) / Double(Swift.max(n - 1, 1))) * m
            running.batches = running.batches + 1
        }
        return (x - mean) / (v + Scalar(epsilon)).sqrt() * scale + shift
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
