import COnsagerKernels

private let allocatorTuned: Bool = { onsager_tune_allocator(); return true }()

/// A 64-byte aligned buffer shared by a tensor and its views. Tensors copy it before writing
/// when it is shared (copy-on-write), so a value saved on the tape is never changed under it.
@usableFromInline package final class TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
    /// First element.
    package let base: UnsafeMutablePointer<Scalar>
    /// Number of elements allocated.
    package let count: Int
    /// The block `base` lies in, for onsager_buffer_release.
    private let block: UnsafeMutableRawPointer

    /// Allocates `count` uninitialised elements.
    package init(count: Int) {
        check(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        _ = allocatorTuned
        // Not UnsafeMutableRawPointer.allocate(alignment: 64): glibc's aligned allocation bypasses
        // its per-thread cache, which small tensors (a tiny op's every result) then miss.
        let bytes = Self.byteCount(count)
        var block: UnsafeMutableRawPointer?
        let raw = onsager_buffer_allocate(bytes, &block)
        check(raw != nil, "TensorStorage: out of memory allocating \(bytes) bytes (\(count) elements)")
        self.block = block!
        base = raw!.bindMemory(to: Scalar.self, capacity: Swift.max(count, 1))
    }

    /// Allocates `count` elements all equal to `value`.
    package convenience init(count: Int, repeating value: Scalar) {
        self.init(count: count)
        base.initialize(repeating: value, count: count)
    }

    /// The bytes a buffer of `count` elements takes (at least one element's), as allocated and
    /// as released: the allocator needs the size back to notice a heap trimmed by the release.
    private static func byteCount(_ count: Int) -> Int { Swift.max(count, 1) * MemoryLayout<Scalar>.stride }

    deinit { onsager_buffer_release(block, Self.byteCount(count)) }
}
