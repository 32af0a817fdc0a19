import OnsagerCore

/// Splitting and scaling of row-major datasets ([n, features] tensors).
public enum Preprocessing {
    /// A seeded random split of rows into training and validation parts (same rows of x and y).
    public static func trainValidationSplit<S: TensorScalar>(_ x: Tensor<S>, _ y: Tensor<S>, validationFraction: Double,
                                                            generator: RandomGenerator) -> (train: (Tensor<S>, Tensor<S>), validation: (Tensor<S>, Tensor<S>)) {
        check(x.shape[0] == y.shape[0], "trainValidationSplit: \(x.shape[0]) inputs but \(y.shape[0]) targets")
        check(validationFraction > 0 && validationFraction < 1, "trainValidationSplit: fraction must lie in (0, 1), got \(validationFraction)")
        let n = x.shape[0], nv = Swift.max(1, Int((Double(n) * validationFraction).rounded()))
        let order = generator.permutation(n)
        let v = Array(order[0..<nv]), t = Array(order[nv...])
        return ((x.indexSelect(axis: 0, indices: t), y.indexSelect(axis: 0, indices: t)),
                (x.indexSelect(axis: 0, indices: v), y.indexSelect(axis: 0, indices: v)))
    }

    /// Per-feature affine scaling fitted on one set and applied to others (fit on training data only).
    public struct Scaler<S: TensorScalar> {
        /// Subtracted from each column first.
        public let shift: Tensor<S>
        /// Each column is then divided by this.
        public let scale: Tensor<S>
        /// Zero mean and unit variance per column (constant columns are left unscaled).
        public static func standard(fitting x: Tensor<S>) -> Scaler {
            let mean = withoutGrad { x.mean(axis: 0) }
            let std = withoutGrad { x.variance(axes: [0]).sqrt() }
            return Scaler(shift: mean, scale: Tensor(std.scalars.map { $0 > 0 ? $0 : 1 }))
        }
        /// Columns mapped to [0, 1] by their minimum and maximum.
        public static func minMax(fitting x: Tensor<S>) -> Scaler {
            let lo = withoutGrad { x.min(axis: 0) }, hi = withoutGrad { x.max(axis: 0) }
            return Scaler(shift: lo, scale: Tensor(zip(lo.scalars, hi.scalars).map { $1 > $0 ? $1 - $0 : 1 }))
        }
        /// (x − shift) / scale.
        public func transform(_ x: Tensor<S>) -> Tensor<S> { (x - shift) / scale }
    }
}
