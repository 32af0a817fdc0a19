import OnsagerCore

/// Why training stopped.
public enum TrainingError: Error, CustomStringConvertible, Sendable {
    /// The loss or a gradient became NaN/Inf; `op` is the first op that produced it (found by
    /// replaying the step under anomaly detection), nil if the replay could not pin it down.
    case nonFinite(epoch: Int, step: Int, what: String, op: String?)
    /// Where training stopped and which op made the first non-finite value.
    public var description: String {
        switch self {
        case let .nonFinite(e, s, what, op):
            return "training stopped at epoch \(e), step \(s): non-finite \(what)" + (op.map { ", first produced by '\($0)'" } ?? "")
        }
    }
}
