import OnsagerCore

/// What a module's `visit(_:)` declares its contents to. Modules call these; the framework's
/// walks implement them.
public protocol ModuleVisitor<Scalar> {
    /// The element type of the parameters.
    associatedtype Scalar: TensorScalar
    /// A trainable tensor (saved in checkpoints; updated by optimizers unless frozen).
    mutating func parameter(_ name: String, _ value: inout Tensor<Scalar>)
    /// A non-trainable tensor saved in checkpoints (BatchNorm's running statistics).
    mutating func buffer(_ name: String, _ value: inout Tensor<Scalar>)
    /// The module's training-mode flag (Dropout drops, BatchNorm uses batch statistics).
    mutating func mode(_ isTraining: inout Bool)
    /// A random generator the module draws from (Dropout's masks); its stream position is part
    /// of a training checkpoint, so that a resumed run draws the same masks.
    mutating func randomGenerator(_ name: String, _ generator: RandomGenerator)
    /// A child module; its contents get names prefixed with "`name`.".
    mutating func child<M: Module>(_ name: String, _ module: inout M) where M.Scalar == Scalar
}

extension ModuleVisitor {
    /// An optional parameter (a bias that may be absent): visited when present.
    public mutating func parameter(_ name: String, _ value: inout Tensor<Scalar>?) {
        guard var t = value else { return }
        parameter(name, &t)
        value = t
    }

    /// An optional child: visited when present.
    public mutating func child<M: Module>(_ name: String, _ module: inout M?) where M.Scalar == Scalar {
        guard var m = module else { return }
        module = nil        // hold the child once, so in-place updates do not copy
        child(name, &m)
        module = m
    }

    /// An array of children, named "`name`.0", "`name`.1", …
    public mutating func children<M: Module>(_ name: String, _ modules: inout [M]) where M.Scalar == Scalar {
        var group = ModuleList(modules)
        modules = []
        child(name, &group)
        modules = group.modules
    }

    /// An array of children of different types (`[any Layer<Float>]`), named "`name`.0", …
    public mutating func children(_ name: String, _ modules: inout [any Layer<Scalar>]) {
        var group = LayerList(modules)
        modules = []
        child(name, &group)
        modules = group.layers
    }
}

/// An array of modules as one module whose children are named by position.
struct ModuleList<M: Module>: Module {
    typealias Scalar = M.Scalar
    var modules: [M]
    init(_ modules: [M]) { self.modules = modules }
    var summary: String { "ModuleList" }
    mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == M.Scalar {
        for i in modules.indices { v.child(String(i), &modules[i]) }
    }
}

/// An array of layers of mixed types as one module whose children are named by position.
struct LayerList<Scalar: TensorScalar>: Module {
    var layers: [any Layer<Scalar>]
    init(_ layers: [any Layer<Scalar>]) { self.layers = layers }
    var summary: String { "ModuleList" }
    mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {
        for i in layers.indices { layers[i].accept(as: String(i), by: &v) }
    }
}
