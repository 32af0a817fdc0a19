/// Stops training when a metric has not improved for `patience` epochs (Keras' `EarlyStopping`).
/// Its state is read off the loop's history, so a resumed run stops where the uninterrupted
/// one would have.
public struct EarlyStopping: Sendable {
    /// Which direction is better.
    public enum Goal: Sendable {
        /// Lower is better (losses).
        case minimize
        /// Higher is better (accuracies).
        case maximize
    }
    /// The metric watched: "loss" (the training loss), "val_loss", or a name `evaluate` returns.
    public var metric: String
    /// Epochs without improvement tolerated before stopping.
    public var patience: Int
    /// The smallest change that counts as an improvement.
    public var minDelta: Double
    /// Whether lower or higher is better.
    public var goal: Goal
    /// Whether to put back the parameters and buffers of the best epoch when early stopping ends
    /// training (a `fit` that reaches its last epoch leaves the last epoch's, so training in
    /// several `fit` calls never rewinds). Training checkpoints keep the best epoch's state.
    public var restoreBest: Bool

    /// Stop after `patience` epochs in which `metric` did not improve by more than `minDelta`.
    public init(metric: String = "val_loss", patience: Int = 5, minDelta: Double = 0, goal: Goal = .minimize, restoreBest: Bool = true) {
        precondition(patience >= 0, "EarlyStopping: patience must be non-negative")
        self.metric = metric; self.patience = patience; self.minDelta = minDelta; self.goal = goal; self.restoreBest = restoreBest
    }

    /// The value of the watched metric in a record (stops with the available names if absent).
    func value(in record: EpochRecord) -> Double {
        if metric == "loss" { return record.loss }
        guard let v = record.metrics.first(where: { $0.0 == metric })?.1 else {
            preconditionFailure("EarlyStopping: no metric '\(metric)' after epoch \(record.epoch); available: loss, \(record.metrics.map(\.0).joined(separator: ", "))")
        }
        return v
    }

    /// The epoch (index into `history`) with the best value so far.
    func bestIndex(_ history: [EpochRecord]) -> Int? {
        var best: Int?
        for (i, r) in history.enumerated() {
            let v = value(in: r)
            guard let b = best else { best = i; continue }
            let bv = value(in: history[b])
            if goal == .minimize ? v < bv - minDelta : v > bv + minDelta { best = i }
        }
        return best
    }

    /// Whether training should stop after the last epoch of `history`.
    func shouldStop(_ history: [EpochRecord]) -> Bool {
        guard let b = bestIndex(history) else { return false }
        return history.count - 1 - b >= patience
    }
}
