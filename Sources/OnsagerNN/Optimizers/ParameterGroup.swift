/// A subset of a model's parameters, chosen by name, with its own learning rate or weight decay
/// (PyTorch's parameter groups), e.g. no weight decay on biases and normalisation scales:
///
///     optimizer.groups = [ParameterGroup("no decay", weightDecay: 0) { $0.hasSuffix("bias") }]
public struct ParameterGroup: Sendable {
    /// A name for messages.
    public var name: String
    /// Whether a parameter (by dotted name) belongs to the group.
    public var contains: @Sendable (String) -> Bool
    /// The group's learning rate as a multiple of the optimizer's (which schedules set), so a
    /// schedule keeps the ratio between groups, as PyTorch's schedulers do.
    public var learningRateFactor: Double
    /// The group's weight decay (nil: the optimizer's).
    public var weightDecay: Double?

    /// A group of the parameters whose names `contains` accepts.
    public init(_ name: String, learningRateFactor: Double = 1, weightDecay: Double? = nil,
                contains: @escaping @Sendable (String) -> Bool) {
        self.name = name
        self.contains = contains
        self.learningRateFactor = learningRateFactor
        self.weightDecay = weightDecay
    }

    /// A group of the parameters under the submodule `prefix` (or named `prefix`).
    public init(under prefix: String, learningRateFactor: Double = 1, weightDecay: Double? = nil) {
        self.init(prefix, learningRateFactor: learningRateFactor, weightDecay: weightDecay) {
            $0 == prefix || $0.hasPrefix(prefix + ".")
        }
    }
}
