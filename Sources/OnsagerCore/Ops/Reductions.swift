import COnsagerKernels

// Reductions over axes with keepDims. Sum and max are primitives with gradient rules; mean,
// variance, logsumexp and the softmaxes are composed from them, so their gradients (and second
// derivatives) come from the tape.
extension Tensor {
    private func keepShape(_ axes: [Int]) -> [Int] {
        var s = shape
        for a in axes { s[a] = 1 }
        return s
    }
    private func dropShape(_ axes: [Int]) -> [Int] {
        shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }
    private func allAxes(_ axes: [Int]?, _ op: String) -> [Int] {
        axes.map { Shape.axes($0, rank: rank, op: op) } ?? Array(0..<rank)
    }

    /// Sum over `axes` (all axes when nil).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        if axes == nil && !keepDims {
            // Full reduction (losses): no axis bookkeeping.
            let x = contiguousValue()
            let y = Tensor(uninitializedShape: [])
            Scalar.kernelReduce(kop(ONS_RSUM), x.basePointer, y.storage.base, 1, scalarCount, 1)
            guard Self.tracks(self) else { return y.checked("sum") }
            let inShape = shape
            return y.attaching("sum", self) { g in Tensor.fullSumGradient(g, inShape: inShape) }
                .checked("sum")
        }
        let ax = allAxes(axes, "sum")
        var y = reduceKernel(ONS_RSUM, axes: ax)
        if !keepDims { y = y.reshapedValue(dropShape(ax)) }
        guard Self.tracks(self) else { return y.checked("sum") }
        let inShape = shape, keep = keepShape(ax)
        return y.attaching("sum", self) { g in Tensor.sumGradient(g, keepShape: keep, inShape: inShape) }.checked("sum")
    }

    /// The gradient of a sum: `g` broadcast back over the summed axes. A loss's gradient is one
    /// number: when the backward pass is not recorded, it is filled into a contiguous tensor so
    /// the ops below take their flat fast paths.
    static func sumGradient(_ g: Tensor, keepShape: [Int], inShape: [Int]) -> Tensor {
        if g.scalarCount == 1 && !GradMode.isEnabled { return Tensor(repeating: g.item, shape: inShape) }
        return g.reshaped(keepShape).expanded(to: inShape)
    }
    /// `sumGradient` of a sum over all axes (its keep shape, all ones, is built only when needed).
    static func fullSumGradient(_ g: Tensor, inShape: [Int]) -> Tensor {
        if !GradMode.isEnabled { return Tensor(repeating: g.item, shape: inShape) }
        return g.reshaped([Int](repeating: 1, count: inShape.count)).expanded(to: inShape)
    }
    /// Sum over one axis.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Mean over `axes` (all axes when nil).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = allAxes(axes, "mean")
        let n = ax.reduce(1) { $0 * shape[$1] }
        return sum(axes: ax, keepDims: keepDims) / Scalar(n)
    }
    /// Mean over one axis.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Variance over `axes`: Σ(x − mean)² / (n − correction). The default correction 0 is the
    /// population variance (numpy/JAX default); pass 1 for PyTorch's unbiased default.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func variance(axes: [Int]? = nil, keepDims: Bool = false, correction: Int = 0) -> Tensor {
        let ax = allAxes(axes, "variance")
        let n = ax.reduce(1) { $0 * shape[$1] }
        let d = self - mean(axes: ax, keepDims: true)
        return (d * d).sum(axes: ax, keepDims: keepDims) / Scalar(Swift.max(n - correction, 0))
    }

    private func extremum(_ k: onsager_reduce_op, _ name: StaticString, _ axes: [Int]?, _ keepDims: Bool) -> Tensor {
        let ax = allAxes(axes, "\(name)")
        check(ax.allSatisfy { shape[$0] > 0 }, "\(name): cannot reduce an empty dimension of \(shape)")
        let yKeep = reduceKernel(k, axes: ax)
        let y = keepDims ? yKeep : yKeep.reshapedValue(dropShape(ax))
        guard Self.tracks(self) else { return y.checked(name) }
        let x = self, keep = keepShape(ax)
        return y.attaching(name, x) { g in
            // Gradient goes to the extremal elements, shared equally among ties.
            let mask = Tensor.binaryKernel(ONS_EQ, x, yKeep, name: name)
            let count = mask.reduceKernel(ONS_RSUM, axes: ax)
            return g.reshaped(keep) * (mask / count)
        }.checked(name)
    }

    /// Maximum over `axes` (all when nil). The gradient is shared equally among tied maxima.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { extremum(ONS_RMAX, "max", axes, keepDims) }
    /// Maximum over one axis.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { max(axes: [axis], keepDims: keepDims) }
    /// Minimum over `axes` (all when nil).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { extremum(ONS_RMIN, "min", axes, keepDims) }
    /// Minimum over one axis.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func min(axis: Int, keepDims: Bool = false) -> Tensor { min(axes: [axis], keepDims: keepDims) }

    /// log Σ exp(x) over `axes`, computed around the maximum so it never overflows.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func logSumExp(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = allAxes(axes, "logsumexp")
        // The shift is a constant: its derivative cancels exactly, so it is cut from the tape.
        var m = reduceKernel(ONS_RMAX, axes: ax)
        m = Tensor.whereKernel(m.isFiniteMask(), m, Tensor(0))
        let s = (self - m).exp().sum(axes: ax, keepDims: true).log() + m
        return keepDims ? s : s.reshaped(dropShape(ax))
    }
    /// log Σ exp(x) over one axis.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func logSumExp(axis: Int, keepDims: Bool = false) -> Tensor { logSumExp(axes: [axis], keepDims: keepDims) }

    /// exp(x) / Σ exp(x) along `axis`.
    ///
    /// Along the last axis (attention's scores, a classifier's logits) one kernel computes each
    /// row, and its backward, y ⊙ (g − Σ g⊙y), is one pass too; a recorded backward (gradients of
    /// gradients) composes that formula from differentiable ops. Other axes compose
    /// exp(x − logSumExp(x)). A row holding +∞ gives NaN where the +∞ are and 0 elsewhere
    /// (PyTorch gives NaN for the whole row); a row of −∞ or with a NaN gives NaN.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func softmax(axis: Int = -1) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "softmax")
        guard a == rank - 1 else { return (self - logSumExp(axis: a, keepDims: true)).exp() }
        return lastAxisRows("softmax", forward: Scalar.kernelSoftmaxRows, backward: Scalar.kernelSoftmaxRowsBackward) { input, g in
            let s = input.softmax(axis: a)
            return s * (g - (g * s).sum(axis: a, keepDims: true))
        }
    }
    /// x − log Σ exp(x) along `axis`.
    ///
    /// Along the last axis (a classifier's logits, as `Loss.softmaxCrossEntropy` takes them) one
    /// kernel computes each row with the composed expression's operations (the same bits, but for
    /// a single row of more than 65,536 elements, whose composed sum is split into chunks) and the
    /// backward, g − exp(y)·Σg, is one pass; a recorded backward composes that formula. Other axes
    /// compose x − logSumExp(x).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "logSoftmax")
        guard a == rank - 1 else { return self - logSumExp(axis: a, keepDims: true) }
        return lastAxisRows("log_softmax", forward: Scalar.kernelLogSoftmaxRows, backward: Scalar.kernelLogSoftmaxRowsBackward) { input, g in
            g - input.logSoftmax(axis: a).exp() * g.sum(axis: a, keepDims: true)
        }
    }

    /// An op on rows along the last axis run by row kernels: `forward` (x, rows, n, y) and
    /// `backward` (y, g, rows, n, gx), the latter from the output alone; `recorded` (input, g) is
    /// the backward as differentiable ops, for gradients of gradients.
    private func lastAxisRows(_ op: StaticString,
                              forward: (UnsafePointer<Scalar>, Int, Int, UnsafeMutablePointer<Scalar>) -> Void,
                              backward: @escaping (UnsafePointer<Scalar>, UnsafePointer<Scalar>, Int, Int, UnsafeMutablePointer<Scalar>) -> Void,
                              recorded: @escaping (Tensor, Tensor) -> Tensor) -> Tensor {
        let n = shape[rank - 1], rows = n == 0 ? 0 : scalarCount / n
        let x = contiguousValue()
        let y = Tensor(uninitializedShape: shape)
        withExtendedLifetime(x) { forward(x.basePointer, rows, n, y.storage.base) }
        guard Self.tracks(self) else { return y.checked(op) }
        let input = self
        return y.attaching(op, input) { g in
            if GradMode.isEnabled { return recorded(input, g) }
            let gc = g.contiguousValue()
            let gx = Tensor(uninitializedShape: y.shape)
            withExtendedLifetime(gc) { backward(y.basePointer, gc.basePointer, rows, n, gx.storage.base) }
            return gx
        }.checked(op)
    }

    /// Index of the largest element along `axis` (first on ties); not differentiable.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func argmax(axis: Int = -1) -> [Int] {
        let a = Shape.axis(axis, rank: rank, op: "argmax")
        var order = (0..<rank).filter { $0 != a }
        order.append(a)
        let x = permutedView(order).contiguousValue()
        let n = shape[a], rows = n == 0 ? 0 : scalarCount / n
        var out = [Int](repeating: 0, count: rows)
        out.withUnsafeMutableBufferPointer { Scalar.kernelArgmax(x.basePointer, rows, n, $0.baseAddress!) }
        return out
    }

    /// Same storage, new shape; never recorded (for results of kernels).
    func reshapedValue(_ s: [Int]) -> Tensor {
        Tensor(storage: storage, shape: s, strides: nil, offset: offset)
    }
}
