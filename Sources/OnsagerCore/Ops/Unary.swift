import COnsagerKernels

// Elementwise functions and their derivatives. A rule that needs the op's output recomputes it
// from the input when the backward pass is being recorded (so second derivatives are right) and
// reuses the saved output otherwise (so first-order backward stays cheap).
extension Tensor {
    @inline(__always)
    func unary(_ k: onsager_unary_op, _ name: StaticString, _ rule: @escaping (_ x: Tensor, _ y: Tensor, _ g: Tensor) -> Tensor?) -> Tensor {
        let y = unaryKernel(k)
        guard Self.tracks(self) else { return y.checked(name) }
        let x = self
        return y.attaching(name, x) { g in rule(x, y, g) }.checked(name)
    }

    /// -x
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static prefix func - (x: Tensor) -> Tensor { x.unary(ONS_NEG, "neg") { _, _, g in -g } }
    /// |x|; the derivative at 0 is taken as 0.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func abs() -> Tensor { unary(ONS_ABS, "abs") { x, _, g in g * x.sign() } }
    /// -1, 0 or 1 (zero gradient).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func sign() -> Tensor { unary(ONS_SIGN, "sign") { _, _, _ in nil } }
    /// e^x
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func exp() -> Tensor { unary(ONS_EXP, "exp") { x, y, g in g * (GradMode.isEnabled ? x.exp() : y) } }
    /// e^x - 1, accurate near 0.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func expm1() -> Tensor { unary(ONS_EXPM1, "expm1") { x, y, g in g * (GradMode.isEnabled ? x.exp() : y + 1) } }
    /// Natural logarithm.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func log() -> Tensor { unary(ONS_LOG, "log") { x, _, g in g / x } }
    /// log(1 + x), accurate near 0.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func log1p() -> Tensor { unary(ONS_LOG1P, "log1p") { x, _, g in g / (x + 1) } }
    /// Square root.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func sqrt() -> Tensor {
        unary(ONS_SQRT, "sqrt") { x, y, g in g / ((GradMode.isEnabled ? x.sqrt() : y) * 2) }
    }
    /// x²
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func squared() -> Tensor { unary(ONS_SQUARE, "square") { x, _, g in g * x * 2 } }
    /// 1 / x
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func reciprocal() -> Tensor {
        unary(ONS_RECIPROCAL, "reciprocal") { x, y, g in
            let r = GradMode.isEnabled ? x.reciprocal() : y
            return -(g * r * r)
        }
    }
    /// The logistic function 1 / (1 + e^-x), stable for large |x|.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func sigmoid() -> Tensor {
        unary(ONS_SIGMOID, "sigmoid") { x, y, g in
            let s = GradMode.isEnabled ? x.sigmoid() : y
            return g * s * (1 - s)
        }
    }
    /// log σ(x) = -softplus(-x), stable for large |x|.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func logSigmoid() -> Tensor { unary(ONS_LOGSIGMOID, "logsigmoid") { x, _, g in g * (-x).sigmoid() } }
    /// Hyperbolic tangent.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func tanh() -> Tensor {
        unary(ONS_TANH, "tanh") { x, y, g in
            let t = GradMode.isEnabled ? x.tanh() : y
            return g * (1 - t * t)
        }
    }
    /// max(x, 0); the derivative at 0 is taken as 0.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func relu() -> Tensor { unary(ONS_RELU, "relu") { x, _, g in Tensor.reluBackward(g, x) } }

    /// g where x > 0, else 0: relu's backward in one pass (g · step(x) took two and a temporary).
    /// Linear in g, so its own rule is itself; x gets no gradient (step is flat almost everywhere).
    static func reluBackward(_ g: Tensor, _ x: Tensor) -> Tensor {
        binary(ONS_MASK_POS, g, x, "relu_backward") { _, x, gg in (reluBackward(gg, x), nil) }
    }
    /// log(1 + e^x), stable for large |x|.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func softplus() -> Tensor { unary(ONS_SOFTPLUS, "softplus") { x, _, g in g * x.sigmoid() } }

    /// x for x > 0, `slope`·x otherwise.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func leakyRelu(slope: Scalar = 0.01) -> Tensor {
        let y = paramKernel(ONS_LEAKY_RELU, Double(slope))
        guard Self.tracks(self) else { return y.checked("leaky_relu") }
        let x = self
        return y.attaching("leaky_relu", x) { g in g * x.paramKernel(ONS_LEAKY_STEP, Double(slope)) }.checked("leaky_relu")
    }

    /// x raised to a constant power.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func pow(_ exponent: Scalar) -> Tensor {
        let y = paramKernel(ONS_POWS, Double(exponent))
        guard Self.tracks(self) else { return y.checked("pow") }
        let x = self
        return y.attaching("pow", x) { g in
            exponent == 0 ? nil : g * x.pow(exponent - 1) * exponent
        }.checked("pow")
    }

    /// Values limited to [lower, upper]; the gradient is 1 inside the interval, 0 outside.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func clamped(min lower: Scalar = -.infinity, max upper: Scalar = .infinity) -> Tensor {
        check(lower <= upper, "clamp: lower bound \(lower) exceeds upper bound \(upper)")
        let y = paramKernel(ONS_CLAMP, Double(lower), Double(upper))
        guard Self.tracks(self) else { return y.checked("clamp") }
        let x = self
        return y.attaching("clamp", x) { g in g * x.paramKernel(ONS_CLAMP_MASK, Double(lower), Double(upper)) }.checked("clamp")
    }

    /// a·x + b for scalars a, b (one pass; used by scalar arithmetic).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func affine(scale a: Scalar, shift b: Scalar) -> Tensor {
        let y = paramKernel(ONS_AFFINE, Double(a), Double(b))
        guard Self.tracks(self) else { return y.checked("affine") }
        return y.attaching("affine", self) { g in a == 1 ? g : g.affine(scale: a, shift: 0) }.checked("affine")
    }
}
