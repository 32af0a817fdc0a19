import COnsagerKernels

/// The element type of a tensor.
public enum DType: String, Sendable {
    case float32, float64
}

/// A floating-point type that tensors can hold: `Float` or `Double`.
///
/// The requirements bridge to the C kernels of the matching precision, so generic tensor code
/// reaches a specialised, vectorised loop with one indirect call per operation, not per element.
public protocol TensorScalar: BinaryFloatingPoint, Sendable, CustomStringConvertible {
    /// The element type tag.
    static var dtype: DType { get }
    /// Unit roundoff of the type, used by tests and numeric helpers.
    static var unitRoundoff: Self { get }
    static func _unary(_ op: Int32, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int)
    static func _paramUnary(_ op: Int32, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int, _ p0: Double, _ p1: Double)
    static func _binary(_ op: Int32, _ rank: Int32, _ shape: UnsafePointer<Int>, _ a: UnsafePointer<Self>, _ sa: UnsafePointer<Int>,
                        _ b: UnsafePointer<Self>, _ sb: UnsafePointer<Int>, _ out: UnsafeMutablePointer<Self>)
    static func _where(_ rank: Int32, _ shape: UnsafePointer<Int>, _ c: UnsafePointer<Self>, _ sc: UnsafePointer<Int>,
                       _ a: UnsafePointer<Self>, _ sa: UnsafePointer<Int>, _ b: UnsafePointer<Self>, _ sb: UnsafePointer<Int>,
                       _ out: UnsafeMutablePointer<Self>)
    static func _reduce(_ op: Int32, _ x: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>, _ outer: Int, _ r: Int, _ inner: Int)
    static func _gemm(_ m: Int, _ n: Int, _ k: Int, _ alpha: Self, _ a: UnsafePointer<Self>, _ rsa: Int, _ csa: Int,
                      _ b: UnsafePointer<Self>, _ rsb: Int, _ csb: Int, _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
    static func _argmax(_ x: UnsafePointer<Self>, _ rows: Int, _ n: Int, _ out: UnsafeMutablePointer<Int>)
    static func _axpy(_ n: Int, _ alpha: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>)
    static func _countNonFinite(_ x: UnsafePointer<Self>, _ n: Int) -> Int
    static func _randUniform(_ seed: UInt64, _ counter: UInt64, _ out: UnsafeMutablePointer<Self>, _ n: Int, _ lo: Self, _ hi: Self)
    static func _randNormal(_ seed: UInt64, _ counter: UInt64, _ out: UnsafeMutablePointer<Self>, _ n: Int, _ mean: Self, _ std: Self)
    static func _randBernoulli(_ seed: UInt64, _ counter: UInt64, _ p: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>, _ n: Int)
}

extension Float: TensorScalar {
    public static var dtype: DType { .float32 }
    public static var unitRoundoff: Float { .ulpOfOne / 2 }
    public static func _unary(_ op: Int32, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        onsager_unary_f32(op, x, y, n)
    }
    public static func _paramUnary(_ op: Int32, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ p0: Double, _ p1: Double) {
        onsager_param_unary_f32(op, x, y, n, p0, p1)
    }
    public static func _binary(_ op: Int32, _ rank: Int32, _ shape: UnsafePointer<Int>, _ a: UnsafePointer<Float>, _ sa: UnsafePointer<Int>,
                               _ b: UnsafePointer<Float>, _ sb: UnsafePointer<Int>, _ out: UnsafeMutablePointer<Float>) {
        onsager_binary_f32(op, rank, shape, a, sa, b, sb, out)
    }
    public static func _where(_ rank: Int32, _ shape: UnsafePointer<Int>, _ c: UnsafePointer<Float>, _ sc: UnsafePointer<Int>,
                              _ a: UnsafePointer<Float>, _ sa: UnsafePointer<Int>, _ b: UnsafePointer<Float>, _ sb: UnsafePointer<Int>,
                              _ out: UnsafeMutablePointer<Float>) {
        onsager_where_f32(rank, shape, c, sc, a, sa, b, sb, out)
    }
    public static func _reduce(_ op: Int32, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ outer: Int, _ r: Int, _ inner: Int) {
        onsager_reduce_f32(op, x, out, outer, r, inner)
    }
    public static func _gemm(_ m: Int, _ n: Int, _ k: Int, _ alpha: Float, _ a: UnsafePointer<Float>, _ rsa: Int, _ csa: Int,
                             _ b: UnsafePointer<Float>, _ rsb: Int, _ csb: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        onsager_sgemm(m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc)
    }
    public static func _argmax(_ x: UnsafePointer<Float>, _ rows: Int, _ n: Int, _ out: UnsafeMutablePointer<Int>) {
        onsager_argmax_f32(x, rows, n, out)
    }
    public static func _countNonFinite(_ x: UnsafePointer<Float>, _ n: Int) -> Int { onsager_count_nonfinite_f32(x, n) }
    public static func _axpy(_ n: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) { onsager_axpy_f32(n, alpha, x, y) }
    public static func _randUniform(_ seed: UInt64, _ counter: UInt64, _ out: UnsafeMutablePointer<Float>, _ n: Int, _ lo: Float, _ hi: Float) {
        onsager_rand_uniform_f32(seed, counter, out, n, lo, hi)
    }
    public static func _randNormal(_ seed: UInt64, _ counter: UInt64, _ out: UnsafeMutablePointer<Float>, _ n: Int, _ mean: Float, _ std: Float) {
        onsager_rand_normal_f32(seed, counter, out, n, mean, std)
    }
    public static func _randBernoulli(_ seed: UInt64, _ counter: UInt64, _ p: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        onsager_rand_bernoulli_f32(seed, counter, p, out, n)
    }
}

extension Double: TensorScalar {
    public static var dtype: DType { .float64 }
    public static var unitRoundoff: Double { .ulpOfOne / 2 }
    public static func _unary(_ op: Int32, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
        onsager_unary_f64(op, x, y, n)
    }
    public static func _paramUnary(_ op: Int32, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int, _ p0: Double, _ p1: Double) {
        onsager_param_unary_f64(op, x, y, n, p0, p1)
    }
    public static func _binary(_ op: Int32, _ rank: Int32, _ shape: UnsafePointer<Int>, _ a: UnsafePointer<Double>, _ sa: UnsafePointer<Int>,
                               _ b: UnsafePointer<Double>, _ sb: UnsafePointer<Int>, _ out: UnsafeMutablePointer<Double>) {
        onsager_binary_f64(op, rank, shape, a, sa, b, sb, out)
    }
    public static func _where(_ rank: Int32, _ shape: UnsafePointer<Int>, _ c: UnsafePointer<Double>, _ sc: UnsafePointer<Int>,
                              _ a: UnsafePointer<Double>, _ sa: UnsafePointer<Int>, _ b: UnsafePointer<Double>, _ sb: UnsafePointer<Int>,
                              _ out: UnsafeMutablePointer<Double>) {
        onsager_where_f64(rank, shape, c, sc, a, sa, b, sb, out)
    }
    public static func _reduce(_ op: Int32, _ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ outer: Int, _ r: Int, _ inner: Int) {
        onsager_reduce_f64(op, x, out, outer, r, inner)
    }
    public static func _gemm(_ m: Int, _ n: Int, _ k: Int, _ alpha: Double, _ a: UnsafePointer<Double>, _ rsa: Int, _ csa: Int,
                             _ b: UnsafePointer<Double>, _ rsb: Int, _ csb: Int, _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int) {
        onsager_dgemm(m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc)
    }
    public static func _argmax(_ x: UnsafePointer<Double>, _ rows: Int, _ n: Int, _ out: UnsafeMutablePointer<Int>) {
        onsager_argmax_f64(x, rows, n, out)
    }
    public static func _countNonFinite(_ x: UnsafePointer<Double>, _ n: Int) -> Int { onsager_count_nonfinite_f64(x, n) }
    public static func _axpy(_ n: Int, _ alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) { onsager_axpy_f64(n, alpha, x, y) }
    public static func _randUniform(_ seed: UInt64, _ counter: UInt64, _ out: UnsafeMutablePointer<Double>, _ n: Int, _ lo: Double, _ hi: Double) {
        onsager_rand_uniform_f64(seed, counter, out, n, lo, hi)
    }
    public static func _randNormal(_ seed: UInt64, _ counter: UInt64, _ out: UnsafeMutablePointer<Double>, _ n: Int, _ mean: Double, _ std: Double) {
        onsager_rand_normal_f64(seed, counter, out, n, mean, std)
    }
    public static func _randBernoulli(_ seed: UInt64, _ counter: UInt64, _ p: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ n: Int) {
        onsager_rand_bernoulli_f64(seed, counter, p, out, n)
    }
}
