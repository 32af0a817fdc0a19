import OnsagerCore

/// A dense row-major Double matrix: the working type of the decompositions (inputs of either
/// precision are converted to Double, so Float results keep Double accuracy until rounded).
struct DenseMatrix {
    var rows: Int, cols: Int
    var a: [Double]

    init(rows: Int, cols: Int, repeating v: Double = 0) { self.rows = rows; self.cols = cols; a = Array(repeating: v, count: rows * cols) }
    init<S: TensorScalar>(_ t: Tensor<S>, op: String) throws {
        guard t.rank == 2 else { throw LinearAlgebraError.shape(op: op, reason: "expected a matrix, got shape \(t.shape)") }
        rows = t.shape[0]; cols = t.shape[1]
        a = t.scalars.map { Double($0) }
    }
    static func identity(_ n: Int) -> DenseMatrix {
        var m = DenseMatrix(rows: n, cols: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }
    subscript(i: Int, j: Int) -> Double {
        get { a[i * cols + j] }
        set { a[i * cols + j] = newValue }
    }
    var transposed: DenseMatrix {
        var t = DenseMatrix(rows: cols, cols: rows)
        for i in 0..<rows { for j in 0..<cols { t.a[j * rows + i] = a[i * cols + j] } }
        return t
    }
    func tensor<S: TensorScalar>(_: S.Type = S.self) -> Tensor<S> { Tensor(shape: [rows, cols], scalars: a.map { S($0) }) }
    static func * (x: DenseMatrix, y: DenseMatrix) -> DenseMatrix {
        var out = DenseMatrix(rows: x.rows, cols: y.cols)
        x.a.withUnsafeBufferPointer { xp in y.a.withUnsafeBufferPointer { yp in out.a.withUnsafeMutableBufferPointer { op in
            Double.kernelGEMM(x.rows, y.cols, x.cols, 1, xp.baseAddress!, x.cols, 1, yp.baseAddress!, y.cols, 1, 0, op.baseAddress!, y.cols)
        } } }
        return out
    }
}
