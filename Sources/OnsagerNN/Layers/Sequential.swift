import OnsagerCore

/// Layers applied in order; their contents are named "<index>.<name>" ("0.weight"), as in
/// `torch.nn.Sequential`.
public struct Sequential<Scalar: TensorScalar>: Layer {
    /// The layers, applied first to last.
    public var layers: [any Layer<Scalar>]
    /// Layers applied in the given order.
    public init(_ layers: [any Layer<Scalar>]) { self.layers = layers }
    /// The output of the last layer. A `Dense` followed by a ReLU `Activation` runs as one op,
    /// `linearReLU` (the GEMM applies the ReLU as it stores the output), and a `Conv2d` followed
    /// by one as `conv2dReLU` (each image's output gets its ReLU while in cache), or with a
    /// `MaxPool2d` after them as one op that also pools each image in cache: the same values and
    /// gradients, fewer passes over the output and one tape node instead of two or three. Under
    /// `AnomalyDetection` the layers run as separate ops, so that a non-finite pre-activation (−∞,
    /// which the ReLU would turn into 0) is still reported, at "linear" or "conv2d".
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        var y = x, i = 0
        let fuse = !AnomalyDetection.isEnabled
        while i < layers.count {
            if fuse, i + 1 < layers.count, let dense = layers[i] as? Dense<Scalar>,
               let activation = layers[i + 1] as? Activation<Scalar>, case .relu = activation.kind {
                y = linearReLU(y, weight: dense.weight, bias: dense.bias)
                i += 2
            } else if fuse, i + 1 < layers.count, let conv = layers[i] as? Conv2d<Scalar>,
                      let activation = layers[i + 1] as? Activation<Scalar>, case .relu = activation.kind {
                if i + 2 < layers.count, let pool = layers[i + 2] as? MaxPool2d<Scalar> {
                    y = conv2dReLUMaxPool(y, weight: conv.weight, bias: conv.bias, stride: conv.stride, padding: conv.padding,
                                          poolKernel: (pool.kernel, pool.kernel), poolStride: (pool.stride, pool.stride))
                    i += 3
                } else {
                    y = conv2dReLU(y, weight: conv.weight, bias: conv.bias, stride: conv.stride, padding: conv.padding)
                    i += 2
                }
            } else {
                y = layers[i](y)
                i += 1
            }
        }
        return y
    }
    /// Each layer as the child named by its index.
    public mutating func visit<V: ModuleVisitor>(_ v: inout V) where V.Scalar == Scalar {
        for i in layers.indices { layers[i].accept(as: String(i), by: &v) }
    }
}
