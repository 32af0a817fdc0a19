import COnsagerKernels

// Comparisons give masks of 0 and 1 in the tensor's own type (constants on the tape);
// `where` selects with a mask and routes gradients to the chosen branch.
extension Tensor {
    static func compare(_ k: onsager_binary_op, _ a: Tensor, _ b: Tensor, _ name: StaticString) -> Tensor {
        binaryKernel(k, a, b, name: name)
    }
    /// 1 where a == b, else 0.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func .== (a: Tensor, b: Tensor) -> Tensor { compare(ONS_EQ, a, b, "eq") }
    /// 1 where a != b, else 0.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { compare(ONS_NE, a, b, "ne") }
    /// 1 where a < b, else 0.
    public static func .< (a: Tensor, b: Tensor) -> Tensor { compare(ONS_LT, a, b, "lt") }
    /// 1 where a <= b, else 0.
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { compare(ONS_LE, a, b, "le") }
    /// 1 where a > b, else 0.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func .> (a: Tensor, b: Tensor) -> Tensor { compare(ONS_GT, a, b, "gt") }
    /// 1 where a >= b, else 0.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { compare(ONS_GE, a, b, "ge") }
    /// 1 where a equals the scalar, else 0.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func .== (a: Tensor, s: Scalar) -> Tensor { a .== Tensor(s) }
    /// 1 where a < s, else 0.
    public static func .< (a: Tensor, s: Scalar) -> Tensor { a .< Tensor(s) }
    /// 1 where a <= s, else 0.
    public static func .<= (a: Tensor, s: Scalar) -> Tensor { a .<= Tensor(s) }
    /// 1 where a > s, else 0.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func .> (a: Tensor, s: Scalar) -> Tensor { a .> Tensor(s) }
    /// 1 where a >= s, else 0.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func .>= (a: Tensor, s: Scalar) -> Tensor { a .>= Tensor(s) }

    /// `a` where `condition` is non-zero, else `b` (all three broadcast).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let y = whereKernel(condition, a, b)
        guard tracks(a, b) else { return y.checked("where") }
        let c = condition.detached()
        return y.attaching("where", a, b) { g in
            let zero = Tensor(0)
            return (a.node == nil ? nil : Tensor.where(c, g, zero).summed(toShape: a.shape),
                    b.node == nil ? nil : Tensor.where(c, zero, g).summed(toShape: b.shape))
        }.checked("where")
    }

    /// 1 where the element is finite, 0 for NaN and ±Inf.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func isFiniteMask() -> Tensor {
        let d = Tensor.binaryKernel(ONS_SUB, self, self, name: "isfinite")
        return Tensor.binaryKernel(ONS_EQ, d, Tensor(0), name: "isfinite")
    }
}
