// Element-type conversion. The tape is typed (a Float graph and a Double graph are separate), so
// the converted tensor's node bridges them: its backward rule converts the incoming gradient
// back and runs the source graph's backward pass from the source tensor.
extension Tensor {
    /// The values converted to element type `T` (like `torch.Tensor.to(dtype)`), recorded on the
    /// tape: `backward()` through the result reaches the source's leaves, with the gradient
    /// converted back (and recorded, for double backward, when the graph is being created).
    /// The source's part of the graph is differentiated by its own backward pass, started from
    /// the source, so: `gradients(of:wrt:)` and the function transforms (`grad`, `hvp`, …) see only
    /// paths that stay in one element type (a path through a conversion reaches `grad` fields via
    /// `backward()`); and a round trip whose source is an intermediate tensor that the outer pass
    /// also differentiates is not supported (convert leaves, as models and data are).
    /// Converting to the same type returns `self`.
    public func converted<T: TensorScalar>(to type: T.Type) -> Tensor<T> {
        if let same = self as? Tensor<T> { return same }
        let x = contiguousValue()
        let out = Tensor<T>(uninitializedShape: shape)
        let src = x.basePointer, dst = out.storage.base
        // Float ↔ Double in concrete loops: the generic T(src[i]) costs ~10 ns per element.
        if Scalar.self == Float.self && T.self == Double.self {
            Self.widen(UnsafeRawPointer(src).assumingMemoryBound(to: Float.self), UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Double.self), scalarCount)
        } else if Scalar.self == Double.self && T.self == Float.self {
            Self.narrow(UnsafeRawPointer(src).assumingMemoryBound(to: Double.self), UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self), scalarCount)
        } else {
            for i in 0..<scalarCount { dst[i] = T(src[i]) }
        }
        guard Self.tracks(self) else { return out.checked("convert") }
        let source = self
        return out.attaching("convert", []) { g in
            // The source graph may be reached again (another conversion of it): keep it.
            source.backward(seed: g.converted(to: Scalar.self), retainGraph: true, createGraph: GradMode.isEnabled)
            return []
        }.checked("convert")
    }

    private static func widen(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Double>, _ count: Int) {
        for i in 0..<count { dst[i] = Double(src[i]) }
    }

    private static func narrow(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { dst[i] = Float(src[i]) }
    }
}
