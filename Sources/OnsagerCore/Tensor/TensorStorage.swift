import COnsagerKernels

private let allocatorTuned: Bool = { onsager_tune_allocator(); return true }()

/// Where a storage's elements are, and the separate block that holds them when they are not in
/// the object itself.
@usableFromInline package struct TensorStorageHeader<Scalar: TensorScalar> {
    /// First element, 64-byte aligned.
    @usableFromInline let base: UnsafeMutablePointer<Scalar>
    /// Number of elements allocated.
    @usableFromInline let count: Int
    /// The block `base` lies in when it was allocated apart (large tensors), for
    /// onsager_buffer_release; nil when the elements follow the header in the object.
    let block: UnsafeMutableRawPointer?
}

/// A 64-byte aligned buffer shared by a tensor and its views. Tensors copy it before writing
/// when it is shared (copy-on-write), so a value saved on the tape is never changed under it.
///
/// Small buffers live in the storage object itself, after its header: one allocation and one
/// free per tensor instead of two, which a tiny op's every result pays. Large ones are a block
/// of their own, so that running out of memory is reported with the size asked for.
@usableFromInline package final class TensorStorage<Scalar: TensorScalar>: ManagedBuffer<TensorStorageHeader<Scalar>, Scalar> {
    // Read through the header's address: `header` itself is a class property, whose every
    // access would pay a dynamic exclusivity check.
    /// First element.
    @inlinable package var base: UnsafeMutablePointer<Scalar> { withUnsafeMutablePointerToHeader { $0.pointee.base } }
    /// Number of elements allocated.
    @inlinable package var count: Int { withUnsafeMutablePointerToHeader { $0.pointee.count } }

    /// The largest buffer, in bytes, kept inside the object.
    static var inlineLimit: Int { 4096 }

    /// Allocates `count` uninitialised elements.
    package static func make(count: Int) -> TensorStorage {
        check(count >= 0, "TensorStorage: negative element count \(count)")
        _ = allocatorTuned
        let stride = MemoryLayout<Scalar>.stride
        let bytes = Swift.max(count, 1) * stride
        if bytes <= inlineLimit {
            // 64 bytes more than asked, to start the elements on a 64-byte boundary.
            let object = create(minimumCapacity: Swift.max(count, 1) + 64 / stride) { buffer in
                let tail = buffer.withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) }
                let aligned = tail.alignedUp(toMultipleOf: 64).bindMemory(to: Scalar.self, capacity: Swift.max(count, 1))
                return TensorStorageHeader(base: aligned, count: count, block: nil)
            }
            return unsafeDowncast(object, to: TensorStorage.self)
        }
        // Not UnsafeMutableRawPointer.allocate(alignment: 64): glibc's aligned allocation bypasses
        // its per-thread cache.
        var block: UnsafeMutableRawPointer?
        let raw = onsager_buffer_allocate(bytes, &block)
        check(raw != nil, "TensorStorage: out of memory allocating \(bytes) bytes (\(count) elements)")
        let base = raw!.bindMemory(to: Scalar.self, capacity: Swift.max(count, 1))
        let object = create(minimumCapacity: 0) { _ in TensorStorageHeader(base: base, count: count, block: block) }
        return unsafeDowncast(object, to: TensorStorage.self)
    }

    deinit {
        // The elements are plain scalars: nothing to deinitialise, only a separate block to free.
        if let block = withUnsafeMutablePointerToHeader({ $0.pointee.block }) { onsager_buffer_release(block) }
    }
}
