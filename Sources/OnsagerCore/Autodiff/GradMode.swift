import COnsagerTape

/// Whether operations are recorded on the tape. The switch is per thread: a `withoutGrad`
/// scope on one thread does not affect graphs being built on another.
public enum GradMode {
    /// True when new operations on tensors that require gradients are recorded.
    @inlinable public static var isEnabled: Bool { onsager_grad_enabled() != 0 }
}

/// Runs `body` with recording switched off (like `torch.no_grad()`): results do not require
/// gradients and no graph is kept. Scopes nest and restore the previous state.
@discardableResult
public func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
    try withGradEnabled(false, body)
}

/// Runs `body` with recording switched on or off, restoring the previous state afterwards.
@discardableResult
public func withGradEnabled<R>(_ enabled: Bool, _ body: () throws -> R) rethrows -> R {
    let previous = onsager_set_grad_enabled(enabled ? 1 : 0)
    defer { onsager_set_grad_enabled(previous) }
    return try body()
}
