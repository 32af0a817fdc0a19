import Foundation
import Onsager

/// `rbm-epoch-bound`: the RBM target ("rbm-epoch-10k within 15 % of its FLOP bound") measured in
/// one process. `compare.py` times the epoch, its GEMMs and the sgemm cases minutes apart, and on
/// a shared host whose speed drifts by 10–30 % the ratio it prints moved from 1.15× to 1.32× with
/// the same binary. Here each round is a sandwich: the GEMM rate, one epoch, the epoch's GEMMs
/// alone, the GEMM rate again. The bound of the round is the epoch's FLOPs (`rbmEpochFLOPs`) at
/// the mean of the two rate windows, each the better of `sgemm-rbm-fwd` (the bound's own shape)
/// and `sgemm-1024`; so a drift that is linear over the round cancels. Reported: the median
/// over the rounds of epoch ÷ bound (the target's ratio) and of epoch ÷ its GEMMs (what the rest
/// of the epoch costs), with quartiles, and the median epoch time and rate.
func benchRBMEpochBound(threads: Int) {
    let epoch = rbmEpochWorkload(), gemms = rbmEpochGEMMsWorkload()
    let shapes: [(work: Double, call: () -> Void)] = [
        (2e-9 * 100 * 500 * 784, sgemmWorkload(m: 100, n: 500, k: 784)),
        (2e-9 * 1024 * 1024 * 1024, sgemmWorkload(m: 1024, n: 1024, k: 1024)),
    ]
    // Calls per rate window of about 0.15 s per shape, sized once.
    let calls = shapes.map { shape -> Int in
        for _ in 0..<3 { shape.call() }
        var n = 0
        let t0 = now()
        while now() - t0 < 0.05 { shape.call(); n += 1 }
        return Swift.max(1, Int(Double(n) * 0.15 / (now() - t0)))
    }
    func bestRate() -> Double {
        zip(shapes, calls).map { shape, n in Double(n) * shape.work / seconds { for _ in 0..<n { shape.call() } } }.max()!
    }
    _ = epoch(100)
    gemms()
    let rounds = 9
    var toBound: [Double] = [], toGEMMs: [Double] = [], times: [Double] = [], rates: [Double] = []
    for round in 0..<rounds {
        let before = bestRate()
        let e = epoch(UInt64(round))
        let g = seconds(gemms)
        let after = bestRate()
        let rate = (before + after) / 2
        toBound.append(e / (rbmEpochFLOPs / (rate * 1e9)))
        toGEMMs.append(e / g)
        times.append(e)
        rates.append(rate)
    }
    func quantile(_ v: [Double], _ q: Double) -> Double { v.sorted()[Int((Double(v.count - 1) * q).rounded())] }
    func rounded(_ x: Double, _ places: Double = 1000) -> Double { (x * places).rounded() / places }
    emit("rbm-epoch-bound", threads: threads, value: quantile(toBound, 0.5), unit: "x FLOP bound",
         extra: ["quartiles": [rounded(quantile(toBound, 0.25)), rounded(quantile(toBound, 0.75))],
                 "over_gemms": rounded(quantile(toGEMMs, 0.5)),
                 "over_gemms_quartiles": [rounded(quantile(toGEMMs, 0.25)), rounded(quantile(toGEMMs, 0.75))],
                 "epoch_s": rounded(quantile(times, 0.5)), "gemm_GFLOPS": rounded(quantile(rates, 0.5), 10),
                 "rounds": rounds])
}
