import OnsagerCore

/// An update rule: reads each parameter's `grad` and changes the parameter in place.
public protocol Optimizer {
    /// The element type of the parameters it updates.
    associatedtype Scalar: TensorScalar
    /// The step size used by the next `step`.
    var learningRate: Double { get set }
    /// Updates `parameters` from their gradients. Parameters without a gradient are left alone.
    /// State is kept per position, so pass the same parameters in the same order every time.
    mutating func step(_ parameters: inout [Tensor<Scalar>])
    /// The optimizer's state (moment buffers, step counts) by name, for checkpoints. Names carry
    /// the parameter's position ("m.0", "step.2"); assigning restores it.
    var stateTensors: [String: Tensor<Scalar>] { get set }
}
