/// A node of the reverse-mode tape: the op that made a tensor, the nodes of its inputs, and a
/// backward rule mapping the output gradient to one gradient per input (micrograd-style).
///
/// Leaves (tensors marked with `requiringGrad()`) have no rule and accumulate `grad`.
///
/// The mutable fields opt out of Swift's dynamic exclusivity checks: the backward sweep touches
/// them for every node, and the checks (a per-thread access set) were 3 % of a tiny op plus
/// backward. They are written by the backward engine and by `Tensor`'s gradient accessors, each
/// in a single access that never spans a call back into the tape.
@usableFromInline package final class TapeNode<Scalar: TensorScalar>: @unchecked Sendable {
    /// Name of the op that produced the tensor ("leaf" for leaves).
    package let op: StaticString
    /// Shape of the tensor this node belongs to; gradients must have it.
    package let shape: [Int]
    /// Whether this node is a leaf.
    package let isLeaf: Bool
    @exclusivity(unchecked) var inputs: [TapeNode?]
    @exclusivity(unchecked) var backwardRule: ((Tensor<Scalar>) -> [Tensor<Scalar>?])?
    /// Accumulated gradient (leaves, and non-leaves that asked to retain it).
    @exclusivity(unchecked) var grad: Tensor<Scalar>?
    @exclusivity(unchecked) var retainsGrad = false
    /// Scratch for the backward sweep of non-leaf nodes (a non-leaf belongs to one graph and one
    /// thread); leaves, which threads may share, never hold sweep state.
    @exclusivity(unchecked) var visitStamp: UInt64 = 0
    @exclusivity(unchecked) var pendingGrad: Tensor<Scalar>?

    init(leafWithShape shape: [Int]) {
        op = "leaf"
        self.shape = shape
        isLeaf = true
        inputs = []
    }

    init(op: StaticString, shape: [Int], inputs: [TapeNode?], backward: @escaping (Tensor<Scalar>) -> [Tensor<Scalar>?]) {
        self.op = op
        self.shape = shape
        isLeaf = false
        self.inputs = inputs
        backwardRule = backward
    }
}
