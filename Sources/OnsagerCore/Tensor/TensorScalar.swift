/// A floating-point type that tensors can hold: `Float` or `Double` (the only conforming types;
/// the kernels exist for these two).
public protocol TensorScalar: BinaryFloatingPoint, Sendable, CustomStringConvertible {
    /// The element type tag.
    static var dtype: DType { get }
    /// Unit roundoff of the type, used by tests and numeric helpers.
    static var unitRoundoff: Self { get }
}

extension Float: TensorScalar {
    /// `.float32`.
    public static var dtype: DType { .float32 }
    /// 2⁻²⁴.
    public static var unitRoundoff: Float { .ulpOfOne / 2 }
}

extension Double: TensorScalar {
    /// `.float64`.
    public static var dtype: DType { .float64 }
    /// 2⁻⁵³.
    public static var unitRoundoff: Double { .ulpOfOne / 2 }
}
