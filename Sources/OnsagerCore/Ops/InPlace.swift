import COnsagerKernels

// In-place updates for optimizers and data preparation. They write into this tensor's own
// storage (copying first if it is shared, so values saved on a tape never change), keep its tape
// node (a parameter stays the same leaf), and are not recorded.
extension Tensor {
    /// self ← self + alpha · other (other broadcasts to self's shape).
    public mutating func addInPlace(_ other: Tensor, alpha: Scalar = 1) {
        if other.shape == shape && other.isContiguous {
            makeUniqueContiguous()
            Scalar.kernelAXPY(scalarCount, alpha, other.basePointer, basePointer)
            return
        }
        let o = other.detached()
        let scaled = alpha == 1 ? o : o.paramKernel(ONS_AFFINE, Double(alpha), 0)
        binaryInPlace(ONS_ADD, scaled)
    }

    /// self ← self · s
    public mutating func scaleInPlace(by s: Scalar) {
        makeUniqueContiguous()
        Scalar.kernelParamUnary(kop(ONS_AFFINE), basePointer, basePointer, scalarCount, Double(s), 0)
    }

    /// self ← self ⊙ other (broadcasting other).
    public mutating func multiplyInPlace(_ other: Tensor) { binaryInPlace(ONS_MUL, other.detached()) }

    /// Replaces the values with those of `other` (same shape), keeping this tensor's identity on the tape.
    public mutating func assign(_ other: Tensor) {
        check(other.shape == shape, "assign: shape \(other.shape) does not match \(shape)")
        makeUniqueContiguous()
        Tensor.copyElements(from: other, toShape: shape, base: basePointer, strides: strides)
    }

    /// Sets every element to `value`.
    public mutating func fill(_ value: Scalar) {
        makeUniqueContiguous()
        basePointer.update(repeating: value, count: scalarCount)
    }

    private mutating func binaryInPlace(_ op: onsager_binary_op, _ other: Tensor) {
        let b = Shape.broadcast(shape, other.shape, op: "in-place update")
        check(b == shape, "in-place update: \(other.shape) does not broadcast to \(shape)")
        makeUniqueContiguous()
        let sa = strides, sb = other.broadcastStrides(to: shape), sh = shape
        let p = basePointer
        sh.withUnsafeBufferPointer { shp in
            sa.withUnsafeBufferPointer { pa in
                sb.withUnsafeBufferPointer { pb in
                    Scalar.kernelBinary(kop(op), Int32(sh.count), shp.baseAddress!, p, pa.baseAddress!, other.basePointer, pb.baseAddress!, p)
                }
            }
        }
    }
}
