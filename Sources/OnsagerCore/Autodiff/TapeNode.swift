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
    // The inputs' nodes: the first two inline (almost every op has one or two), the others in an
    // array, so that recording an op allocates no array. Cut (set to nil) once a backward pass
    // has freed the graph.
    @exclusivity(unchecked) var firstInput: TapeNode?
    @exclusivity(unchecked) var secondInput: TapeNode?
    @exclusivity(unchecked) var otherInputs: [TapeNode?]
    /// Number of inputs (gradients the rule returns).
    let inputCount: Int
    /// The backward rule; nil for leaves and once a backward pass has freed the graph.
    @exclusivity(unchecked) var rule: Rule?
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
        inputCount = 0
        otherInputs = []
    }

    /// How the output's gradient becomes the inputs' gradients. Ops of one or two inputs return
    /// them without an array, which would be an allocation per node and pass.
    enum Rule {
        /// An op of one input.
        case one((Tensor<Scalar>) -> Tensor<Scalar>?)
        /// An op of two inputs.
        case two((Tensor<Scalar>) -> (Tensor<Scalar>?, Tensor<Scalar>?))
        /// Any number of inputs, a gradient (or nil) for each (`Tensor.custom`, and ops of three).
        case many((Tensor<Scalar>) -> [Tensor<Scalar>?])
    }

    /// A node of an op of one input.
    init(op: StaticString, shape: [Int], input: TapeNode?, backward: @escaping (Tensor<Scalar>) -> Tensor<Scalar>?) {
        self.op = op
        self.shape = shape
        isLeaf = false
        firstInput = input
        otherInputs = []
        inputCount = 1
        rule = .one(backward)
    }

    /// A node of an op of two inputs.
    init(op: StaticString, shape: [Int], inputs a: TapeNode?, _ b: TapeNode?,
         backward: @escaping (Tensor<Scalar>) -> (Tensor<Scalar>?, Tensor<Scalar>?)) {
        self.op = op
        self.shape = shape
        isLeaf = false
        firstInput = a
        secondInput = b
        otherInputs = []
        inputCount = 2
        rule = .two(backward)
    }

    /// A node of an op of any number of inputs.
    init(op: StaticString, shape: [Int], inputs: [TapeNode?], backward: @escaping (Tensor<Scalar>) -> [Tensor<Scalar>?]) {
        self.op = op
        self.shape = shape
        isLeaf = false
        inputCount = inputs.count
        firstInput = inputs.count > 0 ? inputs[0] : nil
        secondInput = inputs.count > 1 ? inputs[1] : nil
        otherInputs = inputs.count > 2 ? Array(inputs[2...]) : []
        rule = .many(backward)
    }

    /// The node of input `k` (nil when that input is not recorded, or the graph was freed).
    @inline(__always) func input(_ k: Int) -> TapeNode? {
        k == 0 ? firstInput : k == 1 ? secondInput : k - 2 < otherInputs.count ? otherInputs[k - 2] : nil
    }

    /// Cuts the links to the inputs (a backward pass freeing the graph).
    func cutInputs() {
        firstInput = nil
        secondInput = nil
        otherInputs = []
    }
}
