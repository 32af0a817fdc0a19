/// The first non-finite value met while anomaly detection was on.
public struct NonFiniteError: Error, CustomStringConvertible, Sendable {
    /// The op whose output (or, for "backward of X", whose gradient) held NaN or Inf.
    public let op: String
    /// Shape of that tensor.
    public let shape: [Int]
    /// How many elements were not finite.
    public let count: Int
    /// The op, the shape and how many elements were not finite.
    public var description: String {
        "non-finite values: \(count) NaN/Inf element(s) in the \(Shape.describe(shape)) output of '\(op)'"
    }
}
