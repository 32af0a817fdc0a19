import OnsagerCore

/// One minibatch: input rows, and the matching target rows or integer class labels if the data
/// has them.
public struct Batch<Scalar: TensorScalar>: @unchecked Sendable {
    /// Input rows [n, …].
    public var inputs: Tensor<Scalar>
    /// Target rows [n, …] (regression, autoencoder targets), if any.
    public var targets: Tensor<Scalar>?
    /// Class labels, one per row, if any (never stored as floating point).
    public var labels: [Int]?
    /// The positions of the rows in the dataset.
    public var indices: [Int]

    /// A batch of the given parts.
    public init(inputs: Tensor<Scalar>, targets: Tensor<Scalar>? = nil, labels: [Int]? = nil, indices: [Int]) {
        self.inputs = inputs
        self.targets = targets
        self.labels = labels
        self.indices = indices
    }

    /// Number of rows.
    public var count: Int { inputs.shape.first ?? 0 }

    /// The rows `range` of this batch (inputs, targets, labels and indices alike).
    public func rows(_ range: Range<Int>) -> Batch {
        if range == 0..<count { return self }
        return Batch(inputs: inputs.sliced(axis: 0, range).contiguous(), targets: targets.map { $0.sliced(axis: 0, range).contiguous() },
                     labels: labels.map { Array($0[range]) }, indices: Array(indices[range]))
    }
}
