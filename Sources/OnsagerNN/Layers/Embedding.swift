import OnsagerCore

/// A lookup table of vectors, one row per token (`torch.nn.Embedding`): weight [count, size].
/// Its input is integer indices, not a tensor, so it is a `Module` but not a `Layer`.
public struct Embedding<Scalar: TensorScalar>: Module {
    /// The table, shape [count, size] ("weight"), drawn from N(0, 1) as PyTorch does.
    public var weight: Tensor<Scalar>
    /// A table of `count` vectors of `size` entries.
    public init(count: Int, size: Int, generator: RandomGenerator = .current) {
        check(count > 0 && size > 0, "Embedding: count and size must be positive, got \(count), \(size)")
        weight = Tensor<Scalar>.normal([count, size], generator: generator).requiringGrad()
    }
    /// The rows at `indices`: [indices.count, size]. Stops naming the index when one is out of range.
    public func callAsFunction(_ indices: [Int]) -> Tensor<Scalar> { weight.indexSelect(axis: 0, indices: indices) }
    /// The rows for a batch of equal-length sequences: [batch, length, size].
    public func callAsFunction(_ sequences: [[Int]]) -> Tensor<Scalar> {
        let length = sequences.first?.count ?? 0
        check(sequences.allSatisfy { $0.count == length }, "Embedding: sequences of unequal lengths \(sequences.map(\.count))")
        return self(sequences.flatMap { $0 }).reshaped([sequences.count, length, weight.shape[1]])
    }
    /// "weight".
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar { v.parameter("weight", &weight) }
    /// "Embedding(count, size)".
    public var summary: String { "Embedding(\(weight.shape[0]), \(weight.shape[1]))" }
}
