import OnsagerCore

/// How a loss reduces its per-element values.
public enum Reduction: Sendable {
    /// The mean over all elements.
    case mean
    /// The sum over all elements.
    case sum
    /// No reduction: one value per element.
    case none
}
