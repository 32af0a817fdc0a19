import OnsagerCore

/// Loss functions, differentiable through the tape; each names its inputs' shapes on mismatch.
public enum Loss {
    static func reduce<S>(_ t: Tensor<S>, _ r: Reduction) -> Tensor<S> {
        switch r { case .mean: return t.mean(); case .sum: return t.sum(); case .none: return t }
    }
    static func same<S>(_ a: Tensor<S>, _ b: Tensor<S>, _ op: String) {
        check(a.shape == b.shape, "\(op): predictions \(a.shape) and targets \(b.shape) differ")
    }

    /// Mean squared error.
    public static func meanSquaredError<S>(_ prediction: Tensor<S>, _ target: Tensor<S>, reduction: Reduction = .mean) -> Tensor<S> {
        same(prediction, target, "meanSquaredError")
        let d = prediction - target
        return reduce(d * d, reduction)
    }

    /// Binary cross-entropy from probabilities (clamped to [ε, 1 − ε] before the log, as PyTorch clamps log at −100).
    public static func binaryCrossEntropy<S>(probabilities p: Tensor<S>, _ target: Tensor<S>, reduction: Reduction = .mean) -> Tensor<S> {
        same(p, target, "binaryCrossEntropy")
        let logp = p.log().clamped(min: -100), log1mp = (1 - p).log().clamped(min: -100)
        return reduce(-(target * logp + (1 - target) * log1mp), reduction)
    }

    /// Binary cross-entropy from logits z: softplus(z) − t·z, stable for any |z|.
    public static func binaryCrossEntropy<S>(logits z: Tensor<S>, _ target: Tensor<S>, reduction: Reduction = .mean) -> Tensor<S> {
        same(z, target, "binaryCrossEntropy")
        return reduce(z.softplus() - target * z, reduction)
    }

    /// Negative log-likelihood of class indices given log-probabilities [n, classes].
    public static func negativeLogLikelihood<S>(logProbabilities lp: Tensor<S>, labels: [Int], reduction: Reduction = .mean) -> Tensor<S> {
        check(lp.rank == 2 && lp.shape[0] == labels.count, "negativeLogLikelihood: log-probabilities \(lp.shape) for \(labels.count) labels")
        return reduce(-lp.gathering(alongAxis: 1, indices: labels).squeezed(1), reduction)
    }

    /// Softmax cross-entropy from logits [n, classes] and class indices (log-softmax + NLL, stable).
    public static func softmaxCrossEntropy<S>(logits: Tensor<S>, labels: [Int], reduction: Reduction = .mean) -> Tensor<S> {
        negativeLogLikelihood(logProbabilities: logits.logSoftmax(axis: 1), labels: labels, reduction: reduction)
    }

    /// L1 penalty Σ|w| over the tensors.
    public static func l1Penalty<S>(_ tensors: [Tensor<S>]) -> Tensor<S> { tensors.map { $0.abs().sum() }.reduce(Tensor(0), +) }
    /// L2 penalty ½ Σ w² over the tensors.
    public static func l2Penalty<S>(_ tensors: [Tensor<S>]) -> Tensor<S> { tensors.map { ($0 * $0).sum() }.reduce(Tensor(0), +) * 0.5 }
}
