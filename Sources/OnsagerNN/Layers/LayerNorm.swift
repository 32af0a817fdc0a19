import OnsagerCore

/// Layer normalisation over the last dimension with a learned scale and shift.
public struct LayerNorm<Scalar: TensorScalar>: Layer {
    public var scale: Tensor<Scalar>, shift: Tensor<Scalar>
    public let epsilon: Double
    public var isTraining = true
    public init(size: Int, epsilon: Double = 1e-5) {
        scale = Tensor<Scalar>.ones([size]).requiringGrad()
        shift = Tensor<Scalar>.zeros([size]).requiringGrad()
        self.epsilon = epsilon
    }
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let mean = x.mean(axis: -1, keepDims: true)
        let v = x.variance(axes: [-1], keepDims: true)
        return (x - mean) / (v + Scalar(epsilon)).sqrt() * scale + shift
    }
    public var parameterNames: [String] { ["weight", "bias"] }
    public var parameters: [Tensor<Scalar>] {
        get { [scale, shift] }
        set { scale = newValue[0]; shift = newValue[1] }
    }
}
