import COnsagerKernels

// Broadcasting binary arithmetic. Each gradient is summed back to its operand's shape, so
// broadcasting (a bias added to a batch, a scalar times a matrix) differentiates correctly.
extension Tensor {
    @inline(__always)
    static func binary(_ k: onsager_binary_op, _ a: Tensor, _ b: Tensor, _ name: StaticString,
                       _ rule: @escaping (_ a: Tensor, _ b: Tensor, _ g: Tensor) -> (Tensor?, Tensor?)) -> Tensor {
        let y = binaryKernel(k, a, b, name: name)
        guard tracks(a, b) else { return y.checked(name) }
        return y.attaching(name, a, b) { g in
            let (ga, gb) = rule(a, b, g)
            return (a.node == nil ? nil : ga?.summed(toShape: a.shape), b.node == nil ? nil : gb?.summed(toShape: b.shape))
        }.checked(name)
    }

    /// `binary` for a sum or difference, whose gradients need neither operand: the rule keeps
    /// only their shapes, so the operands' buffers are freed as soon as nothing else holds them
    /// (as PyTorch's add saves no tensor).
    @inline(__always)
    static func sumOrDifference(_ k: onsager_binary_op, _ a: Tensor, _ b: Tensor, _ name: StaticString) -> Tensor {
        let y = binaryKernel(k, a, b, name: name)
        guard tracks(a, b) else { return y.checked(name) }
        let aShape = a.shape, bShape = b.shape, aTracked = a.node != nil, bTracked = b.node != nil
        let negateB = k == ONS_SUB
        return y.attaching(name, a, b) { g in
            (aTracked ? g.summed(toShape: aShape) : nil, bTracked ? (negateB ? -g : g).summed(toShape: bShape) : nil)
        }.checked(name)
    }

    /// Elementwise sum with numpy broadcasting.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func + (a: Tensor, b: Tensor) -> Tensor { sumOrDifference(ONS_ADD, a, b, "add") }
    /// Elementwise difference with numpy broadcasting.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func - (a: Tensor, b: Tensor) -> Tensor { sumOrDifference(ONS_SUB, a, b, "sub") }
    /// Elementwise product with numpy broadcasting.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        // Only the gradients the tape can use: a constant factor (a mask, fixed weights) gets none,
        // which halves the backward pass of x * constant.
        binary(ONS_MUL, a, b, "mul") { a, b, g in (a.node == nil ? nil : g * b, b.node == nil ? nil : g * a) }
    }
    /// Elementwise quotient with numpy broadcasting.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        binary(ONS_DIV, a, b, "div") { a, b, g in
            let gb: Tensor? = b.node == nil ? nil : -(g * a / (b * b))
            return (a.node == nil ? nil : g / b, gb)
        }
    }

    /// Elementwise a^b for tensors (b's gradient uses log a, so it is NaN where a < 0).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func pow(_ exponent: Tensor) -> Tensor {
        Tensor.binary(ONS_POW, self, exponent, "pow") { a, b, g in
            let ga: Tensor? = a.node == nil ? nil : g * b * a.pow(b - 1)
            let gb: Tensor? = b.node == nil ? nil : g * a.pow(b) * a.log()
            return (ga, gb)
        }
    }

    /// Elementwise maximum; on ties the gradient is split equally (as in PyTorch).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary(ONS_MAX, a, b, "maximum") { a, b, g in
            let wa = binaryKernel(ONS_GT, a, b, name: "maximum") + binaryKernel(ONS_EQ, a, b, name: "maximum") * 0.5
            return (a.node == nil ? nil : g * wa, b.node == nil ? nil : g * (1 - wa))
        }
    }

    /// Elementwise minimum; on ties the gradient is split equally.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary(ONS_MIN, a, b, "minimum") { a, b, g in
            let wa = binaryKernel(ONS_LT, a, b, name: "minimum") + binaryKernel(ONS_EQ, a, b, name: "minimum") * 0.5
            return (a.node == nil ? nil : g * wa, b.node == nil ? nil : g * (1 - wa))
        }
    }

    // Scalar operands: one affine pass, no broadcast tensor.
    /// Adds a scalar to every element (one affine pass).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func + (a: Tensor, s: Scalar) -> Tensor { a.affine(scale: 1, shift: s) }
    /// Adds a scalar to every element (one affine pass).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func + (s: Scalar, a: Tensor) -> Tensor { a.affine(scale: 1, shift: s) }
    /// Subtracts a scalar from every element.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func - (a: Tensor, s: Scalar) -> Tensor { a.affine(scale: 1, shift: -s) }
    /// A scalar minus every element.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func - (s: Scalar, a: Tensor) -> Tensor { a.affine(scale: -1, shift: s) }
    /// Multiplies every element by a scalar.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func * (a: Tensor, s: Scalar) -> Tensor { a.affine(scale: s, shift: 0) }
    /// Multiplies every element by a scalar.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func * (s: Scalar, a: Tensor) -> Tensor { a.affine(scale: s, shift: 0) }
    /// Divides every element by a scalar.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func / (a: Tensor, s: Scalar) -> Tensor { a.affine(scale: 1 / s, shift: 0) }
    /// A scalar divided by every element.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func / (s: Scalar, a: Tensor) -> Tensor { a.reciprocal() * s }

    /// Out-of-place accumulation: `a = a + b` (recorded like `+`).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    /// Out-of-place update: `a = a - b` (recorded like `-`).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    /// Out-of-place update: `a = a * b` (recorded like `*`).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    /// Out-of-place update: `a = a / b` (recorded like `/`).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
    /// Out-of-place update: `a = a * s`.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func *= (a: inout Tensor, s: Scalar) { a = a * s }
}
