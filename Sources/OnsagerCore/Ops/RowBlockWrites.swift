import COnsagerKernels

// Writes into row blocks of a matrix the caller has just made with `init(uninitializedShape:)`
// and holds alone, for results built from parts computed at different times: CD's field over
// [data; chain] rows, whose data half is sampled from before the chain half exists. Each block is
// computed by the same kernel as its stand-alone op, straight into its rows, so the matrix has
// the bits the stand-alone results concatenated would have, without the copies.
extension Tensor {
    /// The first element of row `row` of this contiguous matrix, checked to hold `rows` rows from
    /// there; the storage must not be shared (a tensor made for this by its caller).
    private func rowBlock(_ row: Int, rows: Int, op: StaticString) -> UnsafeMutablePointer<Scalar> {
        check(rank == 2 && isContiguous, "\(op): writes into a contiguous matrix, got shape \(shape) with strides \(strides)")
        check(row >= 0 && rows >= 0 && row + rows <= shape[0], "\(op): rows \(row)..<\(row + rows) are outside a [\(shape[0]), \(shape[1])] matrix")
        return storage.base + offset + row * shape[1]
    }

    /// Rows `row ..< row + a.shape[0]` set to a·b + bias (`matmul(a, b, adding: bias)` without
    /// the tape) for matrices a [m, k], b [k, n] and a bias [n].
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    package func setRows(_ row: Int, toProductOf a: Tensor, _ b: Tensor, adding bias: Tensor) {
        check(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0] && bias.shape == [b.shape[1]] && b.shape[1] == shape[1],
              "setRows: a \(a.shape) · b \(b.shape) + bias \(bias.shape) does not fill rows of a \(shape) matrix")
        let m = a.shape[0], out = rowBlock(row, rows: m, op: "setRows")
        if m == 0 || shape[1] == 0 { return }
        let biasRow = bias.contiguousValue()
        Scalar.kernelGEMMBias(m, shape[1], a.shape[1], 1, a.basePointer, a.strides[0], a.strides[1], b.basePointer, b.strides[0],
                              b.strides[1], biasRow.basePointer, out, shape[1])
    }

    /// Rows `row ..< row + x.shape[0]` set to 0/1 samples with P(1) = σ(x): the samples, and the
    /// generator's stream, of `Tensor.bernoulli(logits: x, generator:)`.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    package func setRows(_ row: Int, toBernoulliSamplesFromLogits x: Tensor, generator: RandomGenerator) {
        check(x.rank == 2 && x.shape[1] == shape[1], "setRows: logits \(x.shape) do not fill rows of a \(shape) matrix")
        let out = rowBlock(row, rows: x.shape[0], op: "setRows")
        let v = x.contiguousValue()
        Scalar.kernelRandomBernoulliLogits(generator.seed, generator.reserve(v.scalarCount), v.basePointer, out, v.scalarCount)
    }

    /// Rows `row ..< row + x.shape[0]` set to the values of x.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    package func setRows(_ row: Int, to x: Tensor) {
        check(x.rank == 2 && x.shape[1] == shape[1], "setRows: \(x.shape) does not fill rows of a \(shape) matrix")
        let out = rowBlock(row, rows: x.shape[0], op: "setRows")
        Tensor.copyElements(from: x, toShape: x.shape, base: out, strides: [shape[1], 1])
    }
}
