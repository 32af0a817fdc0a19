import OnsagerCore
import Foundation

/// An estimate of ln Z from any of the library's estimators — exact enumeration, annealed
/// importance sampling, or a mean-field / TAP / Plefka free energy at a fixed point — with its
/// uncertainty where the method has one, the method's own diagnostic, and what it cost.
public struct LogPartitionEstimate: Sendable, CustomStringConvertible {
    /// How the estimate was made, with its size.
    public enum Method: Sendable, Equatable, CustomStringConvertible {
        /// Exact: every state of the smaller layer enumerated.
        case exact(states: Int)
        /// AIS with this many runs over this many intervals.
        case annealedImportanceSampling(runs: Int, intervals: Int)
        /// −G(m*) of a Gibbs free-energy approximation after `sweeps` sweeps from each of `particles` starts.
        case meanField(approximation: String, particles: Int, sweeps: Int)

        /// "exact (1024 states)", "AIS (100 runs × 14500 intervals)", "TAP2 (1 particle, 50 sweeps)".
        public var description: String {
            switch self {
            case let .exact(n): return "exact (\(n) states)"
            case let .annealedImportanceSampling(r, k): return "AIS (\(r) runs × \(k) intervals)"
            case let .meanField(a, p, s): return "\(a) (\(p) particle\(p == 1 ? "" : "s"), \(s) sweeps)"
            }
        }
    }

    /// The method.
    public let method: Method
    /// The estimate of ln Z.
    public let logZ: Double
    /// The uncertainty band: [logZ, logZ] for exact enumeration; AIS's ±3σ̂ band of the mean
    /// importance weight (lower end −∞ when mean − 3σ̂ ≤ 0); nil for mean-field estimates, which
    /// are approximations without a statistical error (see `residual`).
    public let band: ClosedRange<Double>?
    /// The per-run or per-particle values: AIS's ln w of every run, or −G(m*) of every particle
    /// (`logZ` is their largest: the dominant fixed point); empty for exact enumeration.
    public let samples: [Double]
    /// ln Z of AIS's base model (nil for the other methods).
    public let baseLogZ: Double?
    /// For mean-field estimates, the largest stationarity residual ‖∂G/∂m‖ over the particles
    /// (small at a fixed point); nil for the other methods.
    public let residual: Double?
    /// Wall time of the estimate, in seconds.
    public let seconds: Double

    /// How far to trust an importance-sampling estimate (AIS), from the spread of its weights.
    public struct Diagnostics: Sendable, Equatable {
        /// Variance of ln w over the runs.
        public let logWeightVariance: Double
        /// Effective sample size (Σw)²/Σw², between 1 (one run carries all the weight) and the
        /// number of runs.
        public let effectiveSampleSize: Double
        /// The delta-method band in log space, ln Ẑ ± 3 std(w)/(√M mean(w)): always finite, and
        /// wide when the weights are spread out.
        public let logSpaceBand: ClosedRange<Double>
        /// Why the estimate should not be trusted; empty when nothing is wrong.
        public let warnings: [String]
        /// True when there is no warning.
        public var isReliable: Bool { warnings.isEmpty }
    }
    /// The importance-sampling diagnostics (AIS); nil for the other methods.
    public let diagnostics: Diagnostics?

    /// The smallest effective sample size, as a fraction of the runs, that `diagnostics` accepts
    /// without a warning: 10 %. (With an ESS of a handful of runs the estimate is the weight of
    /// those few, and its band says little about its error.)
    public static let minimumEffectiveSampleFraction = 0.1

    /// An estimate with all its parts.
    public init(method: Method, logZ: Double, band: ClosedRange<Double>?, samples: [Double] = [], baseLogZ: Double? = nil,
                residual: Double? = nil, diagnostics: Diagnostics? = nil, seconds: Double) {
        self.diagnostics = diagnostics
        self.method = method
        self.logZ = logZ
        self.band = band
        self.samples = samples
        self.baseLogZ = baseLogZ
        self.residual = residual
        self.seconds = seconds
    }

    /// The band's lower end (NaN without a band).
    public var logZLower: Double { band?.lowerBound ?? .nan }
    /// The band's upper end (NaN without a band).
    public var logZUpper: Double { band?.upperBound ?? .nan }
    /// AIS's ln w of every run (`samples`).
    public var logWeights: [Double] { samples }
    /// AIS's base-model ln Z (NaN for other methods).
    public var logZBase: Double { baseLogZ ?? .nan }
    /// AIS runs (0 for other methods).
    public var runs: Int { if case let .annealedImportanceSampling(r, _) = method { return r }; return 0 }
    /// AIS intervals (0 for other methods).
    public var intervals: Int { if case let .annealedImportanceSampling(_, k) = method { return k }; return 0 }

    /// "ln Z ≈ 12.3456 ± band … by AIS (100 runs × 14500 intervals), 8.1 s".
    public var description: String {
        var s = String(format: "ln Z ≈ %.4f", logZ)
        if let band, band.lowerBound != band.upperBound { s += String(format: " (±3σ band [%.4f, %.4f])", band.lowerBound, band.upperBound) }
        if let residual { s += String(format: " (residual %.1e)", residual) }
        if let d = diagnostics {
            s += String(format: "; ESS %.1f of %d, log-space band [%.4f, %.4f]", d.effectiveSampleSize, samples.count,
                        d.logSpaceBand.lowerBound, d.logSpaceBand.upperBound)
        }
        s += " by \(method), " + String(format: "%.2g s", seconds)
        if let d = diagnostics, !d.isReliable { s += "\n  UNRELIABLE: " + d.warnings.joined(separator: "; ") }
        return s
    }
}

/// The ways to estimate ln Z, for `RBM.logPartition(_:generator:)`.
public enum LogPartitionMethod<Scalar: TensorScalar> {
    /// Enumerate every state of the smaller layer (up to 2^30).
    case exact
    /// Annealed importance sampling from a base model with `baseBiases` (nil: uniform).
    case annealedImportanceSampling(AnnealedImportanceSampling, baseBiases: Tensor<Scalar>? = nil)
    /// −G(m*) of the solver's approximation at the fixed points reached from `start` (one per row).
    case meanField(TAPSolver, start: Magnetizations<Scalar>)
}

extension RBM {
    /// ln Z by `method`, as one result type whatever the method:
    ///
    /// ```swift
    /// rbm.logPartition(.exact)
    /// rbm.logPartition(.annealedImportanceSampling(AnnealedImportanceSampling(runs: 100), baseBiases: base))
    /// rbm.logPartition(.meanField(TAPSolver(order: .tap4, iterations: 200, tolerance: 1e-10), start: TAPSolver.start(from: v, model: rbm)))
    /// ```
    public func logPartition(_ method: LogPartitionMethod<Scalar>, generator: RandomGenerator = .current) -> LogPartitionEstimate {
        let started = Date()
        switch method {
        case .exact:
            let z = exactLogPartition()
            return LogPartitionEstimate(method: .exact(states: 1 << Swift.min(visibleCount, hiddenCount)), logZ: z, band: z...z,
                                        seconds: Date().timeIntervalSince(started))
        case let .annealedImportanceSampling(ais, base):
            return ais.logPartition(of: self, baseBiases: base, generator: generator)
        case let .meanField(solver, start):
            let (m, report) = withoutGrad { solver.solve(self, from: start) }
            let values = withoutGrad { negativeGibbsFreeEnergy(m, approximation: solver.approximation) }.scalars.map { Double($0) }
            let residual = solver.residual(self, at: m).scalars.map { Double($0) }.max() ?? .nan
            return LogPartitionEstimate(method: .meanField(approximation: solver.approximation.description, particles: values.count, sweeps: report.sweeps),
                                        logZ: values.max() ?? .nan, band: nil, samples: values, residual: residual,
                                        seconds: Date().timeIntervalSince(started))
        }
    }
}

/// The normalised importance weights w = exp(ln w − top) of a set of runs and their moments,
/// shared by AIS's estimate and its diagnostics.
struct ImportanceWeights {
    /// ln w of every run, and the largest of them.
    let logWeights: [Double], top: Double
    /// exp(ln w − top).
    let weights: [Double]
    /// Mean of the normalised weights, their sample standard deviation and its standard error.
    let mean: Double, standardDeviation: Double, standardError: Double

    init(_ logWeights: [Double]) {
        let m = Double(logWeights.count)
        self.logWeights = logWeights
        let top = logWeights.max() ?? 0
        let weights = logWeights.map { Foundation.exp($0 - top) }
        let mean = weights.reduce(0, +) / m
        (self.top, self.weights, self.mean) = (top, weights, mean)
        standardDeviation = (weights.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Swift.max(m - 1, 1)).squareRoot()
        standardError = standardDeviation / m.squareRoot()
    }
}

extension LogPartitionEstimate.Diagnostics {
    /// The diagnostics of ln Ẑ = `offset` + ln mean(exp(logWeights)).
    static func importanceSampling(logWeights: [Double], offset: Double) -> Self {
        importanceSampling(ImportanceWeights(logWeights), offset: offset)
    }

    static func importanceSampling(_ w: ImportanceWeights, offset: Double) -> Self {
        let m = Double(w.logWeights.count)
        let sum = w.weights.reduce(0, +), sumSquares = w.weights.map { $0 * $0 }.reduce(0, +)
        let ess = sum * sum / sumSquares
        let meanLog = w.logWeights.reduce(0, +) / m
        let logVariance = w.logWeights.map { ($0 - meanLog) * ($0 - meanLog) }.reduce(0, +) / Swift.max(m - 1, 1)
        let logZ = offset + w.top + Foundation.log(w.mean), halfWidth = 3 * w.standardError / w.mean
        var warnings: [String] = []
        if ess < LogPartitionEstimate.minimumEffectiveSampleFraction * m {
            warnings.append(String(format: "effective sample size %.1f is below %.0f%% of the %d runs: a few runs carry the estimate",
                                   ess, 100 * LogPartitionEstimate.minimumEffectiveSampleFraction, w.logWeights.count))
        }
        if w.mean - 3 * w.standardError <= 0 {
            warnings.append("the ±3σ band is unbounded below (the weights' spread exceeds their mean)")
        }
        return Self(logWeightVariance: logVariance, effectiveSampleSize: ess, logSpaceBand: (logZ - halfWidth)...(logZ + halfWidth), warnings: warnings)
    }
}
