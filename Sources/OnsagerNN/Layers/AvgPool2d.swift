import OnsagerCore

/// Pooling of [N, C, H, W] images to the mean of each square window (`torch.nn.AvgPool2d`);
/// stride defaults to the kernel.
public struct AvgPool2d<Scalar: TensorScalar>: Layer {
    /// The window's side.
    public let kernel: Int
    /// The step between windows.
    public let stride: Int
    /// Pooling over `kernel`×`kernel` windows, `stride` apart (default: `kernel`).
    public init(kernel: Int, stride: Int? = nil) {
        check(kernel > 0 && (stride ?? 1) > 0, "AvgPool2d: kernel and stride must be positive")
        self.kernel = kernel
        self.stride = stride ?? kernel
    }
    /// The pooled images [N, C, OH, OW].
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { avgPool2d(x, kernel: (kernel, kernel), stride: (stride, stride)) }
    /// Nothing: pooling has no parameters.
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {}
    /// "AvgPool2d(2)".
    public var summary: String { "AvgPool2d(\(kernel)\(stride == kernel ? "" : ", stride \(stride)"))" }
}
