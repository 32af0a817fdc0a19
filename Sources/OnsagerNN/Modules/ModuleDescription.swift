import OnsagerCore

extension Module {
    /// The module tree as PyTorch prints it: each child on its own line, "(name): Summary", nested
    /// children indented, then the parameter counts.
    ///
    ///     Sequential(
    ///       (0): Dense(784 → 128)
    ///       (1): Activation(relu)
    ///     )
    ///     101,770 parameters (101,770 trainable)
    public var description: String {
        var stack: [Node] = []
        var root: Node?
        var walker = ModuleWalker<Scalar>()
        walker.onEnter = { name, _, summary in
            let node = Node(String(name.split(separator: ".").last ?? ""), summary)
            stack.last?.children.append(node)
            if stack.isEmpty { root = node }
            stack.append(node)
        }
        walker.onExit = { _, _ in stack.removeLast() }
        walker.read(self)
        func render(_ n: Node, _ indent: String) -> String {
            let head = (indent.isEmpty ? "" : "(\(n.name)): ") + n.summary
            guard !n.children.isEmpty else { return indent + head }
            return indent + head + "(\n" + n.children.map { render($0, indent + "  ") }.joined(separator: "\n") + "\n" + indent + ")"
        }
        let total = parameterCount, trainable = trainableParameterCount
        let undeclared = undeclaredTrainableTensors
        return render(root!, "") + "\n\(Self.grouped(total)) parameters (\(Self.grouped(trainable)) trainable)"
            + (undeclared.isEmpty ? "" : "\nwarning: trainable tensors not declared in visit(_:): \(undeclared.joined(separator: ", "))")
    }

    /// An integer with thousands separators ("101,770").
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        return String(digits.enumerated().flatMap { i, d in (i > 0 && (digits.count - i) % 3 == 0) ? [",", d] : [d] })
    }
}

/// A module in the printed tree.
private final class Node {
    let name: String, summary: String
    var children: [Node] = []
    init(_ name: String, _ summary: String) { self.name = name; self.summary = summary }
}
