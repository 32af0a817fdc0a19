import OnsagerCore

/// A model, or a part of one: parameters, buffers, a training-mode flag and child modules, each
/// declared by name in `visit(_:)`, one line per item.
///
/// Everything the framework does with a module tree (named parameters and buffers, recursive
/// train/eval mode, freezing, optimizer updates, checkpoints, the printed tree) is one walk of
/// `visit`, so declaring a child once makes it seen everywhere, under the dotted name
/// "child.grandchild.weight" that PyTorch's `state_dict` would give it:
///
/// ```swift
/// struct MLP: Layer {
///     typealias Scalar = Float      // the element type, named once
///     var hidden = Dense<Float>(inputSize: 784, outputSize: 128)
///     var dropout = Dropout<Float>(probability: 0.2)
///     var output = Dense<Float>(inputSize: 128, outputSize: 10)
///     mutating func visit<V: ModuleVisitor<Float>>(_ v: inout V) {
///         v.child("hidden", &hidden); v.child("dropout", &dropout); v.child("output", &output)
///     }
///     func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { output(dropout(hidden(x).relu())) }
/// }
/// ```
///
/// The walk is explicit rather than reflective (no `Mirror`): optional children, arrays of
/// children and children held as existentials are visited exactly as declared, and a parameter
/// shared by two modules (the same tensor) is one parameter, found under its first name. A child
/// left out of `visit` is caught the other way round: `undeclaredTrainableTensors` compares what
/// the module holds (by `Mirror`) with what it declares, and `TrainingLoop` stops on a mismatch.
public protocol Module<Scalar>: CustomStringConvertible {
    /// The element type of the parameters.
    associatedtype Scalar: TensorScalar
    /// Declares this module's parameters, buffers, mode flag and children to `visitor`, by name.
    mutating func visit<V: ModuleVisitor>(_ visitor: inout V) where V.Scalar == Scalar
    /// This module's own configuration in one line, for the printed tree ("Dense(784 → 128)");
    /// by default the type's name.
    var summary: String { get }
}

extension Module {
    /// The type's name without generic arguments.
    public var summary: String { String(String(describing: Self.self).prefix { $0 != "<" }) }

    /// Visits `self` as the child `name` of `visitor`'s current module. Called on an existential
    /// (`any Layer<Float>`), this opens it, so arrays of mixed layers can be visited.
    public mutating func accept<V: ModuleVisitor>(as name: String, by visitor: inout V) where V.Scalar == Scalar {
        visitor.child(name, &self)
    }
}

/// A module that maps a batch to a batch: what `Sequential`, `Residual` and `TrainingLoop`'s
/// losses call.
public protocol Layer<Scalar>: Module {
    /// The layer applied to a batch `x` (rows are examples).
    func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar>
}
