import OnsagerCore

extension Module {
    /// Trainable tensors (ones that require gradients) that the module holds but its `visit(_:)`
    /// does not declare, by their path among the stored properties ("extra.weight"): a child
    /// someone forgot to declare, which would otherwise never be trained or saved.
    ///
    /// The declared contents come from `visit`; what is held is found with `Mirror`, through
    /// nested structs, optionals, arrays, dictionaries and existentials. Tensors that do not
    /// require gradients (constants, masks, frozen parameters) are not reported. `TrainingLoop`
    /// runs this check once when it is made.
    public var undeclaredTrainableTensors: [String] {
        let declared = Set(namedParameters.map { $0.value.identity } + namedBuffers.map { $0.value.identity })
        var found: [String] = []
        var seenObjects = Set<ObjectIdentifier>()
        func scan(_ value: Any, _ path: String, depth: Int) {
            if let t = value as? Tensor<Scalar> {
                if t.requiresGrad && !declared.contains(t.identity) { found.append(path) }
                return
            }
            guard depth < 32 else { return }
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .class {
                guard seenObjects.insert(ObjectIdentifier(value as AnyObject)).inserted else { return }
            }
            for (i, child) in mirror.children.enumerated() {
                let label = mirror.displayStyle == .optional ? nil : (child.label ?? String(i))
                scan(child.value, label.map { path.isEmpty ? $0 : path + "." + $0 } ?? path, depth: depth + 1)
            }
        }
        scan(self, "", depth: 0)
        return found
    }
}
