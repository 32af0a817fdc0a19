/// An n-dimensional array of `Float` or `Double` that records the operations applied to it,
/// so that gradients can be taken in reverse mode.
///
/// `Tensor` has value semantics: views (reshape, transpose, slicing, expansion) share storage
/// and writes copy first when the storage is shared. A tensor that requires gradients carries a
/// node of the tape; every op on it adds a node whose backward rule is written with tensor ops,
/// so backward passes can themselves be recorded (gradient of gradient).
public struct Tensor<Scalar: TensorScalar>: @unchecked Sendable {
    @usableFromInline var storage: TensorStorage<Scalar>
    /// Extent of each dimension; `[]` for a scalar.
    public internal(set) var shape: [Int]
    /// Strides of a view; nil for a row-major contiguous tensor (most tensors), which saves an
    /// allocation and a reference count per op.
    @usableFromInline var viewStrides: [Int]?
    /// Element strides of each dimension (0 for broadcast dimensions).
    public var strides: [Int] { viewStrides ?? Shape.contiguousStrides(shape) }
    /// Offset of the first element in the storage.
    @usableFromInline var offset: Int
    /// The tape node, present when this tensor requires gradients.
    @usableFromInline var node: TapeNode<Scalar>?

    @usableFromInline init(storage: TensorStorage<Scalar>, shape: [Int], strides: [Int]?, offset: Int = 0, node: TapeNode<Scalar>? = nil) {
        self.storage = storage
        self.shape = shape
        self.viewStrides = strides
        self.offset = offset
        self.node = node
    }

    /// A contiguous tensor with fresh, uninitialised storage.
    @usableFromInline package init(uninitializedShape shape: [Int]) {
        for d in shape { check(d >= 0, "Tensor: negative dimension in shape \(shape)") }
        self.init(storage: TensorStorage(count: Shape.count(shape)), shape: shape, strides: nil)
    }

    /// A tensor with the given shape and row-major scalars.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public init(shape: [Int], scalars: [Scalar]) {
        check(Shape.count(shape) == scalars.count,
                     "Tensor(shape:scalars:): shape \(shape) holds \(Shape.count(shape)) elements but \(scalars.count) scalars were given")
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { storage.base.update(from: $0.baseAddress!, count: scalars.count) }
    }

    /// A 1-D tensor of the given scalars.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public init(_ scalars: [Scalar]) { self.init(shape: [scalars.count], scalars: scalars) }

    /// A 2-D tensor from rows of equal length.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public init(_ rows: [[Scalar]]) {
        let cols = rows.first?.count ?? 0
        for (i, r) in rows.enumerated() {
            check(r.count == cols, "Tensor(rows): row \(i) has \(r.count) elements, row 0 has \(cols)")
        }
        self.init(shape: [rows.count, cols], scalars: rows.flatMap { $0 })
    }

    /// A rank-0 tensor.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public init(_ value: Scalar) {
        self.init(uninitializedShape: [])
        storage.base.pointee = value
    }

    /// A tensor filled with `value`.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public init(repeating value: Scalar, shape: [Int]) {
        self.init(uninitializedShape: shape)
        storage.base.initialize(repeating: value, count: storage.count)
    }

    /// Zeros of the given shape.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    /// Ones of the given shape.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }
    /// Zeros shaped like `other`.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }
    /// Ones shaped like `other`.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func ones(like other: Tensor) -> Tensor { ones(other.shape) }

    /// `[start, start + step, ...)` below `end`, as a 1-D tensor.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func arange(_ start: Scalar, _ end: Scalar, step: Scalar = 1) -> Tensor {
        check(step != 0, "arange: step must be non-zero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<n).map { start + Scalar($0) * step })
    }

    /// `count` evenly spaced values from `start` to `end` inclusive.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func linspace(_ start: Scalar, _ end: Scalar, count: Int) -> Tensor {
        check(count >= 1, "linspace: count must be at least 1, got \(count)")
        if count == 1 { return Tensor([start]) }
        return Tensor((0..<count).map { start + (end - start) * Scalar($0) / Scalar(count - 1) })
    }

    /// The n x n identity matrix.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public static func eye(_ n: Int) -> Tensor {
        let t = zeros([n, n])
        for i in 0..<n { t.storage.base[i * n + i] = 1 }
        return t
    }

    // MARK: - Properties

    /// Number of dimensions.
    @inlinable public var rank: Int { shape.count }
    /// Number of elements.
    @inlinable public var scalarCount: Int { Shape.count(shape) }
    /// The element type.
    public var dtype: DType { Scalar.dtype }

    /// Whether elements are laid out row-major without gaps (views may not be).
    public var isContiguous: Bool {
        guard let strides = viewStrides else { return true }
        var expected = 1
        var i = shape.count - 1
        while i >= 0 {
            if shape[i] != 1 && strides[i] != expected { return false }
            expected &*= shape[i]
            i -= 1
        }
        return true
    }

    /// The elements in row-major order.
    public var scalars: [Scalar] {
        let c = contiguous()
        return Array(UnsafeBufferPointer(start: c.storage.base + c.offset, count: c.scalarCount))
    }

    /// The single element of a one-element tensor.
    public var item: Scalar {
        check(scalarCount == 1, "item: tensor of shape \(shape) has \(scalarCount) elements, expected 1")
        return storage.base[offset]
    }

    /// The element at a multi-index.
    public subscript(index index: [Int]) -> Scalar {
        check(index.count == rank, "subscript: index \(index) has \(index.count) entries for a tensor of rank \(rank)")
        var o = offset
        let strides = self.strides
        for (d, i) in index.enumerated() {
            check(i >= 0 && i < shape[d], "subscript: index \(i) is out of range for dimension \(d) of shape \(shape)")
            o += i * strides[d]
        }
        return storage.base[o]
    }

    /// Calls `body` with the elements of a contiguous copy (or of self when already contiguous).
    public func withUnsafeScalars<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        let c = contiguous()
        return try withExtendedLifetime(c) { try body(UnsafeBufferPointer(start: c.storage.base + c.offset, count: c.scalarCount)) }
    }

    /// Calls `body` with writable contiguous elements; copies first if storage is shared or strided.
    /// Writes are not recorded on the tape (use for optimizer updates and data preparation).
    public mutating func withUnsafeMutableScalars<R>(_ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        makeUniqueContiguous()
        return try body(UnsafeMutableBufferPointer(start: storage.base + offset, count: scalarCount))
    }

    /// Ensures this tensor owns contiguous storage starting at offset 0.
    @usableFromInline mutating func makeUniqueContiguous() {
        if isKnownUniquelyReferenced(&storage) && isContiguous && offset == 0 && storage.count == scalarCount { return }
        let c = materialized()
        storage = c.storage
        viewStrides = nil
        offset = 0
    }

    /// Pointer to the first element (valid while `self` is alive).
    @usableFromInline var basePointer: UnsafeMutablePointer<Scalar> { storage.base + offset }
}

extension Tensor: CustomStringConvertible {
    /// A numpy-like rendering of the values, with the shape.
    public var description: String {
        let values = scalars
        func fmt(_ v: Scalar) -> String { "\(v)" }
        func render(_ dim: Int, _ start: Int) -> String {
            if dim == rank { return fmt(values[start]) }
            let stride = Shape.count(Array(shape[(dim + 1)...]))
            let n = shape[dim]
            var parts: [String] = []
            if n > 12 {
                parts = (0..<3).map { render(dim + 1, start + $0 * stride) } + ["..."] + ((n - 3)..<n).map { render(dim + 1, start + $0 * stride) }
            } else {
                parts = (0..<n).map { render(dim + 1, start + $0 * stride) }
            }
            return "[" + parts.joined(separator: dim == rank - 1 ? ", " : ",\n") + "]"
        }
        let body = rank == 0 ? fmt(values[0]) : render(0, 0)
        return "Tensor<\(Scalar.self)>\(Shape.describe(shape))\(node != nil ? " (grad)" : ""):\n\(body)"
    }
}
