import Foundation
import Onsager

/// `rbm-epoch-bound`: the RBM target ("rbm-epoch-10k within 15 % of its FLOP bound") measured in
/// one process. `compare.py` times the epoch, its GEMMs and the sgemm cases minutes apart, and on
/// a shared host whose speed drifts by 10–30 % the ratio it prints moved from 1.15× to 1.32× with
/// the same binary. Here each round alternates rate windows with the two workloads: rate, one
/// epoch, rate, the epoch's GEMMs alone, rate (epoch and GEMMs swap places every other round).
/// A window's rate is the best of the five `sgemm-*` cases (as `compare.py`'s bound takes the
/// run's best sgemm rate), and each workload is held against the mean of the two windows around
/// it, so a drift that is linear over the workload cancels. The bound is the epoch's FLOPs
/// (`rbmEpochFLOPs`) at that rate. Reported: the median over the rounds of epoch ÷ bound (the
/// target's ratio), of epoch ÷ its GEMMs (what the rest of the epoch costs) and of the GEMMs ÷
/// bound, with quartiles, and the median epoch time and rate.
func benchRBMEpochBound(threads: Int) {
    let epoch = rbmEpochWorkload(), gemms = rbmEpochGEMMsWorkload()
    let shapes = sgemmCases.map { c in
        (work: 2e-9 * Double(c.m * c.n * c.k), call: sgemmWorkload(m: c.m, n: c.n, k: c.k, transA: c.transA, transB: c.transB))
    }
    // Calls per rate window of about 0.1 s per shape, sized once.
    let calls = shapes.map { shape -> Int in
        for _ in 0..<3 { shape.call() }
        return callsPerWindow(0.1, shape.call)
    }
    func bestRate() -> Double {
        zip(shapes, calls).map { shape, n in Double(n) * shape.work / seconds { for _ in 0..<n { shape.call() } } }.max()!
    }
    _ = epoch(100)
    gemms()
    let rounds = 9
    var toBound: [Double] = [], toGEMMs: [Double] = [], gemmsToBound: [Double] = [], times: [Double] = [], rates: [Double] = []
    for round in 0..<rounds {
        // Epoch first in even rounds, its GEMMs first in odd ones; each against the windows around it.
        let epochFirst = round % 2 == 0
        let r0 = bestRate()
        let first = epochFirst ? epoch(UInt64(round)) : seconds(gemms)
        let r1 = bestRate()
        let second = epochFirst ? seconds(gemms) : epoch(UInt64(round))
        let r2 = bestRate()
        let (e, eRate) = epochFirst ? (first, (r0 + r1) / 2) : (second, (r1 + r2) / 2)
        let (g, gRate) = epochFirst ? (second, (r1 + r2) / 2) : (first, (r0 + r1) / 2)
        toBound.append(e / (rbmEpochFLOPs / (eRate * 1e9)))
        gemmsToBound.append(g / (rbmEpochFLOPs / (gRate * 1e9)))
        toGEMMs.append(e / g)
        times.append(e)
        rates.append(eRate)
    }
    func rounded(_ x: Double, _ places: Double = 1000) -> Double { (x * places).rounded() / places }
    func quartiles(_ v: [Double]) -> [Double] { [rounded(quantile(v, 0.25)), rounded(quantile(v, 0.75))] }
    emit("rbm-epoch-bound", threads: threads, value: quantile(toBound, 0.5), unit: "x FLOP bound",
         extra: ["quartiles": quartiles(toBound),
                 "over_gemms": rounded(quantile(toGEMMs, 0.5)), "over_gemms_quartiles": quartiles(toGEMMs),
                 "gemms_over_bound": rounded(quantile(gemmsToBound, 0.5)), "gemms_over_bound_quartiles": quartiles(gemmsToBound),
                 "epoch_s": rounded(quantile(times, 0.5)), "gemm_GFLOPS": rounded(quantile(rates, 0.5), 10),
                 "rounds": rounds])
}
