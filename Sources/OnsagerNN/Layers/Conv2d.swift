import OnsagerCore

/// 2-D convolution of [N, C, H, W] images (`torch.nn.Conv2d`): weight [out, in, kh, kw] and
/// bias [out], named and laid out as PyTorch stores them. Computed as windows × weight rows
/// on the GEMM.
public struct Conv2d<Scalar: TensorScalar>: Layer {
    /// W, shape [outChannels, inChannels, kh, kw] ("weight").
    public var weight: Tensor<Scalar>
    /// b, shape [outChannels] ("bias"), or nil.
    public var bias: Tensor<Scalar>?
    /// Step between windows.
    public let stride: (height: Int, width: Int)
    /// Zeros added on each side.
    public let padding: (height: Int, width: Int)

    /// A convolution with a square `kernel`; W is drawn from `initializer` with fan-in
    /// in·k·k (PyTorch's default is Kaiming-uniform with a = √5; Glorot uniform is used here).
    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                initializer: Initializer = .glorotUniform, generator: RandomGenerator = .current) {
        check(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0,
              "Conv2d: channels, kernel and stride must be positive and padding non-negative")
        let fanIn = inChannels * kernel * kernel, fanOut = outChannels * kernel * kernel
        weight = initializer.make([outChannels, inChannels, kernel, kernel], fanIn: fanIn, fanOut: fanOut, generator: generator).requiringGrad()
        self.bias = bias ? Tensor<Scalar>.zeros([outChannels]).requiringGrad() : nil
        self.stride = (stride, stride)
        self.padding = (padding, padding)
    }

    /// The convolution of `x` [N, in, H, W]: [N, out, OH, OW].
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }
    /// "weight" and, with a bias, "bias".
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {
        v.parameter("weight", &weight)
        v.parameter("bias", &bias)
    }
    /// "Conv2d(1 → 16, kernel 3, stride 1, padding 1)".
    public var summary: String {
        "Conv2d(\(weight.shape[1]) → \(weight.shape[0]), kernel \(weight.shape[2]), stride \(stride.height), padding \(padding.height)\(bias == nil ? ", no bias" : ""))"
    }
}
