import OnsagerCore

/// A differentiable function with registered parameters (`callAsFunction`), S4TF-style.
///
/// Parameters are listed explicitly with stable names (`parameterNames`), never discovered by
/// reflection; non-trainable state (BatchNorm's running statistics) is listed in `stateNames`.
/// Nested layers prefix their children's names ("0.weight", "1.running_mean").
public protocol Layer<Scalar>: ParameterContainer {
    /// The element type of inputs, outputs and parameters.
    associatedtype Scalar: TensorScalar
    /// The layer applied to a batch `x` (rows are examples).
    func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar>
    /// Training mode (Dropout drops, BatchNorm uses batch statistics) or evaluation mode.
    var isTraining: Bool { get set }
    /// Names of non-trainable state tensors, saved in checkpoints.
    var stateNames: [String] { get }
    /// Non-trainable state, in the order of `stateNames`.
    var state: [Tensor<Scalar>] { get set }
}

extension Layer {
    public var stateNames: [String] { [] }
    public var state: [Tensor<Scalar>] {
        get { [] }
        set { check(newValue.isEmpty, "\(Self.self) has no state, got \(newValue.count) tensors") }
    }
    /// Switches to evaluation mode (Dropout off, BatchNorm running statistics).
    public mutating func evaluationMode() { isTraining = false }
    /// Switches to training mode.
    public mutating func trainingMode() { isTraining = true }
}
