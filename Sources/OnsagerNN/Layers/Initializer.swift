import OnsagerCore

/// Weight initialisers. Fan-in and fan-out default to a [fanIn, fanOut] reading of the shape;
/// layers with other layouts (Dense's [out, in], Conv2d's [out, in, kh, kw]) pass them.
public enum Initializer: Sendable {
    /// Xavier/Glorot uniform: U(−a, a), a = √(6 / (fanIn + fanOut)).
    case glorotUniform
    /// He (Kaiming) normal for ReLU: N(0, 2 / fanIn).
    case heNormal
    /// N(0, std²).
    case normal(std: Double)
    /// U(−limit, limit) whatever the fan-in (Ciresan et al. 2010 use 0.05).
    case uniform(limit: Double)
    /// All zeros.
    case zeros

    /// A tensor of `shape` drawn from this initialiser (by default fanIn = shape[0] and fanOut =
    /// the last dimension).
    public func make<S: TensorScalar>(_ shape: [Int], fanIn: Int? = nil, fanOut: Int? = nil, generator: RandomGenerator) -> Tensor<S> {
        let fanIn = fanIn ?? (shape.count > 1 ? shape[0] : 1), fanOut = fanOut ?? (shape.last ?? 1)
        switch self {
        case .glorotUniform:
            let a = S((6.0 / Double(fanIn + fanOut)).squareRoot())
            return Tensor.uniform(shape, low: -a, high: a, generator: generator)
        case .heNormal: return Tensor.normal(shape, std: S((2.0 / Double(fanIn)).squareRoot()), generator: generator)
        case let .normal(std): return Tensor.normal(shape, std: S(std), generator: generator)
        case let .uniform(limit): return Tensor.uniform(shape, low: S(-limit), high: S(limit), generator: generator)
        case .zeros: return Tensor.zeros(shape)
        }
    }
}
