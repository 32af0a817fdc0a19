/// The element type of a tensor.
public enum DType: String, Sendable {
    /// 32-bit IEEE floating point (`Float`).
    case float32
    /// 64-bit IEEE floating point (`Double`).
    case float64
}
