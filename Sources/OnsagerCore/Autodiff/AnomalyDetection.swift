import COnsagerTape
import Foundation

/// Finds the first op that produces NaN or Inf (like `torch.autograd.detect_anomaly`).
///
/// Inside `AnomalyDetection.run`, every op on this thread checks its output; the first
/// non-finite one is reported by name, and the scope throws it when the body returns.
public enum AnomalyDetection {
    private static let key = "onsager.anomaly.first"

    /// Runs `body` with checks on and throws the first `NonFiniteError` met, if any.
    public static func run<R>(_ body: () throws -> R) throws -> R {
        let previous = onsager_set_anomaly_enabled(1)
        let dict = Thread.current.threadDictionary
        let saved = dict[key]
        dict[key] = nil
        defer {
            onsager_set_anomaly_enabled(previous)
            dict[key] = saved
        }
        let result = try body()
        if let error = dict[key] as? NonFiniteErrorBox { throw error.error }
        return result
    }

    /// True on this thread inside `run`.
    public static var isEnabled: Bool { onsager_anomaly_enabled() != 0 }

    static func inspect<S>(_ t: Tensor<S>, op: StaticString, backward: Bool = false) {
        let bad = t.withUnsafeScalars { S.kernelCountNonFinite($0.baseAddress!, $0.count) }
        guard bad > 0 else { return }
        let dict = Thread.current.threadDictionary
        if dict[key] == nil {
            let name = backward ? "backward of \(op)" : "\(op)"
            dict[key] = NonFiniteErrorBox(error: NonFiniteError(op: name, shape: t.shape, count: bad))
        }
    }

    /// Counts NaN/Inf elements of a tensor (usable outside `run`, e.g. on a loss).
    public static func nonFiniteCount<S>(_ t: Tensor<S>) -> Int {
        t.withUnsafeScalars { S.kernelCountNonFinite($0.baseAddress!, $0.count) }
    }
}

private final class NonFiniteErrorBox: NSObject {
    let error: NonFiniteError
    init(error: NonFiniteError) { self.error = error }
}
