// # Tutorial 05 — When regularization fails: the ridge danger zone on Spambase
//
// Run:  swift run -c release 05-ridge-danger-zone [--repeats R] [--data PATH]
//
// The claim under test: ridge (Tikhonov) regression with a vanishing regularizer (λ = 1e−6) fails
// catastrophically when the number of training instances N approaches the number of features p
// (Spambase: p = 57), because the variance factor Σ 1/sᵢ² of least squares blows up as the smallest
// singular value of the design matrix goes to zero; logistic regression "bounces back"; and GCV,
// the L-curve and truncated SVD are the tools for choosing λ.
//
// Protocol: a fixed, random held-out test set of 1000 e-mails; for each N, R random training
// subsets of the other 3601 (R ≥ 50); ridge with an unpenalized intercept on the raw features,
// regressing the 0/1 label and classifying at 0.5; logistic regression with C = 1 (scikit-learn's
// default objective) fitted by Newton's method. Everything in Double: Float32 normal equations
// wreck small N (and the SVD route avoids normal equations altogether).

import Foundation
import Onsager
import OnsagerCommandLine

Console.useLineBuffering()
var options = CommandLineOptions(program: "05-ridge-danger-zone", summary: "ridge vs logistic regression on Spambase as N sweeps past p = 57")
let repeats = options.value("--repeats", default: 50, help: "random training subsets per N", valid: { $0 >= 1 }, "a positive integer")
let dataPath = options.path("--data", help: "Spambase folder (default: $ONSAGER_DATA/spambase, ../shared/data/spambase)")
options.finish()

// ## 1. Data
let rows: [[Double]] = exitOnError("cannot load Spambase") {
    let path = (try DatasetLocator.locate("spambase", containing: "spambase.data", explicit: dataPath) as NSString)
        .appendingPathComponent("spambase.data")
    let rows = try CSV.read(path)
    print("Spambase from \(path): \(rows.count) e-mails × \(rows[0].count - 1) features")
    return rows
}
let p = rows[0].count - 1
let g = RandomGenerator(seed: 57)
let order = g.permutation(rows.count)
let testIdx = Array(order[0..<1000]), poolIdx = Array(order[1000...])
func design(_ idx: [Int]) -> (Tensor<Double>, [Double]) {
    (Tensor(shape: [idx.count, p], scalars: idx.flatMap { rows[$0][0..<p] }), idx.map { rows[$0][p] })
}
let (xTest, yTest) = design(testIdx)
func accuracy(_ scores: [Double], _ y: [Double]) -> Double {
    Double(zip(scores, y).filter { ($0.0 > 0.5 ? 1.0 : 0.0) == $0.1 }.count) / Double(y.count)
}

// ## 2. The sweep over N
let ns = [20, 30, 40, 45, 50, 52, 54, 55, 56, 57, 58, 59, 60, 62, 65, 70, 80, 100, 150, 200, 300, 500, 1000, 2000, 3601]
print("\n\(repeats) random training sets per N; test set of 1000; ridge λ = 1e-6 (intercept unpenalized) vs logistic regression C = 1\n")
print("    N   ridge acc   ridge test MSE (median)   rank (median)   Σ1/s² (median)   logistic acc")
struct Point {
    var n: Int; var ridgeAcc: Double; var ridgeMSE: Double; var logAcc: Double; var rank: Double; var variance: Double
    // The spread over the random training sets: 10th and 90th percentiles (the figures' bands).
    var ridgeAccBand: (Double, Double); var logAccBand: (Double, Double); var ridgeMSEBand: (Double, Double)
}
var points: [Point] = []
var failures = 0
let start = Date()
for n in ns {
    var ra: [Double] = [], rm: [Double] = [], la: [Double] = [], ranks: [Double] = [], vf: [Double] = []
    let reps = n == poolIdx.count ? 1 : repeats
    for r in 0..<reps {
        let rg = RandomGenerator(seed: UInt64(1000 * n + r))
        let idx = Array(rg.permutation(poolIdx.count).prefix(n)).map { poolIdx[$0] }
        let (x, y) = design(idx)
        guard let ridge = try? RidgeSVD(x: x, y: Tensor(y)) else { failures += 1; continue }
        let pred = ridge.fit(lambda: 1e-6).predict(xTest)
        ra.append(accuracy(pred, yTest))
        rm.append(zip(pred, yTest).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(yTest.count))
        ranks.append(Double(ridge.s.filter { $0 > 1e-10 * ridge.s[0] }.count))
        vf.append(ridge.varianceFactor)
        var lr = LogisticRegression(c: 1)
        if (try? lr.fit(x: x, y: y)) != nil { la.append(accuracy(lr.probabilities(xTest), yTest)) } else { failures += 1 }
    }
    func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(Swift.max(v.count, 1)) }
    func median(_ v: [Double]) -> Double { let s = v.sorted(); return s.isEmpty ? .nan : s[s.count / 2] }
    func percentiles(_ v: [Double]) -> (Double, Double) {
        let s = v.sorted()
        return s.isEmpty ? (.nan, .nan) : (s[Int(0.1 * Double(s.count - 1))], s[Int((0.9 * Double(s.count - 1)).rounded(.up))])
    }
    let pt = Point(n: n, ridgeAcc: mean(ra), ridgeMSE: median(rm), logAcc: mean(la), rank: median(ranks), variance: median(vf),
                   ridgeAccBand: percentiles(ra), logAccBand: percentiles(la), ridgeMSEBand: percentiles(rm))
    points.append(pt)
    print(String(format: "  %4d    %.3f        %12.3g              %4.0f         %10.3g        %.3f", n, pt.ridgeAcc, pt.ridgeMSE, pt.rank, pt.variance, pt.logAcc))
}
print(String(format: "\nsweep took %.0f s; %d fit(s) failed", Date().timeIntervalSince(start), failures))
let bottom = points.min { $0.ridgeAcc < $1.ridgeAcc }!
print(String(format: "ridge accuracy bottoms out at N = %d (%.3f); logistic regression there: %.3f", bottom.n, bottom.ridgeAcc, bottom.logAcc))
print(String(format: "key result: ridge (λ = 1e-6) bottoms out at N = %d with accuracy %.3f; logistic regression %.3f there", bottom.n, bottom.ridgeAcc, bottom.logAcc))

// ## 3. Why the bottom is not exactly at N = 57
// Random subsets of Spambase are rank-deficient: rare-word columns are all zero in a small
// sample, some features are collinear, and some e-mails are duplicates. The design matrix (with
// the intercept's centring) reaches full rank only at larger N, so the least-squares system is
// square — and the variance factor largest — a few instances before N = 57.
for n in [50, 54, 56, 57, 60, 80] {
    let rg = RandomGenerator(seed: UInt64(1000 * n))
    let idx = Array(rg.permutation(poolIdx.count).prefix(n)).map { poolIdx[$0] }
    let (x, _) = design(idx)
    let zeroCols = (0..<p).filter { j in idx.allSatisfy { rows[$0][j] == 0 } }.count
    let unique = Set(idx.map { rows[$0] }).count
    let centered = x - x.mean(axis: 0, keepDims: true)
    print(String(format: "  N = %2d: %2d all-zero columns, %2d distinct e-mails, rank of the centred design %d of %d", n, zeroCols, unique,
                 try! Linalg.matrixRank(centered), p))
}

// ## 4. Choosing λ at N = 57 and at the largest N: GCV, the L-curve corner, truncated SVD
// (With 1000 e-mails held out for testing, the largest training set is 3601, not 4000.)
let grid = (0..<161).map { Foundation.pow(10, -8 + Double($0) * 0.1) }
var lcurvePlot = LinePlot(title: "L-curve (ridge on Spambase)", xLabel: "residual norm ‖y − Xw‖", yLabel: "solution norm ‖w‖", logX: true, logY: true)
var spectrumPlot = LinePlot(title: "Singular values of the centred design", xLabel: "index", yLabel: "singular value", logY: true)
print("\n  N       λ (GCV)     λ (L-curve)   TSVD rank (GCV)   test accuracy: λ=1e-6 / GCV / L-curve / TSVD")
for n in [57, 4000] {
    let rg = RandomGenerator(seed: 4242 &+ UInt64(n))
    let count = Swift.min(n, poolIdx.count)
    let idx = Array(rg.permutation(poolIdx.count).prefix(count)).map { poolIdx[$0] }
    let (x, y) = design(idx)
    let ridge = try! RidgeSVD(x: x, y: Tensor(y))
    let lg = ridge.gcvChoice(grid: grid), lc = ridge.lCurveCorner(grid: grid), k = ridge.tsvdGCVChoice()
    let accs = [ridge.fit(lambda: 1e-6), ridge.fit(lambda: lg), ridge.fit(lambda: lc), ridge.fit(rank: k)].map { accuracy($0.predict(xTest), yTest) }
    print(String(format: "  %4d   %10.3g   %10.3g        %3d             %.3f / %.3f / %.3f / %.3f", count, lg, lc, k, accs[0], accs[1], accs[2], accs[3]))
    let curve = ridge.lCurve(grid: grid)
    lcurvePlot.add("N = \(count)", x: curve.map(\.residual), y: curve.map(\.solution))
    let corner = ridge.lCurve(grid: [lc])[0]
    lcurvePlot.add("corner, N = \(count) (λ = \(String(format: "%.2g", lc)))", x: [corner.residual], y: [corner.solution], markers: true)
    let sv = ridge.s   // exact zeros stay in: the log axis cannot show them and its legend says how many
    spectrumPlot.add("N = \(count)", x: (1...sv.count).map(Double.init), y: sv, markers: true)
}

// ## 5. Figures
let outDir = OutputFolder.url("05-ridge-danger-zone")
do {
    var acc = LinePlot(title: "Test accuracy vs training-set size (Spambase, p = 57)", xLabel: "N (training instances)", yLabel: "accuracy", logX: true)
    acc.add("ridge, λ = 1e-6 (band: 10th–90th percentile over training sets)", x: points.map { Double($0.n) }, y: points.map(\.ridgeAcc), markers: true,
            band: (points.map(\.ridgeAccBand.0), points.map(\.ridgeAccBand.1)))
    acc.add("logistic regression, C = 1", x: points.map { Double($0.n) }, y: points.map(\.logAcc), markers: true,
            band: (points.map(\.logAccBand.0), points.map(\.logAccBand.1)))
    try acc.write(to: outDir.appendingPathComponent("accuracy-vs-n.svg"))
    var mse = LinePlot(title: "Ridge test MSE (median) vs N", xLabel: "N", yLabel: "test MSE", logX: true, logY: true)
    mse.add("ridge, λ = 1e-6 (median; band: 10th–90th percentile)", x: points.map { Double($0.n) }, y: points.map(\.ridgeMSE), markers: true,
            band: (points.map(\.ridgeMSEBand.0), points.map(\.ridgeMSEBand.1)))
    try mse.write(to: outDir.appendingPathComponent("mse-vs-n.svg"))
    try spectrumPlot.write(to: outDir.appendingPathComponent("singular-values.svg"))
    try lcurvePlot.write(to: outDir.appendingPathComponent("l-curve.svg"))
    print("\nfigures written to \(outDir.path)/ (accuracy-vs-n, mse-vs-n, singular-values, l-curve)")
} catch { print("could not write figures: \(error)"); exit(1) }

// ## 6. What the data support
// - Supported: with λ → 0, ridge collapses near N ≈ p. Accuracy falls from ≈ 0.75 at N = 20 to a
//   floor of ≈ 0.59 over N ≈ 54–57 and recovers to ≈ 0.88 by N ≈ 1000; the test MSE peaks in the
//   hundreds; the variance factor Σ 1/sᵢ² grows by five to six orders of magnitude on the way in.
// - Qualified: the failure point is where the *centred, rank-deficient* design becomes square,
//   a few instances before N = 57 (all-zero rare-word columns, collinear features, duplicate
//   e-mails, and the intercept's centring each remove a dimension) — not N = p exactly.
// - Qualified: logistic regression does not "bounce back" from a dip; with C = 1 it has no dip
//   at all (≈ 0.83–0.85 across the danger zone), because its L2 penalty is not vanishing.
// - Supported with a caveat: GCV (λ ≈ 20) and GCV-chosen truncated SVD (≈ 18 components)
//   rescue N = 57; the L-curve's maximum-curvature corner picks a λ that is still too small here.
print("""

verdict: the danger zone is real (accuracy floor ≈ 0.59, MSE in the hundreds, variance factor up
by 5–6 orders); it sits at N ≈ 54–57, where the centred, rank-deficient design becomes square,
not at N = 57 exactly; logistic regression (C = 1) has no dip rather than a bounce back; GCV and
TSVD choose useful regularisation at N = 57, the L-curve corner does not.
""")
