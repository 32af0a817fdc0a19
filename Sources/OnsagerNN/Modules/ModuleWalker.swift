import OnsagerCore

/// The one visitor behind every walk of a module tree: it keeps the dotted path and hands each
/// item, with its full name, to the closures it was given. Items without a closure are skipped.
struct ModuleWalker<Scalar: TensorScalar>: ModuleVisitor {
    private var path: [String] = []
    var onParameter: ((String, inout Tensor<Scalar>) -> Void)?
    var onBuffer: ((String, inout Tensor<Scalar>) -> Void)?
    var onMode: ((String, inout Bool) -> Void)?
    var onGenerator: ((String, RandomGenerator) -> Void)?
    /// Called on entering a child (its full name, depth and summary) and on leaving it.
    var onEnter: ((String, Int, String) -> Void)?
    var onExit: ((String, Int) -> Void)?

    init() {}

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    private func qualified(_ name: String) -> String {
        path.isEmpty ? name : path.joined(separator: ".") + "." + name
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    mutating func parameter(_ name: String, _ value: inout Tensor<Scalar>) { onParameter?(qualified(name), &value) }
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    mutating func buffer(_ name: String, _ value: inout Tensor<Scalar>) { onBuffer?(qualified(name), &value) }
    mutating func mode(_ isTraining: inout Bool) { onMode?(path.joined(separator: "."), &isTraining) }
    mutating func randomGenerator(_ name: String, _ generator: RandomGenerator) { onGenerator?(qualified(name), generator) }
    mutating func child<M: Module>(_ name: String, _ module: inout M) where M.Scalar == Scalar {
        let full = qualified(name)
        onEnter?(full, path.count + 1, module.summary)
        path.append(name)
        module.visit(&self)
        path.removeLast()
        onExit?(full, path.count + 1)
    }

    /// Walks a copy of `module`, for walks that only read: the copy shares every tensor, and the
    /// caller's module is left alone even if a closure assigns.
    mutating func read<M: Module>(_ module: M) where M.Scalar == Scalar {
        var copy = module
        walk(&copy)
    }

    /// Walks `module` itself (the root has the empty name).
    mutating func walk<M: Module>(_ module: inout M) where M.Scalar == Scalar {
        onEnter?("", 0, module.summary)
        module.visit(&self)
        onExit?("", 0)
    }
}
