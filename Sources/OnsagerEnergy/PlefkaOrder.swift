/// Order of the Plefka expansion of the Gibbs free energy.
public enum PlefkaOrder: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// Naive mean field.
    case meanField = 1
    /// Onsager reaction term (TAP).
    case tap2 = 2
    /// Third order.
    case tap3 = 3
    /// "MF", "TAP2" or "TAP3".
    public var description: String { self == .meanField ? "MF" : "TAP\(rawValue)" }
}
