import OnsagerCore

extension Module {
    /// Whether the tree is in training mode: true when every mode flag in it is (a tree without
    /// mode-dependent modules is always "training"). Setting it sets every flag in the tree,
    /// however deeply nested (`torch.nn.Module.train(mode)`).
    public var isTraining: Bool {
        get {
            var all = true
            var walker = ModuleWalker<Scalar>()
            walker.onMode = { _, flag in all = all && flag }
            walker.read(self)
            return all
        }
        set {
            var walker = ModuleWalker<Scalar>()
            walker.onMode = { _, flag in flag = newValue }
            walker.walk(&self)
        }
    }

    /// Switches every module in the tree to evaluation mode (Dropout off, BatchNorm running statistics).
    public mutating func evaluationMode() { isTraining = false }
    /// Switches every module in the tree to training mode.
    public mutating func trainingMode() { isTraining = true }

    /// The modules with a mode flag, by dotted path, and their flag ("" is the root).
    public var modes: [(path: String, isTraining: Bool)] {
        var found: [(path: String, isTraining: Bool)] = []
        var walker = ModuleWalker<Scalar>()
        walker.onMode = { path, flag in found.append((path, flag)) }
        walker.read(self)
        return found
    }
}
