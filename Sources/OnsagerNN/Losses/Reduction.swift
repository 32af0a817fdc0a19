import OnsagerCore

/// How a loss reduces its per-element values.
public enum Reduction: Sendable { case mean, sum, none }
