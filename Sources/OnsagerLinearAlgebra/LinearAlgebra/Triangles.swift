import OnsagerCore

extension Tensor {
    /// The lower (or upper) triangle of a matrix with the diagonal scaled; zeros elsewhere.
    /// A masked product, so it is differentiable.
    public func lowerTriangle(diagonalScale: Scalar = 1, upper: Bool = false) -> Tensor {
        check(rank == 2, "lowerTriangle: expected a matrix, got \(shape)")
        let (m, n) = (shape[0], shape[1])
        var mask = [Scalar](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { mask[i * n + j] = i == j ? diagonalScale : ((upper ? j > i : j < i) ? 1 : 0) } }
        return self * Tensor(shape: [m, n], scalars: mask)
    }
}
