import OnsagerCore

extension Module {
    /// Freezes the parameter named `name`, or every parameter under the submodule `name` (all of
    /// them when nil): they stop requiring gradients, so backward passes skip them and optimizers
    /// leave them alone (`requires_grad_(False)`). A shared parameter is frozen wherever it is held.
    /// Stops with the list of names when nothing matches.
    public mutating func freeze(_ name: String? = nil) { setFrozen(true, under: name) }

    /// Makes the parameter `name`, or every parameter under the submodule `name` (all when nil),
    /// trainable again: it becomes a leaf that requires gradients.
    public mutating func unfreeze(_ name: String? = nil) { setFrozen(false, under: name) }

    /// The names of frozen parameters (those that do not require gradients).
    public var frozenParameterNames: [String] { namedParameters.filter { !$0.value.requiresGrad }.map(\.name) }

    private mutating func setFrozen(_ frozen: Bool, under prefix: String?) {
        let slots = parameterSlots
        let chosen = Set(slots.filter { s in prefix.map { s.name == $0 || s.name.hasPrefix($0 + ".") } ?? true }.map(\.identity))
        check(prefix == nil || !chosen.isEmpty,
              "\(frozen ? "freeze" : "unfreeze"): no parameter is named '\(prefix ?? "")' or lies under it; the parameters are \(slots.map(\.name))")
        mapParameters { _, t in
            guard chosen.contains(t.identity) else { return t }
            if frozen { return t.detached() }
            return t.requiresGrad ? t : t.requiringGrad()
        }
    }
}
