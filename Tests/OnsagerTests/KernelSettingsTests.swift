import Foundation
import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData
@testable import OnsagerLinearAlgebra
import COnsagerKernels

/// Tests that change process-wide kernel settings (thread count, instruction set) run one at a
/// time, and every bit-for-bit comparison lives here so no other test can switch settings under it.
@Suite(.serialized) struct KernelSettingsTests {
    static let hardwareLevel = Kernels.limitInstructionSet(2)

    /// Runs `body` at `threads` threads and instruction set `isa`, with the pool's contention
    /// fallback off so that jobs are split even while other tests load the machine.
    /// `tuning` selects a GEMM blocking family (nil: the CPU's own).
    func withSettings<R>(threads: Int, isa: Int = 2, tuning: GEMMTuning? = nil, _ body: () -> R) -> R {
        let savedThreads = Kernels.threadCount
        Kernels.threadCount = threads
        Kernels.limitInstructionSet(isa)
        Kernels.selectGEMMTuning(tuning)
        Kernels.contentionDetection = false
        defer {
            Kernels.threadCount = savedThreads
            Kernels.limitInstructionSet(2)
            Kernels.selectGEMMTuning(nil)
            Kernels.contentionDetection = true
        }
        return body()
    }

    /// GEMM against a Double reference, for awkward sizes, transposed operands, β = 1, every ISA.
    /// The GEMM blocking families an ISA level has (both at AVX-512; they differ in Float only).
    static func tunings(isa: Int) -> [GEMMTuning] { isa == 2 ? GEMMTuning.allCases : [.general] }

    @Test(arguments: [0, 1, 2])
    func gemmMatchesReference(isa: Int) {
        guard isa <= Self.hardwareLevel else { return }
        for tuning in Self.tunings(isa: isa) { gemmMatchesReference(isa: isa, tuning: tuning) }
    }

    func gemmMatchesReference(isa: Int, tuning: GEMMTuning) {
        // (100, 70, 1100) and (150, 45, 530): batch-sized M with deep, ragged K (per-panel packing,
        // in-register transposes with K tails); (300, 10, 50) and (128, 7, 500): narrow-C path;
        // (260, 40, 300): row chunks sharing one packed B (in Double over two K blocks; more
        // blocks are checked against one thread in `largeOps`); N = 1: matrix-vector products;
        // (5, 64, 300) and (8, 40, 17): fewer rows than a tile, with B packed by the first tile's
        // kernel; (100, 260, 300): columns split between threads over an A packed once for several
        // K blocks, its panels shared out between the threads.
        let shapes = [(1, 1, 1), (5, 7, 3), (13, 33, 17), (37, 65, 300), (100, 500, 64), (100, 70, 1100), (150, 45, 530),
                      (300, 10, 50), (128, 7, 500), (260, 40, 300), (37, 1, 300), (300, 1, 1101), (5, 64, 300), (8, 40, 17),
                      (100, 260, 300)]
        for (m, n, k) in shapes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let g = RandomGenerator(seed: UInt64(m * 1000 + n * 10 + k))
                let a = Tensor<Float>.uniform(ta ? [k, m] : [m, k], low: -1, high: 1, generator: g)
                let b = Tensor<Float>.uniform(tb ? [n, k] : [k, n], low: -1, high: 1, generator: g)
                let got = withSettings(threads: 2, isa: isa, tuning: tuning) { matmul(ta ? a.T : a, tb ? b.T : b) }
                let ad = Tensor<Double>(shape: a.shape, scalars: a.scalars.map(Double.init))
                let bd = Tensor<Double>(shape: b.shape, scalars: b.scalars.map(Double.init))
                let ref = naiveMatmul(ta ? ad.T.contiguous() : ad, tb ? bd.T.contiguous() : bd)
                let err = zip(got.scalars, ref.scalars).map { Swift.abs(Double($0) - $1) }.max() ?? 0
                #expect(err < 1e-5 * Double(k), "isa \(isa) \(tuning) \(m)x\(n)x\(k) ta \(ta) tb \(tb): error \(err)")
                let gotD = withSettings(threads: 2, isa: isa, tuning: tuning) { matmul(ta ? ad.T : ad, tb ? bd.T : bd) }
                let errD = zip(gotD.scalars, ref.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
                #expect(errD < 1e-14 * Double(k), "Double, isa \(isa) \(tuning) \(m)x\(n)x\(k) ta \(ta) tb \(tb)")
                // The bias epilogue (every tile, edge tiles and the narrow-C shortcut included).
                let bias = Tensor<Float>.uniform([n], low: -1, high: 1, generator: g)
                let gotBias = withSettings(threads: 2, isa: isa, tuning: tuning) { matmul(ta ? a.T : a, tb ? b.T : b, adding: bias) }
                let biasScalars = bias.scalars
                let errBias = zip(gotBias.scalars, ref.scalars).enumerated().map { Swift.abs(Double($1.0) - $1.1 - Double(biasScalars[$0 % n])) }.max() ?? 0
                #expect(gotBias.shape == [m, n] && errBias < 1e-5 * Double(k + 1), "bias, isa \(isa) \(tuning) \(m)x\(n)x\(k) ta \(ta) tb \(tb): error \(errBias)")
                let biasD = Tensor<Double>(shape: [n], scalars: biasScalars.map(Double.init))
                let gotBiasD = withSettings(threads: 2, isa: isa, tuning: tuning) { matmul(ta ? ad.T : ad, tb ? bd.T : bd, adding: biasD) }
                let errBiasD = zip(gotBiasD.scalars, ref.scalars).enumerated().map { Swift.abs($1.0 - $1.1 - Double(biasScalars[$0 % n])) }.max() ?? 0
                #expect(errBiasD < 1e-14 * Double(k + 1), "Double bias, isa \(isa) \(tuning) \(m)x\(n)x\(k) ta \(ta) tb \(tb): error \(errBiasD)")
                // The ReLU epilogue (linearReLU computes x·weightᵀ, so weight = Bᵀ): bit for bit the
                // product (with and without bias) followed by relu(), in Float and Double.
                let aOp = ta ? a.T : a, bOp = tb ? b.T : b, adOp = ta ? ad.T : ad, bdOp = tb ? bd.T : bd
                withSettings(threads: 2, isa: isa, tuning: tuning) {
                    let label = "isa \(isa) \(tuning) \(m)x\(n)x\(k) ta \(ta) tb \(tb)"
                    Self.expectSameBits(linearReLU(aOp, weight: bOp.T, bias: bias), matmul(aOp, bOp, adding: bias).relu(), "relu epilogue with bias, \(label)")
                    Self.expectSameBits(linearReLU(aOp, weight: bOp.T), matmul(aOp, bOp).relu(), "relu epilogue, \(label)")
                    Self.expectSameBits(linearReLU(adOp, weight: bdOp.T, bias: biasD), matmul(adOp, bdOp, adding: biasD).relu(), "Double relu epilogue, \(label)")
                }
            }
        }
        // Double GEMM with accumulation into C (beta = 1) through the raw kernel.
        let a = Inputs.random([9, 11], seed: 1), b = Inputs.random([11, 6], seed: 2)
        var c = [Double](repeating: 1, count: 54)
        withSettings(threads: 1, isa: isa, tuning: tuning) {
            c.withUnsafeMutableBufferPointer { cp in
                onsager_dgemm(9, 6, 11, 2, a.basePointer, 11, 1, b.basePointer, 6, 1, 1, cp.baseAddress, 6)
            }
        }
        let ref = naiveMatmul(a, b).scalars.map { 2 * $0 + 1 }
        #expect(maxRelativeError(c, ref) < 1e-13)
    }

    /// A ragged last panel of columns runs a narrower kernel (one vector, half a vector, or one and
    /// a half: `ukernel_w` in gemm_template.h). Each of its columns must come out with the bits it
    /// has when the same column lies inside a full panel: the product with B widened to 64
    /// columns, cut back. Every width of the last panel (N = 33...63: 1-31 columns of a 32-wide
    /// Float panel, 1-15 of a 16-wide Double one), B row-major and transposed, with bias, every ISA.
    @Test(arguments: [0, 1, 2])
    func raggedPanelsGiveTheBitsOfFullOnes(isa: Int) {
        guard isa <= Self.hardwareLevel else { return }
        let g = RandomGenerator(seed: 77)
        let m = 37, k = 300
        let a = Tensor<Float>.uniform([m, k], low: -1, high: 1, generator: g)
        let wide = Tensor<Float>.uniform([k, 64], low: -1, high: 1, generator: g)
        let wideT = Tensor<Float>.uniform([64, k], low: -1, high: 1, generator: g)
        let bias = Tensor<Float>.uniform([64], low: -1, high: 1, generator: g)
        let ad = Tensor<Double>(shape: a.shape, scalars: a.scalars.map(Double.init))
        let wideD = Tensor<Double>(shape: wide.shape, scalars: wide.scalars.map(Double.init))
        let wideTD = Tensor<Double>(shape: wideT.shape, scalars: wideT.scalars.map(Double.init))
        for tuning in Self.tunings(isa: isa) {
            withSettings(threads: 1, isa: isa, tuning: tuning) {
                let full = matmul(a, wide, adding: bias), fullT = matmul(a, wideT.T)
                let fullD = matmul(ad, wideD), fullTD = matmul(ad, wideTD.T)
                for n in 33...63 {
                    let label = "isa \(isa) \(tuning) N \(n)"
                    let b = wide.sliced(axis: 1, 0..<n).contiguous(), bT = wideT.sliced(axis: 0, 0..<n).contiguous()
                    Self.expectSameBits(matmul(a, b, adding: bias.sliced(axis: 0, 0..<n).contiguous()),
                                        full.sliced(axis: 1, 0..<n).contiguous(), "Float with bias, \(label)")
                    Self.expectSameBits(matmul(a, bT.T), fullT.sliced(axis: 1, 0..<n).contiguous(), "Float, B transposed, \(label)")
                    let bD = wideD.sliced(axis: 1, 0..<n).contiguous(), bTD = wideTD.sliced(axis: 0, 0..<n).contiguous()
                    Self.expectSameBits(matmul(ad, bD), fullD.sliced(axis: 1, 0..<n).contiguous(), "Double, \(label)")
                    Self.expectSameBits(matmul(ad, bTD.T), fullTD.sliced(axis: 1, 0..<n).contiguous(), "Double, B transposed, \(label)")
                }
            }
        }
    }

    /// One thread, more rows than one row block and a packed B block over half of L2 (with N
    /// ragged against the panel width). Row-major B is packed at once, a few rows into every panel
    /// at a time (under Intel's tuning, at one thread, the later row blocks ask for the next
    /// panel ahead, PACKED_AHEAD, the last one split in two tails); column-major B (a transposed
    /// view) is packed panel by panel during the first row block ("staged" in gemm_serial), and
    /// the later row blocks read those panels.
    @Test(arguments: [0, 1, 2], [false, true])
    func packedBMatchesReference(isa: Int, columnMajorB: Bool) {
        guard isa <= Self.hardwareLevel else { return }
        // M over 256 rows: not read in place ("direct"); 304 = 2 × 144 + 16, a last row block
        // that the kernels split into two tails. K = 250 is one K block for every ISA
        // (KC ≥ 256); N makes a Float block of K × N over half of L2, so the Double one (twice
        // the bytes) is too.
        let k = 250
        checkGEMM(m: 304, k: k, n: Swift.max(300, onsager_l2_cache_bytes() / 2 / (k * 4) + 37), columnMajorB: columnMajorB, isa: isa)
    }

    /// Narrow products whose operands both run along K (x·Wᵀ with N = 2-15: `gemm_dot` in
    /// gemm_template.h, dot products without packing), in every blocking family. Against a Double
    /// reference for every N of a four-column group and its tails, K shorter than a vector, a whole
    /// number of vectors and a tail (the last vector overlapping the one before it); the bias and
    /// ReLU epilogues; the same bits at 1, 2 and 3 threads (rows split). Through the raw kernels,
    /// Float and Double: C = 2·A·Wᵀ + C, and C = A·Wᵀ with A's rows and C's rows longer than K and
    /// N and C filled with NaN first (β = 0 must not read it; the padding must stay untouched).
    /// Infinities in the overlapped lanes of the last vector, for every vector length: the masked
    /// lanes must not form ∞·0 (NaN), and the finite values must be counted once.
    @Test(arguments: [0, 1, 2])
    func narrowDotProductsMatchReference(isa: Int) {
        guard isa <= Self.hardwareLevel else { return }
        for tuning in Self.tunings(isa: isa) {
            for (m, n, k) in [(1, 2, 1), (3, 5, 7), (7, 15, 16), (9, 4, 17), (100, 10, 500), (13, 3, 33), (1000, 6, 131), (5, 11, 1100)] {
                checkNarrowDot(m: m, n: n, k: k, isa: isa, tuning: tuning)
            }
            for vl in [2, 4, 8, 16] {
                let k = 2 * vl + vl / 2
                func infinities<S: TensorScalar>(_: S.Type) -> [S] {
                    var av = [S](repeating: 0.5, count: 3 * k), wv = [S](repeating: 1, count: 4 * k)
                    av[k + (k - vl)] = .infinity          // lanes k - vl ..< k - k % vl overlap
                    wv[2 * k + (k - vl + 1)] = -.infinity
                    return withSettings(threads: 1, isa: isa, tuning: tuning) {
                        matmul(Tensor(shape: [3, k], scalars: av), Tensor(shape: [4, k], scalars: wv).T)
                    }.scalars
                }
                let f = infinities(Float.self), d = infinities(Double.self)
                let what = "K = \(k), isa \(isa), \(tuning)"
                #expect(f[0] == Float(k) / 2 && f[4] == .infinity && f[2] == -.infinity && f[6].isNaN, "Float, \(what): \(f)")
                #expect(d[0] == Double(k) / 2 && d[4] == .infinity && d[2] == -.infinity && d[6].isNaN, "Double, \(what): \(d)")
            }
        }
    }

    func checkNarrowDot(m: Int, n: Int, k: Int, isa: Int, tuning: GEMMTuning) {
        let g = RandomGenerator(seed: UInt64(m * 131 + n * 7 + k))
        let a = Tensor<Float>.uniform([m, k], low: -1, high: 1, generator: g)
        let w = Tensor<Float>.uniform([n, k], low: -1, high: 1, generator: g)
        let bias = Tensor<Float>.uniform([n], low: -1, high: 1, generator: g)
        let ad = Tensor<Double>(shape: a.shape, scalars: a.scalars.map(Double.init))
        let wd = Tensor<Double>(shape: w.shape, scalars: w.scalars.map(Double.init))
        let ref = naiveMatmul(ad, wd.T.contiguous()).scalars
        let label = "\(m)x\(n)x\(k), isa \(isa), \(tuning)"
        let one = withSettings(threads: 1, isa: isa, tuning: tuning) { matmul(a, w.T) }
        #expect(zip(one.scalars, ref).map { Swift.abs(Double($0) - $1) }.max()! < 1e-5 * Double(k), "Float, \(label)")
        let oneD = withSettings(threads: 1, isa: isa, tuning: tuning) { matmul(ad, wd.T) }
        #expect(zip(oneD.scalars, ref).map { Swift.abs($0 - $1) }.max()! < 1e-14 * Double(k), "Double, \(label)")
        for threads in [2, 3] {
            let same = withSettings(threads: threads, isa: isa, tuning: tuning) { matmul(a, w.T) }.scalars == one.scalars
            let sameD = withSettings(threads: threads, isa: isa, tuning: tuning) { matmul(ad, wd.T) }.scalars == oneD.scalars
            #expect(same && sameD, "\(label): \(threads) threads differ from one")
        }
        withSettings(threads: 2, isa: isa, tuning: tuning) {
            let biasRef = ref.enumerated().map { $1 + Double(bias.scalars[$0 % n]) }
            let withBias = matmul(a, w.T, adding: bias)
            #expect(zip(withBias.scalars, biasRef).map { Swift.abs(Double($0) - $1) }.max()! < 1e-5 * Double(k + 1), "bias, \(label)")
            Self.expectSameBits(linearReLU(a, weight: w, bias: bias), withBias.relu(), "relu epilogue with bias, \(label)")
            Self.expectSameBits(linearReLU(a, weight: w), matmul(a, w.T).relu(), "relu epilogue, \(label)")
        }
        // The raw kernels: A's rows lda = k + 5 apart (the first k of each used), C's ldc = n + 3.
        let lda = k + 5, ldc = n + 3
        func raw<S: TensorScalar>(_ aS: [S], _ wS: [S], alpha: S, beta: S, start: S) -> [S] {
            var wide = [S](repeating: .nan, count: m * lda)
            for i in 0..<m { for p in 0..<k { wide[i * lda + p] = aS[i * k + p] } }
            var c = [S](repeating: start, count: m * ldc)
            withSettings(threads: 2, isa: isa, tuning: tuning) {
                wide.withUnsafeBufferPointer { ap in
                    wS.withUnsafeBufferPointer { wp in
                        c.withUnsafeMutableBufferPointer { cp in
                            let ar = UnsafeRawPointer(ap.baseAddress!), wr = UnsafeRawPointer(wp.baseAddress!)
                            let cr = UnsafeMutableRawPointer(cp.baseAddress!)
                            if S.self == Float.self {
                                onsager_sgemm(m, n, k, alpha as! Float, ar.assumingMemoryBound(to: Float.self), lda, 1, wr.assumingMemoryBound(to: Float.self), 1, k,
                                              beta as! Float, cr.assumingMemoryBound(to: Float.self), ldc)
                            } else {
                                onsager_dgemm(m, n, k, alpha as! Double, ar.assumingMemoryBound(to: Double.self), lda, 1, wr.assumingMemoryBound(to: Double.self), 1, k,
                                              beta as! Double, cr.assumingMemoryBound(to: Double.self), ldc)
                            }
                        }
                    }
                }
            }
            return c
        }
        func check<S: TensorScalar>(_ c: [S], start: Double, _ want: (Double) -> Double, tolerance: Double, _ what: String) {
            var worst = 0.0, padding = true
            for i in 0..<m {
                for j in 0..<ldc {
                    let x = Double(c[i * ldc + j])
                    if j >= n { padding = padding && (x == start || (x.isNaN && start.isNaN)); continue }
                    worst = x.isFinite ? Swift.max(worst, Swift.abs(x - want(ref[i * n + j]))) : .infinity
                }
            }
            #expect(worst < tolerance * Double(k) && padding, "\(what), \(label): error \(worst), padding kept \(padding)")
        }
        check(raw(a.scalars, w.scalars, alpha: Float(2), beta: Float(1), start: Float(1)), start: 1, { 2 * $0 + 1 }, tolerance: 2e-5, "Float C = 2AWᵀ + C")
        check(raw(ad.scalars, wd.scalars, alpha: 2.0, beta: 1.0, start: 1.0), start: 1, { 2 * $0 + 1 }, tolerance: 2e-14, "Double C = 2AWᵀ + C")
        check(raw(a.scalars, w.scalars, alpha: Float(1), beta: Float(0), start: Float.nan), start: .nan, { $0 }, tolerance: 1e-5, "Float C = AWᵀ over NaN")
        check(raw(ad.scalars, wd.scalars, alpha: 1.0, beta: 0.0, start: Double.nan), start: .nan, { $0 }, tolerance: 1e-14, "Double C = AWᵀ over NaN")
    }

    /// Products of one to four rows (`gemm_few_rows` in gemm_template.h: B read once, in place, in
    /// chunks of K; a single sample's x·W). With B stored by rows, each row must have the bits it
    /// has inside a 16-row product (the packed path), with and without a bias and ReLU, β = ½, A
    /// stored by columns, N under a vector and with a ragged tail, K over one K block, and the
    /// plans of a small L2 (K in short chunks, the next chunk asked for ahead) and a large one;
    /// with B stored by columns (dot products), within rounding of a Double reference. The same
    /// bits at 1, 2 and 3 threads. Float and Double.
    @Test(arguments: [0, 1, 2])
    func fewRowProductsMatchRowsOfLargerOnes(isa: Int) {
        guard isa <= Self.hardwareLevel else { return }
        func check<S: TensorScalar>(_: S.Type, n: Int, k: Int, tuning: GEMMTuning, l2: Int) {
            let g = RandomGenerator(seed: UInt64(n * 31 + k))
            let a = Tensor<S>.uniform([16, k], low: -1, high: 1, generator: g)
            let aT = Tensor<S>.uniform([k, 16], low: -1, high: 1, generator: g)
            let b = Tensor<S>.uniform([k, n], low: -1, high: 1, generator: g)
            let w = Tensor<S>.uniform([n, k], low: -1, high: 1, generator: g)
            let bias = Tensor<S>.uniform([n], low: -1, high: 1, generator: g)
            let start = Tensor<S>.uniform([16, n], low: -1, high: 1, generator: g)
            let label = "\(S.self) N \(n) K \(k), isa \(isa), \(tuning), L2 \(l2)"
            let tol = S.self == Float.self ? 1e-5 : 1e-14
            // C = A·B + ½C through the raw kernel, B by rows, A by rows or (transposedA) by columns.
            func raw(_ m: Int, transposedA: Bool) -> [S] {
                var c = start.scalars
                let (rsa, csa) = transposedA ? (1, 16) : (k, 1)
                (transposedA ? aT : a).withUnsafeScalars { ap in
                    b.withUnsafeScalars { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            S.kernelGEMM(m, n, k, 1, ap.baseAddress!, rsa, csa, bp.baseAddress!, n, 1, 0.5, cp.baseAddress!, n)
                        }
                    }
                }
                return Array(c.prefix(m * n))
            }
            let products: (Int) -> [[S]] = { m in
                let x = a.sliced(axis: 0, 0..<m).contiguous(), xT = aT.sliced(axis: 1, 0..<m).T
                return [matmul(x, b).scalars, matmul(x, b, adding: bias).scalars, matmul(xT, b).scalars,
                        linearReLU(x, weight: b.T, bias: bias).scalars,
                        raw(m, transposedA: false), raw(m, transposedA: true), matmul(x, w.T).scalars,
                        matmul(x, w.T, adding: bias).scalars]
            }
            let (full, few) = withSettings(threads: 1, isa: isa, tuning: tuning) {
                withL2(l2) { (products(16), (1...4).map(products)) }
            }
            let refWT = naiveMatmul(Tensor<Double>(shape: a.shape, scalars: a.scalars.map { Double($0) }),
                                    Tensor<Double>(shape: [k, n], scalars: w.T.contiguous().scalars.map { Double($0) })).scalars
            for (i, rows) in few.enumerated() {
                let m = i + 1, what = "\(m) rows, \(label)"
                for (p, name) in ["A·B", "A·B + bias", "Aᵀ stored, ·B", "relu(A·B + bias)", "raw A·B + ½C", "raw Aᵀ stored, ·B + ½C"].enumerated() {
                    let first = rows[p].indices.first { rows[p][$0] != full[p][$0] || rows[p][$0].sign != full[p][$0].sign }
                    #expect(first == nil, "\(name), \(what): differs from the 16-row product first at \(first ?? -1)")
                }
                let worst = zip(rows[6], refWT).map { Swift.abs(Double($0) - $1) }.max()!
                let worstBias = rows[7].indices.map { Swift.abs(Double(rows[7][$0]) - refWT[$0] - Double(bias.scalars[$0 % n])) }.max()!
                #expect(worst < tol * Double(k) && worstBias < tol * Double(k + 1), "A·Wᵀ, \(what): errors \(worst), \(worstBias)")
                for threads in [2, 3] {
                    let again = withSettings(threads: threads, isa: isa, tuning: tuning) { withL2(l2) { products(m) } }
                    let same = zip(again, rows).allSatisfy { x, y in x.count == y.count && zip(x, y).allSatisfy { $0 == $1 && $0.sign == $1.sign } }
                    #expect(same, "\(what): \(threads) threads differ from one")
                }
            }
        }
        for tuning in Self.tunings(isa: isa) {
            for (n, k, l2) in [(500, 300, 0), (7, 50, 0), (37, 2100, 0), (260, 90, 0), (300, 1030, 64 << 10), (1100, 260, 64 << 10),
                               (40, 70, 64 << 20)] {
                check(Float.self, n: n, k: k, tuning: tuning, l2: l2)
                check(Double.self, n: n, k: k, tuning: tuning, l2: l2)
            }
            // A sum that underflows to -0 (by a fused multiply-add; the portable kernels round the
            // product first, and +0 results), then a term whose A is -0: -0 + (-0·b) stays -0 (an A
            // broadcast as 0 + a would turn that -0 into +0).
            let n = 40
            let a = Tensor<Float>(shape: [16, 2], scalars: (0..<16).flatMap { _ in [Float(-1e-30), -0.0] })
            let b = Tensor<Float>(shape: [2, n], scalars: [Float](repeating: 1e-30, count: n) + [Float](repeating: 1, count: n))
            withSettings(threads: 1, isa: isa, tuning: tuning) {
                let full = matmul(a, b).scalars
                let sign: FloatingPointSign = isa >= 1 ? .minus : .plus
                #expect(full.allSatisfy { $0 == 0 && $0.sign == sign }, "16 rows, isa \(isa): \(full.prefix(3))")
                for m in 1...4 {
                    let few = matmul(a.sliced(axis: 0, 0..<m).contiguous(), b).scalars
                    #expect(few.allSatisfy { $0 == 0 && $0.sign == sign }, "\(m) rows, isa \(isa), \(tuning): \(few.prefix(3))")
                }
            }
        }
    }

    /// More rows than one row block (MC) but at most 256, with B read in place (row-major B where
    /// the ISA reads it in place) or packed (AVX2; column-major B): the rows are one block when
    /// their A block fits in L2, else MC-row blocks. Two sizes of K take both.
    @Test(arguments: [0, 1, 2])
    func tallRowBlockMatchesReference(isa: Int) {
        guard isa <= Self.hardwareLevel else { return }
        for columnMajorB in [false, true] {
            checkGEMM(m: 200, k: 300, n: 110, columnMajorB: columnMajorB, isa: isa)
            checkGEMM(m: 250, k: Swift.max(1100, onsager_l2_cache_bytes() / (250 * 4) + 1), n: 70, columnMajorB: columnMajorB, isa: isa)
        }
    }

    /// A product whose C outgrows twice L2 (`onsager_gemm_stream_min_bytes`) and is written in one K
    /// block: its full tiles go to memory with non-temporal stores where a tile row covers whole
    /// cache lines (`G_PLAN_STREAM_C` in
    /// gemm.c; AVX2 and AVX-512), then a store fence. Through the raw kernels into 64-byte aligned
    /// buffers filled with NaN first (so a store that never happens shows), A as stored
    /// (weight-gradient layout, Aᵀ contiguous) and row-major, in Float and Double, at one and two
    /// threads, every blocking family; two shapes: rows split between threads, and (N > 2M) columns
    /// split, with a row count whose last panels are two full two-thirds tiles. Every row against
    /// Double through a random projection (C·v against A·(B·v)) and sampled rows element by element
    /// at one thread; two threads and `matmul` give the same bits.
    @Test(arguments: [0, 1, 2])
    func streamedCMatchesReference(isa: Int) {
        guard isa <= Self.hardwareLevel else { return }
        // Float's C just over the size from which C is streamed (twice L2), Double's twice that.
        let threshold = Int(onsager_gemm_stream_min_bytes())
        // Rows of 2 KB / 16 KB (Float) and twice that (Double): whole cache lines, as streaming needs.
        let wide = 4096, few = threshold / (wide * 4) + 1
        for (m, n, k) in [(threshold / (512 * 4) + 37, 512, 100), (few + (4 - few % 12 + 12) % 12, wide, 64)] {
            checkStreamed(m: m, n: n, k: k, isa: isa)
        }
    }

    func checkStreamed(m: Int, n: Int, k: Int, isa: Int) {
        let g = RandomGenerator(seed: UInt64(33 + n))
        let at = Tensor<Double>.uniform([k, m], low: -1, high: 1, generator: g)
        let b = Tensor<Double>.uniform([k, n], low: -1, high: 1, generator: g)
        let v = Tensor<Double>.uniform([n], low: 0.5, high: 1, generator: g).scalars
        let atv = at.scalars, bv = b.scalars
        // A·(B·v) in Double: the projection every row of C must match.
        let bProj = (0..<k).map { p in (0..<n).reduce(0.0) { $0 + bv[p * n + $1] * v[$1] } }
        let ref = (0..<m).map { i in (0..<k).reduce(0.0) { $0 + atv[$1 * m + i] * bProj[$1] } }
        let rows = [0, 1, m / 3, m / 2, m - 13, m - 1]
        let rowRef = rows.map { i in (0..<n).map { j in (0..<k).reduce(0.0) { $0 + atv[$1 * m + i] * bv[$1 * n + j] } } }
        func check<S: TensorScalar>(_ c: [S], tolerance: Double, _ what: String) {
            var bad = 0, worst = 0.0
            c.withUnsafeBufferPointer { cp in
                for i in 0..<m {
                    var dot = 0.0
                    for j in 0..<n {
                        let x = Double(cp[i * n + j])
                        if !x.isFinite { bad += 1 }
                        dot += x * v[j]
                    }
                    worst = Swift.max(worst, Swift.abs(dot - ref[i]))
                }
            }
            #expect(bad == 0, "\(bad) elements never stored (NaN left), \(what)")
            #expect(worst < tolerance * Double(n), "projection error \(worst), \(what)")
            for (r, i) in rows.enumerated() {
                var err = 0.0
                for j in 0..<n { err = Swift.max(err, Swift.abs(Double(c[i * n + j]) - rowRef[r][j])) }
                #expect(err < tolerance, "row \(i): error \(err), \(what)")
            }
        }
        // The product through the raw kernel, into an aligned buffer of NaN.
        func product<S: TensorScalar>(_ a: Tensor<S>, transposedA: Bool, _ b: Tensor<S>, threads: Int, tuning: GEMMTuning) -> [S] {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: m * n * MemoryLayout<S>.stride, alignment: 64)
            defer { raw.deallocate() }
            let c = raw.initializeMemory(as: S.self, repeating: S.nan, count: m * n)
            let (rsa, csa) = transposedA ? (1, m) : (k, 1)
            withSettings(threads: threads, isa: isa, tuning: tuning) {
                a.withUnsafeScalars { ap in
                    b.withUnsafeScalars { bp in S.kernelGEMM(m, n, k, 1, ap.baseAddress!, rsa, csa, bp.baseAddress!, n, 1, 0, c, n) }
                }
            }
            return Array(UnsafeBufferPointer(start: c, count: m * n))
        }
        let atF = Tensor<Float>(shape: at.shape, scalars: at.scalars.map(Float.init))
        let bF = Tensor<Float>(shape: b.shape, scalars: b.scalars.map(Float.init))
        let rowMajorF = atF.T.contiguous(), rowMajorD = at.T.contiguous()
        for tuning in Self.tunings(isa: isa) {
            for transposedA in [true, false] {
                let what = "\(m)×\(n)×\(k), \(transposedA ? "A stored transposed" : "A row-major"), isa \(isa), \(tuning) tuning"
                let aF = transposedA ? atF : rowMajorF, aD = transposedA ? at : rowMajorD
                let one = product(aF, transposedA: transposedA, bF, threads: 1, tuning: tuning)
                let two = product(aF, transposedA: transposedA, bF, threads: 2, tuning: tuning)
                check(one, tolerance: 1e-5 * Double(k), "Float, \(what)")
                // (Compared first, so that a failure names the case instead of printing every value;
                // a NaN left at two threads makes them differ too.)
                let sameF = one == two
                #expect(sameF, "Float, \(what): 1 and 2 threads differ")
                let api = withSettings(threads: 2, isa: isa, tuning: tuning) { matmul(transposedA ? atF.T : rowMajorF, bF) }
                let sameAPI = api.scalars == one
                #expect(sameAPI, "Float, \(what): matmul differs from the kernel")
                let oneD = product(aD, transposedA: transposedA, b, threads: 1, tuning: tuning)
                let twoD = product(aD, transposedA: transposedA, b, threads: 2, tuning: tuning)
                check(oneD, tolerance: 1e-13 * Double(k), "Double, \(what)")
                let sameD = oneD == twoD
                #expect(sameD, "Double, \(what): 1 and 2 threads differ")
            }
        }
    }

    /// A·B against a Double reference in Float and Double at one thread, and the same bits at two
    /// threads (which share one packed B or split the columns), in each GEMM blocking family.
    func checkGEMM(m: Int, k: Int, n: Int, columnMajorB: Bool, isa: Int) {
        let g = RandomGenerator(seed: 21)
        // Float values, so that one Double product is the reference of both types.
        let a = Tensor<Float>.uniform([m, k], low: -1, high: 1, generator: g)
        let b = Tensor<Float>.uniform([k, n], low: -1, high: 1, generator: g)
        let ad = Tensor<Double>(shape: a.shape, scalars: a.scalars.map(Double.init))
        let bd = Tensor<Double>(shape: b.shape, scalars: b.scalars.map(Double.init))
        let ref = naiveMatmul(ad, bd)
        // The same B as the transposed view of its transpose's contiguous copy: column-major.
        let bF = columnMajorB ? b.transposed().contiguous().transposed() : b
        let bD = columnMajorB ? bd.transposed().contiguous().transposed() : bd
        for tuning in Self.tunings(isa: isa) {
            let got = withSettings(threads: 1, isa: isa, tuning: tuning) { matmul(a, bF) }
            let gotD = withSettings(threads: 1, isa: isa, tuning: tuning) { matmul(ad, bD) }
            let what = "\(m)×\(n)×\(k), \(columnMajorB ? "column-major B" : "row-major B"), isa \(isa), \(tuning) tuning"
            #expect(zip(got.scalars, ref.scalars).map { Swift.abs(Double($0) - $1) }.max()! < 1e-5 * Double(k), "Float, \(what)")
            #expect(zip(gotD.scalars, ref.scalars).map { Swift.abs($0 - $1) }.max()! < 1e-14 * Double(k), "Double, \(what)")
            // (Compared first, so that a failure names the case instead of printing every value.)
            let sameF = withSettings(threads: 2, isa: isa, tuning: tuning) { matmul(a, bF) }.scalars == got.scalars
            let sameD = withSettings(threads: 2, isa: isa, tuning: tuning) { matmul(ad, bD) }.scalars == gotD.scalars
            #expect(sameF, "Float, \(what), 2 threads")
            #expect(sameD, "Double, \(what), 2 threads")
        }
    }

    func naiveMatmul(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Tensor<Double> {
        let m = a.shape[0], k = a.shape[1], n = b.shape[1]
        let av = a.scalars, bv = b.scalars
        var out = [Double](repeating: 0, count: m * n)
        // Through raw buffers: a debug build's checked subscripts made the larger shapes take seconds.
        av.withUnsafeBufferPointer { ap in
            bv.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { op in
                    for i in 0..<m { for p in 0..<k { let x = ap[i * k + p]; for j in 0..<n { op[i * n + j] += x * bp[p * n + j] } } }
                }
            }
        }
        return Tensor(shape: [m, n], scalars: out)
    }

    /// The vectorised float exp/log/tanh/... stay within a few ulps of libm in Double, on every ISA.
    @Test(arguments: [0, 1, 2])
    func floatMathAccuracy(isa: Int) {
        guard isa <= Self.hardwareLevel else { return }
        let grid = (0..<4001).map { Float(-40 + 0.02 * Double($0)) } + [-87, -86, 80, 88, 1e-7, -1e-7, 1e-20]
        let x = Tensor<Float>(grid)
        let xd = grid.map(Double.init)
        let checks: [(String, (Tensor<Float>) -> Tensor<Float>, (Double) -> Double, [Float])] = [
            ("exp", { $0.exp() }, { Foundation.exp($0) }, grid.filter { $0 < 88 }),
            ("expm1", { $0.expm1() }, { Foundation.expm1($0) }, grid.filter { $0 < 88 }),
            ("log", { $0.log() }, { Foundation.log($0) }, grid.filter { $0 > 0 }),
            ("log1p", { $0.log1p() }, { Foundation.log1p($0) }, grid.filter { $0 > -1 }),
            ("tanh", { $0.tanh() }, { Foundation.tanh($0) }, grid),
            ("sigmoid", { $0.sigmoid() }, { 1 / (1 + Foundation.exp(-$0)) }, grid.filter { $0 > -80 }),
            ("softplus", { $0.softplus() }, { $0 > 30 ? $0 + Foundation.log1p(Foundation.exp(-$0)) : Foundation.log1p(Foundation.exp($0)) }, grid.filter { $0 > -80 }),
            ("logSigmoid", { $0.logSigmoid() }, { $0 < -30 ? $0 - Foundation.log1p(Foundation.exp($0)) : -Foundation.log1p(Foundation.exp(-$0)) }, grid.filter { $0 < 80 }),
        ]
        _ = x; _ = xd
        for (name, f, ref, domain) in checks {
            let got = withSettings(threads: 1, isa: isa) { f(Tensor<Float>(domain)) }.scalars
            let want = domain.map { ref(Double($0)) }
            let err = maxRelativeError(got.map(Double.init), want, floor: 1e-30)
            #expect(err < 1e-6, "isa \(isa) \(name): max relative error \(err)")
        }
        // Special values.
        let sp = withSettings(threads: 1, isa: isa) { Tensor<Float>([.infinity, -.infinity, .nan, 0, -1]).log().scalars }
        #expect(sp[0] == .infinity && sp[1].isNaN && sp[2].isNaN && sp[3] == -.infinity && sp[4].isNaN)
        let e = withSettings(threads: 1, isa: isa) { Tensor<Float>([100, -200, .nan]).exp().scalars }
        #expect(e[0] == .infinity && e[1] == 0 && e[2].isNaN)
    }

    /// The fused softplus row sum against Σ softplus in Double, and its σ and the logit sampler
    /// against their definitions, on every ISA (rows longer than the kernel's stack buffer, rows
    /// whose terms are all tiny, and a 3-d input included), with NaN and ±Inf as in the composed ops.
    @Test(arguments: [0, 1, 2])
    func fusedSoftplusSumAndLogitSamplingMatchTheirDefinitions(isa: Int) {
        guard isa <= Self.hardwareLevel else { return }
        let g = RandomGenerator(seed: 41)
        let tiny = Tensor<Float>.uniform([4, 1000], low: -40, high: -12, generator: g)   // every term below 1e-5
        let inputs = [Tensor<Float>.normal([37, 300], std: 6, generator: g), Tensor<Float>.normal([3, 2500], std: 3, generator: g),
                      Tensor<Float>.normal([2, 5, 7], std: 30, generator: g), tiny, Tensor<Float>([[0, .nan, 1], [.infinity, -.infinity, 2]])]
        func softplus(_ v: Double) -> Double { max(v, 0) + Foundation.log1p(Foundation.exp(-abs(v))) }
        func sigmoid(_ v: Double) -> Double { v >= 0 ? 1 / (1 + Foundation.exp(-v)) : Foundation.exp(v) / (1 + Foundation.exp(v)) }
        for x in inputs {
            let (fused, composed) = withSettings(threads: 1, isa: isa) { (x.softplusSumWithSigmoid(), (x.softplus().sum(axis: -1), x.sigmoid())) }
            #expect(fused.softplusSum.shape == composed.0.shape && fused.sigmoid.shape == x.shape)
            #expect(fused.sigmoid.scalars.map(\.bitPattern) == composed.1.scalars.map(\.bitPattern), "isa \(isa), \(x.shape): sigmoid")
            let n = x.shape.last!, values = x.scalars.map(Double.init), sums = fused.softplusSum.scalars
            for r in 0..<sums.count {
                let row = values[(r * n)..<((r + 1) * n)]
                let want = row.reduce(0) { $0 + softplus($1) }
                if want.isNaN || row.contains(where: \.isNaN) { #expect(sums[r].isNaN, "isa \(isa), \(x.shape), row \(r)"); continue }
                if want.isInfinite { #expect(sums[r] == .infinity, "isa \(isa), \(x.shape), row \(r)"); continue }
                // Float's rounding of n terms and their sum, relative to the row's sum (all terms are positive).
                #expect(abs(Double(sums[r]) - want) <= 4e-7 * Double(n).squareRoot() * want + 1e-37,
                        "isa \(isa), \(x.shape), row \(r): \(sums[r]) against \(want)")
            }
            // Samples: u < σ(x) for the generator's uniform draws u, except where u is within a
            // rounding of σ(x).
            let (samples, u) = withSettings(threads: 1, isa: isa) {
                (Tensor<Float>.bernoulli(logits: x, generator: RandomGenerator(seed: 5)).scalars,
                 Tensor<Float>.uniform(x.shape, generator: RandomGenerator(seed: 5)).scalars)
            }
            var decided = 0
            for i in values.indices {
                let s = sigmoid(values[i]), ui = Double(u[i])
                if s.isNaN { #expect(samples[i] == 0, "isa \(isa): a NaN logit gives 0"); continue }
                guard abs(ui - s) > 1e-6 else { continue }
                decided += 1
                #expect(samples[i] == (ui < s ? 1 : 0), "isa \(isa), \(x.shape), element \(i): logit \(values[i]), u \(ui)")
            }
            #expect(decided >= values.count - 2, "isa \(isa), \(x.shape): \(values.count - decided) draws within 1e-6 of σ")
        }
        let d = Tensor<Double>.normal([4, 9], std: 5, generator: g)
        let dSums = d.softplusSumWithSigmoid().softplusSum.scalars, dComposed = d.softplus().sum(axis: -1).scalars
        #expect(zip(dSums, dComposed).allSatisfy { abs($0 - $1) <= 1e-14 * abs($1) }, "Double: \(dSums) against \(dComposed)")
        let dSamples = Tensor<Double>.bernoulli(logits: d, generator: RandomGenerator(seed: 6)).scalars
        let dU = Tensor<Double>.uniform(d.shape, generator: RandomGenerator(seed: 6)).scalars
        #expect(zip(zip(dSamples, dU), d.scalars).allSatisfy { $0.0 == ($0.1 < sigmoid($1) ? 1 : 0) })
    }

    @Test func randomDrawsAreBitIdenticalForAnyThreadCount() {
        func draw() -> ([Float], [Double], [Float]) {
            let g = RandomGenerator(seed: 7)
            let u = Tensor<Float>.uniform([300_001], generator: g)
            let n = Tensor<Double>.normal([1001], generator: g)
            let b = Tensor<Float>.bernoulli(u, generator: g)
            return (u.scalars, n.scalars, b.scalars)
        }
        let one = withSettings(threads: 1, draw)
        let two = withSettings(threads: 2, draw)
        #expect(one.0 == two.0 && one.1 == two.1 && one.2 == two.2)
    }

    /// Large ops through every parallel path: GEMMs split by rows (several tasks per thread) and by
    /// columns, reductions along either axis, elementwise chains.
    static func largeOps() -> [[Float]] {
        let g = RandomGenerator(seed: 11)
        let a = Tensor<Float>.normal([300, 700], generator: g), b = Tensor<Float>.normal([700, 200], generator: g)
        let big = Tensor<Float>.normal([1_000_003], generator: g)
        // Transposed B with deep K, for a batch-sized M and for an M whose per-thread share is
        // batch-sized (the K blocking must not follow the thread count).
        let w = Tensor<Float>.normal([90, 1100], generator: g)
        let x100 = Tensor<Float>.normal([100, 1100], generator: g), x200 = Tensor<Float>.normal([200, 1100], generator: g)
        let tall = Tensor<Float>.normal([1000, 300], generator: g), wide = Tensor<Float>.normal([64, 2000], generator: g)
        // Row chunks sharing one packed B over several N blocks (N 2100 > NC, M ≥ N/2) and with a
        // transposed B (x200·wᵀ also spans two K blocks: K 1100 > KC); a column split over K blocks.
        let deepWide = Tensor<Float>.normal([1100, 2100], generator: g), x300 = Tensor<Float>.normal([300, 1100], generator: g)
        let tallShallow = Tensor<Float>.normal([1060, 20], generator: g), shallowWide = Tensor<Float>.normal([20, 2100], generator: g)
        let bias2100 = Tensor<Float>.normal([2100], generator: g), bias90 = Tensor<Float>.normal([90], generator: g)
        let bias600 = Tensor<Float>.normal([600], generator: g)
        // K blocks of a shared B packed all at once: a transposed B with M < 256 shares it whatever
        // the L2 size, 1400x400 in six blocks of 234 under Intel's blocking, past its B buffer (in
        // one grown for them), two of 700 under the general one. With M ≥ 256 (x300·deep600: five
        // blocks of 220, or two of 550) each chunk packs its own B where a block is within twice
        // L2 (the test plans for a small L2 and a large one too).
        let deep600 = Tensor<Float>.normal([1100, 600], generator: g)
        let x1400 = Tensor<Float>.normal([200, 1400], generator: g), w1400 = Tensor<Float>.normal([400, 1400], generator: g)
        // Split by rows over a shared B wider than NC, its blocks one at a time (the general
        // blocking with an L2 under 1.2 MB, or planned for 128 KB; else each chunk packs B).
        let tall1100 = Tensor<Float>.normal([1100, 300], generator: g), wide300 = Tensor<Float>.normal([300, 2100], generator: g)
        return [matmul(a, b).scalars, matmul(x100, w.T).scalars, matmul(x200, w.T).scalars, a.sum(axis: 0).scalars, a.sum(axis: 1).scalars, [big.sum().item],
                (a.sigmoid() * a + 1).scalars, a.logSumExp(axis: 1).scalars, matmul(tall, a).scalars, matmul(x100.sliced(axis: 1, 0..<64), wide).scalars,
                matmul(x300, deepWide).scalars, matmul(a, a.T).scalars, matmul(tallShallow, shallowWide).scalars,
                a.softplusSumWithSigmoid().softplusSum.scalars, Tensor.bernoulli(logits: a, generator: RandomGenerator(seed: 12)).scalars,
                matmul(x300, deepWide, adding: bias2100).scalars, matmul(x200, w.T, adding: bias90).scalars,
                matmul(x300, w[0]).scalars, matmul(x300, deep600).scalars, matmul(tall1100, wide300).scalars,
                matmul(x1400, w1400.T).scalars,
                // The ReLU epilogue on the last of several K blocks: split by columns (x300·deepWide),
                // split by rows (x100·wᵀ; over a shared B on AVX2, MC 96), over a shared B (x200·wᵀ).
                linearReLU(x300, weight: deepWide.T, bias: bias2100).scalars, linearReLU(x100, weight: w, bias: bias90).scalars,
                linearReLU(x200, weight: w).scalars,
                // ... and split by rows with B packed per chunk over several K blocks (x300·deep600).
                linearReLU(x300, weight: deep600.T, bias: bias600).scalars]
    }

    /// The same shape and bits, reporting the first element that differs rather than both arrays.
    static func expectSameBits<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ label: String) {
        let x = a.scalars, y = b.scalars
        guard a.shape == b.shape, x.count == y.count else {
            Issue.record("\(label): shapes \(a.shape) and \(b.shape)")
            return
        }
        let first = x.indices.first { i in
            x[i].isNaN != y[i].isNaN || (!x[i].isNaN && (x[i] != y[i] || x[i].sign != y[i].sign))
        }
        #expect(a.shape == b.shape && first == nil, "\(label): first differs at element \(first ?? -1)")
    }

    static func expectIdentical(_ one: [[Float]], _ two: [[Float]], _ label: String) {
        #expect(one.map(\.count) == two.map(\.count))
        for (i, (a, b)) in zip(one, two).enumerated() {
            let first = a.indices.first { a[$0] != b[$0] }
            #expect(first == nil, "\(label): result \(i) differs first at element \(first ?? -1)")
        }
    }

    /// Double products split by rows in several K blocks: over a shared B (a transposed B and
    /// M < 256, whatever the L2 size) all packed at once (200x300x700, 1.7 MB) and one block at a
    /// time (200x400x1400, over Double's 4 MB at once); with M ≥ 256 (300x300x700, 300x600x1100),
    /// each chunk packing its own B where a block is within twice L2, else sharing it.
    static func largeDoubleOps() -> [[Double]] {
        let g = RandomGenerator(seed: 13)
        let a = Tensor<Double>.normal([300, 1100], generator: g), b = Tensor<Double>.normal([1100, 600], generator: g)
        let c = Tensor<Double>.normal([700, 300], generator: g)
        let x = Tensor<Double>.normal([200, 1400], generator: g), w = Tensor<Double>.normal([400, 1400], generator: g)
        return [matmul(a.sliced(axis: 1, 0..<700).contiguous(), c).scalars, matmul(a, b).scalars,
                matmul(x.sliced(axis: 1, 0..<700).contiguous(), w.sliced(axis: 0, 0..<300).sliced(axis: 1, 0..<700).contiguous().T).scalars,
                matmul(x, w.T).scalars]
    }

    /// Runs `body` with this thread's GEMM plans taking L2 as `bytes` (0: the detected size): the
    /// paths of CPUs with other caches (a split product's B shared or packed per chunk, C
    /// streamed, ...).
    func withL2<R>(_ bytes: Int, _ body: () -> R) -> R {
        onsager_force_l2_cache_bytes(bytes)
        defer { onsager_force_l2_cache_bytes(0) }
        return body()
    }

    /// The plans compared with one thread: two and three threads (a split product's row tasks are
    /// sized from the thread count) with the detected L2, and two planned for a small L2 (B shared
    /// by the threads, in blocks at once or one at a time) and for a large one (B packed by each
    /// chunk). Each is (threads, L2 bytes), with 0 bytes for the detected size.
    static let splitPlans = [(2, 0), (3, 0), (2, 128 << 10), (2, 64 << 20)]

    @Test func largeOpsAreBitIdenticalForAnyThreadCount() {
        for tuning in Self.tunings(isa: Self.hardwareLevel) {
            let one = withSettings(threads: 1, tuning: tuning, Self.largeOps)
            for (threads, l2) in Self.splitPlans {
                let many = withL2(l2) { withSettings(threads: threads, tuning: tuning, Self.largeOps) }
                Self.expectIdentical(one, many, "\(threads) threads, \(tuning) tuning, L2 taken as \(l2) bytes")
            }
        }
        for isa in Set([1, Self.hardwareLevel]) where isa >= 1 && isa <= Self.hardwareLevel {
            let one = withSettings(threads: 1, isa: isa, Self.largeDoubleOps)
            for (threads, l2) in Self.splitPlans {
                let many = withL2(l2) { withSettings(threads: threads, isa: isa, Self.largeDoubleOps) }
                #expect(one == many, "Double, \(threads) threads, isa \(isa), L2 taken as \(l2) bytes")
            }
        }
        // The AVX2 kernels too (K blocks of 256, which a split product over a shared B packs all
        // at once, as every ISA does: gemm.c, G_ALL_K_BLOCKS; or each chunk packs for itself).
        if Self.hardwareLevel > 1 {
            let one = withSettings(threads: 1, isa: 1, Self.largeOps)
            for (threads, l2) in Self.splitPlans {
                let many = withL2(l2) { withSettings(threads: threads, isa: 1, Self.largeOps) }
                Self.expectIdentical(one, many, "\(threads) threads, AVX2, L2 taken as \(l2) bytes")
            }
        }
    }

    /// The non-finite scan a training loop makes of every gradient splits a long tensor into tasks
    /// (chunks of 32,768 values) and sums their counts: every NaN and ±∞ is counted once, whatever
    /// the thread count, the ISA and where the values fall (a chunk's first and last value, the
    /// tail past the last whole vector), in Float and Double.
    @Test func nonFiniteScanCountsEveryValueAtAnyThreadCount() {
        func check<S: TensorScalar>(_: S.Type) {
            let n = 3 * 65_536 + 1_001
            var values = [S](repeating: 1, count: n)
            let bad = [0, 65_535, 65_536, 131_071, 131_072, 196_608, n - 17, n - 1]
            for (i, at) in bad.enumerated() { values[at] = i % 3 == 0 ? .nan : (i % 3 == 1 ? .infinity : -.infinity) }
            let t = Tensor<S>(shape: [n], scalars: values)
            for isa in 0...Self.hardwareLevel {
                for threads in [1, 2, 3] {
                    let count = withSettings(threads: threads, isa: isa) { AnomalyDetection.nonFiniteCount(t) }
                    #expect(count == bad.count, "\(S.self), ISA \(isa), \(threads) threads: \(count) non-finite values counted, \(bad.count) there")
                }
            }
            let clean = Tensor<S>(shape: [n], scalars: [S](repeating: 2, count: n))
            #expect(withSettings(threads: 2) { AnomalyDetection.nonFiniteCount(clean) } == 0)
        }
        check(Float.self)
        check(Double.self)
    }

    /// Large copies and gathers (a batch of rows picked from a data set, a transpose made
    /// contiguous, a concatenation, a strided long row, a 3-D permutation) run as pool tasks once
    /// they reach 65,536 values: each equals the element-by-element result at 1, 2 and 3 threads,
    /// with rows picked repeatedly and out of order, blocks inside an outer dimension, a task's
    /// last short span, Float and Double.
    @Test func largeCopiesAndGathersAreExactAtAnyThreadCount() {
        func check<S: TensorScalar>(_: S.Type) {
            let g = RandomGenerator(seed: 21)
            let data = Tensor<S>.normal([3_001, 100], generator: g)
            let rows = (0..<997).map { ($0 * 7_919 + $0 / 3) % 3_001 } + [3_000, 0, 0, 1_500]
            let cube = Tensor<S>.normal([3, 700, 40], generator: g)
            let picks = (0..<650).map { (699 - $0 * 13 % 700) }
            let wide = Tensor<S>.normal([600, 509], generator: g)
            let long = Tensor<S>.normal([150_001], generator: g)
            let d = data.scalars, c = cube.scalars, w = wide.scalars, l = long.scalars
            var gathered: [S] = [], blocks: [S] = [], transposed: [S] = []
            for r in rows { gathered += d[(r * 100)..<(r * 100 + 100)] }
            for o in 0..<3 {
                for p in picks {
                    let start = (o * 700 + p) * 40
                    blocks += c[start..<(start + 40)]
                }
            }
            for j in 0..<509 { for i in 0..<600 { transposed.append(w[i * 509 + j]) } }
            // One long strided row (every other value: a single row of stride 2, copied in chunks)
            // and a rank-3 permutation (rows of a collapsed 3-D view spread over tasks).
            let everyOther = stride(from: 0, to: 150_001, by: 2).map { l[$0] }
            let box = Tensor<S>.normal([64, 40, 32], generator: g), bx = box.scalars
            var permuted: [S] = []
            for j in 0..<40 { for k in 0..<32 { for i in 0..<64 { permuted.append(bx[(i * 40 + j) * 32 + k]) } } }
            for threads in [1, 2, 3] {
                withSettings(threads: threads) {
                    #expect(data.indexSelect(axis: 0, indices: rows).scalars == gathered, "\(S.self), rows of [3001, 100], \(threads) threads")
                    #expect(cube.indexSelect(axis: 1, indices: picks).scalars == blocks, "\(S.self), blocks of [3, 700, 40], \(threads) threads")
                    #expect(wide.T.contiguous().scalars == transposed, "\(S.self), a transpose of [600, 509], \(threads) threads")
                    #expect(concat([long, long]).scalars == l + l, "\(S.self), concat of two [150001], \(threads) threads")
                    #expect(long.sliced(0..<150_001, step: 2).contiguous().scalars == everyOther, "\(S.self), every other value of [150001], \(threads) threads")
                    #expect(box.permuted([1, 2, 0]).contiguous().scalars == permuted, "\(S.self), [64, 40, 32] permuted, \(threads) threads")
                }
            }
        }
        check(Float.self)
        check(Double.self)
    }

    /// The GEMM's blocking family follows the CPU vendor (Intel's own on Intel CPUs), a selection
    /// holds for the calling thread until cleared, and the two families compute the same product.
    @Test func gemmTuningFollowsTheVendor() throws {
        Kernels.selectGEMMTuning(nil)
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if cpuinfo.contains("vendor_id") {
            #expect((Kernels.gemmTuning == .intel) == cpuinfo.contains("GenuineIntel"), "detected \(Kernels.gemmTuning)")
        }
        for tuning in GEMMTuning.allCases {
            Kernels.selectGEMMTuning(tuning)
            #expect(Kernels.gemmTuning == tuning)
        }
        Kernels.selectGEMMTuning(nil)
        let g = RandomGenerator(seed: 5)
        let a = Tensor<Float>.uniform([200, 784], low: -1, high: 1, generator: g), b = Tensor<Float>.uniform([784, 500], low: -1, high: 1, generator: g)
        let products = GEMMTuning.allCases.map { tuning in withSettings(threads: 2, tuning: tuning) { matmul(a, b).scalars } }
        let gap = zip(products[0], products[1]).map { Swift.abs($0 - $1) }.max() ?? .infinity
        #expect(gap < 1e-5 * 784, "general and Intel blocking differ by \(gap)")
        // At AVX-512 the two sum in different orders (K blocks of 784 and of 196), so the
        // selection is seen to take effect.
        if Self.hardwareLevel == 2 { #expect(products[0] != products[1]) }
    }

    /// ImageDeformation draws every random number before splitting images between threads, so a
    /// seeded batch is the same bits at 1 and 3 threads, and with delayed workers.
    @Test func imageDeformationIsIndependentOfThreads() {
        let x = Tensor<Float>.uniform([16, 784], generator: RandomGenerator(seed: 3))
        let deform = { ImageDeformation.ciresan2010(x, height: 28, width: 28, generator: RandomGenerator(seed: 42)).scalars }
        let one = withSettings(threads: 1, deform)
        #expect(one == withSettings(threads: 3, deform))
        Kernels.workerDelayForTesting = 200
        defer { Kernels.workerDelayForTesting = 0 }
        #expect(one == withSettings(threads: 2, deform))
    }

    /// Scheduling independence: workers slowed before every task (as a busy neighbour process
    /// would) take fewer tasks, and the caller more; every result stays bit-identical.
    @Test func resultsAreIdenticalWhenAWorkerIsDelayed() {
        let reference = withSettings(threads: 1, Self.largeOps)
        Kernels.workerDelayForTesting = 300
        defer { Kernels.workerDelayForTesting = 0 }
        #expect(Kernels.workerDelayForTesting == 300)
        for threads in [2, 3] {
            Self.expectIdentical(reference, withSettings(threads: threads, Self.largeOps), "\(threads) threads, delayed workers")
        }
        #expect(withSettings(threads: 2, Self.seededTraining) == withSettings(threads: 1, Self.seededTraining))
    }

    /// A worker stalled inside its tasks, busy as a vCPU the host has taken away looks from inside
    /// the guest (no wait for a CPU in schedstat, no gap in a spin), leaves the caller waiting for
    /// its tasks: over a window of 50 ms in which that took over half the time, the pool judges it
    /// contention and runs the next jobs in the caller, with the same results.
    @Test func aStalledWorkerSendsJobsToTheCaller() {
        let x = Tensor<Float>.normal([262_144], generator: RandomGenerator(seed: 5))
        let reference = withSettings(threads: 1) { x.exp().scalars }
        // Row sums and softmax, whose plans at 2 threads split the rows in tasks (one pass at 1
        // thread, and in a one-thread span).
        let rows = x.reshaped([256, 1024])
        let rowReference = withSettings(threads: 1) { (rows.sum(axis: 1).scalars, rows.softmax(axis: 1).scalars) }
        let saved = Kernels.threadCount, detection = Kernels.contentionDetection
        Kernels.threadCount = 2
        Kernels.contentionDetection = true
        onsager_pool_clear_contention()
        onsager_set_worker_stall(20_000)
        defer {
            onsager_set_worker_stall(0)
            onsager_pool_clear_contention()
            Kernels.contentionDetection = detection
            Kernels.threadCount = saved
        }
        var same = true, jobs = 0
        let start = Date()
        while onsager_pool_contended() == 0 && Date().timeIntervalSince(start) < 5 {
            same = same && x.exp().scalars == reference
            jobs += 1
        }
        #expect(onsager_pool_contended() != 0, "after \(jobs) jobs over \(Date().timeIntervalSince(start)) s with a worker stalled 20 ms in every task, the pool still splits jobs")
        #expect(same, "results changed while a worker was stalled")
        // Within the span (0.2 s at least) the pool splits nothing, and its account of the time
        // spent in one thread grows with the clock.
        var splits0 = 0, oneThread0 = 0, splits1 = 0, oneThread1 = 0
        onsager_pool_totals(&splits0, nil, &oneThread0)
        let t0 = DispatchTime.now().uptimeNanoseconds
        #expect(x.exp().scalars == reference, "results changed once jobs ran in the caller")
        // ... run as one task each: their one-thread plans (elementwise.c), not their 2-thread
        // chunks one after another.
        let spanJobs0 = onsager_pool_span_jobs()
        let sums = rows.sum(axis: 1).scalars, softmax = rows.softmax(axis: 1).scalars, exps = x.exp().scalars
        let spanJobs1 = onsager_pool_span_jobs()
        #expect(sums == rowReference.0 && softmax == rowReference.1 && exps == reference,
                "row sums, softmax or exp changed once jobs ran in the caller")
        if onsager_pool_contended() != 0 {
            #expect(spanJobs1 == spanJobs0, "\(spanJobs1 - spanJobs0) elementwise jobs ran their 2-thread plans in the caller")
        }
        usleep(50_000)
        let elapsed = Int(DispatchTime.now().uptimeNanoseconds - t0)
        onsager_pool_totals(&splits1, nil, &oneThread1)
        if onsager_pool_contended() != 0 {   // both readings inside the span (a slow runner may outlast it)
            #expect(splits1 == splits0, "the pool split \(splits1 - splits0) jobs while it judged the machine contended")
            #expect(oneThread1 - oneThread0 + 1_000_000 >= elapsed, "one-thread time grew \(oneThread1 - oneThread0) ns over \(elapsed) ns")
        }
    }

    /// A one-off stall (a host that takes a vCPU away for a moment) costs a short span in one
    /// thread, 0.2 s; contention seen again within half a second of its end, a longer one (a
    /// second at least): the neighbour is still there.
    @Test func aOneOffStallCostsAShortSpanAndARepeatALongerOne() {
        let x = Tensor<Float>.normal([262_144], generator: RandomGenerator(seed: 6))
        let saved = Kernels.threadCount, detection = Kernels.contentionDetection
        Kernels.threadCount = 2
        Kernels.contentionDetection = true
        onsager_pool_clear_contention()
        defer {
            onsager_set_worker_stall(0)
            onsager_pool_clear_contention()
            Kernels.contentionDetection = detection
            Kernels.threadCount = saved
        }
        let clock = { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
        // Runs jobs with a worker stalled 20 ms in every task until the pool runs them in the
        // caller (5 s at most); returns when it saw that, or nil.
        func stallUntilContended() -> Double? {
            onsager_set_worker_stall(20_000)
            defer { onsager_set_worker_stall(0) }
            let start = clock()
            while onsager_pool_contended() == 0 {
                if clock() - start > 5 { return nil }
                _ = x.exp()
            }
            return clock()
        }
        guard let first = stallUntilContended() else {
            Issue.record("a worker stalled 20 ms in every task for 5 s never sent jobs to the caller")
            return
        }
        // No job runs meanwhile, so nothing can start another span.
        while onsager_pool_contended() != 0 && clock() - first < 2 { usleep(5_000) }
        let ended = clock()
        #expect(ended - first < 0.35, "the first span lasted \(ended - first) s after it was seen")
        guard let second = stallUntilContended() else {
            Issue.record("stalled again right after the span, the pool never sent jobs to the caller")
            return
        }
        if second - ended < 0.4 {   // (a runner descheduled longer is past the probation)
            usleep(500_000)
            #expect(onsager_pool_contended() != 0, "the span that followed a span within \(second - ended) s ended within 0.5 s")
        }
    }

    /// Where the kernel counts a thread's wait for a CPU, the pool keeps reading that count after
    /// its workers start. A new thread reads "0 0 1" in /proc/thread-self/schedstat until the
    /// kernel first accounts its time; taken for "no count here", that zero once sent most
    /// processes to the slow-task rule, which a virtual machine's host defeats.
    @Test(.enabled(if: schedstatShowsCPUTime(), "this system has no /proc/thread-self/schedstat with CPU time"))
    func poolReadsTheKernelsCountOfWaitsWhereThereIsOne() {
        _ = withSettings(threads: 2, Self.largeOps)   // starts the workers and runs tasks on them
        #expect(onsager_pool_reads_cpu_wait() == 1)
    }

    /// Whether this thread's schedstat can be read and shows CPU time (after some work of its own).
    static func schedstatShowsCPUTime() -> Bool {
        var x = 0.0
        for i in 0..<2_000_000 { x += Double(i).squareRoot() }
        let text = try? String(contentsOfFile: "/proc/thread-self/schedstat", encoding: .utf8)
        let first = text?.split(separator: " ").first.flatMap { Int($0) } ?? 0
        return first > 0 && x > 0
    }

    /// A seeded training loop gives the same weights bit for bit with 1 and 2 threads.
    @Test func seededTrainingIsReproducibleWithTwoThreads() {
        let a = withSettings(threads: 1, Self.seededTraining), b = withSettings(threads: 2, Self.seededTraining)
        #expect(a == b)
        #expect(a != withSettings(threads: 2, isa: 2) { Tensor<Float>.normal([64, 256], std: 0.1, generator: RandomGenerator(seed: 5)).scalars })
    }

    static func seededTraining() -> [Float] {
        do {
            let g = RandomGenerator(seed: 5)
            var w = Tensor<Float>.normal([64, 256], std: 0.1, generator: g).requiringGrad()
            let x = Tensor<Float>.uniform([128, 64], generator: g)
            let target = Tensor<Float>.bernoulli(Tensor(repeating: 0.5, shape: [128, 256]), generator: g)
            for _ in 0..<5 {
                let noisy = x * Tensor<Float>.bernoulli(Tensor(repeating: 0.9, shape: x.shape), generator: g)
                let p = matmul(noisy, w).sigmoid()
                let loss = ((p - target) * (p - target)).mean()
                w.zeroGrad()
                loss.backward()
                w.addInPlace(w.grad!, alpha: -0.5)
            }
            return w.scalars
        }
    }

    @Test func threadCountSetting() {
        withSettings(threads: 3) { #expect(Kernels.threadCount == 3) }
        withSettings(threads: 0) { #expect(Kernels.threadCount == 1) }
        withSettings(threads: 99_999_999_999) { #expect(Kernels.threadCount == Kernels.maximumThreadCount) }
        #expect(["avx512", "avx2", "portable"].contains(Kernels.instructionSet))
    }

    /// The L2 size the GEMM plans with: the C library's figure when it gives a plausible one
    /// (64 KiB to 64 MiB), else 1 MiB.
    @Test func l2CacheSizeForGEMMPlans() {
        let l2 = onsager_l2_cache_bytes()
        #expect(l2 >= 64 << 10 && l2 <= 64 << 20, "\(l2)")
        #if os(Linux)
        let reported = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        #expect(l2 == (reported >= 64 << 10 && reported <= 64 << 20 ? reported : 1 << 20), "\(l2) vs sysconf \(reported)")
        #endif
    }

    /// The fused squared Gram product at every ISA level, by both routes (GEMM blocks of G's lower
    /// part folded by a vectorised kernel: n = 200 and 60 beside m = 300 and 150; the other side's
    /// Gram matrix: n = 60 and 20 beside m = 400 and 150): close to the composed products, and the
    /// same bits at one and two threads, both when each product is split between the threads (2
    /// or 3 particles, products large enough to split; m = 300 is three row blocks) and when the
    /// particles go out as tasks (9 particles).
    @Test func squaredGramProductAtEveryISAAndThreadCount() {
        let g = RandomGenerator(seed: 56)
        for (p, n, m) in [(2, 200, 300), (9, 60, 150), (3, 60, 400), (9, 20, 150)] {
            let w = Tensor<Double>.normal([n, m], generator: g), k = Tensor<Double>.uniform([p, n], low: 0, high: 0.25, generator: g)
            let x = Tensor<Double>.uniform([p, m], generator: g)
            let gram = matmul(w.T, w.unsqueezed(0) * k.unsqueezed(2))
            let want = matmul(gram * gram, x.unsqueezed(2)).squeezed(2)
            let (wf, kf, xf) = (w.converted(to: Float.self), k.converted(to: Float.self), x.converted(to: Float.self))
            for isa in 0...Self.hardwareLevel {
                let one = withSettings(threads: 1, isa: isa) { withoutGrad { Tensor<Double>.squaredGramProduct(w, weights: k, x) } }
                let two = withSettings(threads: 2, isa: isa) { withoutGrad { Tensor<Double>.squaredGramProduct(w, weights: k, x) } }
                #expect(allClose(one, want, rtol: 1e-12, atol: 1e-12), "\(p) particles, ISA \(isa)")
                #expect(one.scalars == two.scalars, "\(p) particles, ISA \(isa): two threads differ from one")
                let oneF = withSettings(threads: 1, isa: isa) { withoutGrad { Tensor<Float>.squaredGramProduct(wf, weights: kf, xf) } }
                let twoF = withSettings(threads: 2, isa: isa) { withoutGrad { Tensor<Float>.squaredGramProduct(wf, weights: kf, xf) } }
                #expect(allClose(oneF.converted(to: Double.self), want, rtol: 1e-4, atol: 1e-4), "Float, \(p) particles, ISA \(isa)")
                #expect(oneF.scalars == twoF.scalars, "Float, \(p) particles, ISA \(isa): two threads differ from one")
            }
        }
    }

    /// Convolution (alone, with its fused ReLU and with ReLU and pooling), max and average pooling (values; gradients by the fused backward and by the
    /// recorded one; a second derivative) give the same bits at 1, 2 and 3 threads: a batch of one
    /// (folds split by channel planes, each image's product split between threads) and of eight
    /// (images as tasks at 2 threads), overlapping windows with padding.
    @Test func windowKernelsIgnoreThreadCount() {
        let gen = RandomGenerator(seed: 77)
        for n in [1, 8] {
            let x = Tensor<Float>.normal([n, 3, 9, 10], generator: gen), w = Tensor<Float>.normal([4, 3, 3, 3], generator: gen)
            let v = Tensor<Float>.normal([n, 4, 2, 5], generator: gen), b = Tensor<Float>.normal([4], generator: gen)
            func run() -> [[Float]] {
                let xi = x.requiringGrad(), wi = w.requiringGrad(), bi = b.requiringGrad()
                let y = conv2d(xi, weight: wi, bias: bi, stride: (2, 1), padding: (1, 2))
                let p = maxPool2d(conv2dReLU(xi, weight: wi, bias: bi, stride: (2, 1), padding: (1, 2)), kernel: (3, 3), stride: (2, 2))
                // The fused backward (C, image by image), then the recorded one and a second derivative.
                let fused = gradients(of: (p * v).sum(), wrt: [xi, wi, bi], retainGraph: true)
                let gs = gradients(of: (p * v).sum(), wrt: [xi, wi], createGraph: true)
                let gg = gradients(of: (gs[0] * gs[0]).sum(), wrt: [wi])[0]
                let plain = gradients(of: (y * y).sum(), wrt: [xi, wi, bi], retainGraph: true)
                let pooled = conv2dReLUMaxPool(xi, weight: wi, bias: bi, stride: (2, 1), padding: (1, 2), poolKernel: (2, 2))
                let pooledGradients = gradients(of: (pooled * pooled).sum(), wrt: [xi, wi, bi])
                let composedPool = maxPool2d(y.relu(), kernel: (3, 3), stride: (2, 2))
                let composedGradients = gradients(of: (composedPool * v).sum(), wrt: [xi, wi, bi], retainGraph: true)
                // Windows as rows and their fold (average pooling's path).
                let a = avgPool2d(xi, kernel: (2, 3), stride: (1, 2))
                let ga = gradients(of: (a * a).sum(), wrt: [xi])[0]
                return [y.scalars, p.scalars, pooled.scalars] + fused.map(\.scalars) + plain.map(\.scalars) + pooledGradients.map(\.scalars) + composedGradients.map(\.scalars) + [gs[0].scalars, gs[1].scalars, gg.scalars, a.scalars, ga.scalars]
            }
            let one = withSettings(threads: 1) { run() }
            for t in [2, 3] {
                #expect(withSettings(threads: t) { run() } == one, "batch \(n): \(t) threads differ from one")
            }
        }
    }

    /// The optimizers' one-pass updates (update_template.h) split large parameters into tasks: the same
    /// bits at any thread count, and every instruction set within Float rounding of the others.
    @Test func updateRulesIgnoreThreadCount() {
        func run() -> [[Float]] {
            let gen = RandomGenerator(seed: 5)
            let start = Tensor<Float>.normal([200_003], generator: gen), target = Tensor<Float>.normal([200_003], generator: gen)
            func train<O: Optimizer>(_ optimizer: O) -> [Float] where O.Scalar == Float {
                var opt = optimizer, ps = [start.requiringGrad()]
                for _ in 0..<3 {
                    ps[0].zeroGrad()
                    ((ps[0] - target) * (ps[0] - target)).sum().backward()
                    opt.step(&ps)
                }
                return ps[0].scalars
            }
            return [train(SGD<Float>(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01)),
                    train(Adam<Float>(learningRate: 0.01, weightDecay: 0.1, decoupledWeightDecay: true)),
                    train(RMSProp<Float>(momentum: 0.5, centered: true)),
                    train(AdaGrad<Float>(learningRate: 0.1, weightDecay: 0.01))]
        }
        let one = withSettings(threads: 1) { run() }
        for t in [2, 3] { #expect(withSettings(threads: t) { run() } == one, "\(t) threads differ from one") }
        for isa in 0..<Self.hardwareLevel {
            let other = withSettings(threads: 2, isa: isa) { run() }
            for (a, b) in zip(other, one) {
                let err = zip(a, b).map { abs($0 - $1) / Swift.max(abs($1), 1) }.max()!
                #expect(err < 1e-5, "isa \(isa): \(err) from the widest")
            }
        }
    }

    /// Float erf, GELU and GELU's backward against Double (the C library's erf and erfc) on a
    /// dense grid, at every instruction set: erf within 3 ulp (2.5 over 2e7 points); GELU within 64 ulp where it is
    /// over 1e-6 in size (x ≥ −5.5: the rounding of x/√2, squared, moves erfc's exponent) and within
    /// 1e-4 relative in the far left tail, where 1 + erf(x/√2) would have cancelled to nothing;
    /// the backward within 2e-6 of GELU′ (which crosses 0 near x = −0.75).
    @Test(arguments: [0, 1, 2])
    func erfAndGeluFollowDouble(isa: Int) {
        guard isa <= Self.hardwareLevel else { return }
        let grid = (0...48_000).map { -12 + Double($0) / 2000 }
        let x = Tensor<Float>(grid.map { Float($0) }), xd = x.converted(to: Double.self)
        let (erf, gelu, slope) = withSettings(threads: 1, isa: isa) { () -> ([Float], [Float], [Float]) in
            let xi = x.requiringGrad()
            let y = xi.gelu()
            return (x.erf().scalars, y.scalars, gradients(of: y.sum(), wrt: [xi])[0].scalars)
        }
        func ulps(_ got: Float, _ want: Double) -> Double {
            let w = Float(want)
            return abs(Double(got) - want) / Double(w.magnitude.nextUp - w.magnitude)
        }
        var worst = (erf: 0.0, gelu: 0.0, tail: 0.0, slope: 0.0)
        for (i, v) in xd.scalars.enumerated() {
            let phi = 0.5 * Foundation.erfc(-v / 2.0.squareRoot()), g = v * phi
            if v != 0 { worst.erf = max(worst.erf, ulps(erf[i], Foundation.erf(v))) }
            if v >= -5.5 { if v != 0 { worst.gelu = max(worst.gelu, ulps(gelu[i], g)) } }
            else if g != 0 { worst.tail = max(worst.tail, abs(Double(gelu[i]) - g) / abs(g)) }
            worst.slope = max(worst.slope, abs(Double(slope[i]) - (phi + v * exp(-v * v / 2) / (2 * Double.pi).squareRoot())))
        }
        #expect(worst.erf <= 3 && worst.gelu <= 64 && worst.tail < 1e-4 && worst.slope < 2e-6, "isa \(isa): \(worst)")
        let special = Tensor<Float>([.infinity, -.infinity, .nan, 0, -0.0])
        let (e, s) = withSettings(threads: 1, isa: isa) { () -> ([Float], [Float]) in
            let si = special.requiringGrad()
            return (special.erf().scalars, gradients(of: si.gelu().sum(), wrt: [si])[0].scalars)
        }
        #expect(e[0] == 1 && e[1] == -1 && e[2].isNaN && e[3] == 0 && e[4] == 0 && e[4].sign == .minus, "isa \(isa): erf \(e)")
        #expect(s[0] == 1 && s[1] == 0 && s[2].isNaN && s[3] == 0.5 && s[4] == 0.5, "isa \(isa): GELU′ \(s)")
    }

    /// Row reductions run in vectors with a scalar tail: every row length from 1 to 70 (shorter
    /// than a vector, whole vectors, ragged tails), every ISA, Float and Double. Maxima and minima
    /// equal a plain loop's (also with ±∞), a NaN at any position makes the row NaN, and sums stay
    /// within rounding of the Double sum.
    @Test(arguments: [0, 1, 2])
    func rowReductionsFollowTheirDefinitions(isa: Int) {
        guard isa <= Self.hardwareLevel else { return }
        let g = RandomGenerator(seed: 41)
        for n in 1...70 {
            var rows = Tensor<Double>.normal([n + 2, n], generator: g).scalars
            rows[n * n + (n - 1)] = .infinity        // row n: +∞ at the end
            rows[(n + 1) * n] = -.infinity           // row n + 1: −∞ at the start
            let shape = [n + 2, n]
            let (maxF, minF, sumF, maxD, minD, sumD) = withSettings(threads: 1, isa: isa) {
                let f = Tensor<Float>(shape: shape, scalars: rows.map { Float($0) }), d = Tensor<Double>(shape: shape, scalars: rows)
                return (f.max(axis: 1).scalars, f.min(axis: 1).scalars, f.sum(axis: 1).scalars,
                        d.max(axis: 1).scalars, d.min(axis: 1).scalars, d.sum(axis: 1).scalars)
            }
            for r in 0..<(n + 2) {
                let row = Array(rows[(r * n)..<((r + 1) * n)])
                #expect(maxD[r] == row.max()! && minD[r] == row.min()!, "isa \(isa), n \(n), row \(r): Double")
                #expect(maxF[r] == Float(row.max()!) && minF[r] == Float(row.min()!), "isa \(isa), n \(n), row \(r): Float")
                let exact = row.reduce(0, +), scale = row.map(abs).reduce(0, +)
                if exact.isFinite {
                    #expect(abs(sumD[r] - exact) <= 1e-15 * scale && abs(Double(sumF[r]) - exact) <= 1e-6 * scale,
                            "isa \(isa), n \(n), row \(r): sums \(sumF[r]), \(sumD[r]) for \(exact)")
                }
            }
            for position in [0, n / 2, n - 1] {
                var withNaN = Array(rows[0..<n])
                withNaN[position] = .nan
                let (mx, mn) = withSettings(threads: 1, isa: isa) {
                    let t = Tensor<Float>(shape: [1, n], scalars: withNaN.map { Float($0) })
                    return (t.max(axis: 1).item, t.min(axis: 1).item)
                }
                #expect(mx.isNaN && mn.isNaN, "isa \(isa), n \(n): NaN at \(position) gave max \(mx), min \(mn)")
            }
        }
    }

    /// Softmax's and layer normalisation's row kernels split rows into tasks (its γ's and β's
    /// gradients columns), batch normalisation's channel kernels channels: the same bits at any
    /// thread count.
    @Test func rowKernelsIgnoreThreadCount() {
        let x = Tensor<Float>.normal([301, 300], generator: RandomGenerator(seed: 12))
        let w = Tensor<Float>.normal([301, 300], generator: RandomGenerator(seed: 13))
        func run() -> [[Float]] {
            let xi = x.requiringGrad(), ln = LayerNorm<Float>(size: 300)
            let y = xi.softmax(), z = ln(xi)
            let b = BatchNorm<Float>(features: 43)(xi.reshaped([7, 43, 300]))
            let layerNormGradients = gradients(of: (z * w).sum(), wrt: [xi, ln.scale, ln.shift]).map { $0.scalars }
            return [y.scalars, gradients(of: (y * w).sum(), wrt: [xi])[0].scalars, z.scalars] + layerNormGradients
                + [b.scalars, gradients(of: (b.reshaped([301, 300]) * w).sum(), wrt: [xi])[0].scalars]
        }
        let one = withSettings(threads: 1) { run() }
        for t in [2, 3] { #expect(withSettings(threads: t) { run() } == one, "\(t) threads differ from one") }
    }

    /// Element (i, j) of the product of row-major a (· × k) and b (k × n) in Double, and the sum of
    /// its terms' magnitudes (for error bounds).
    func doubleDot(_ a: [Float], _ b: [Float], _ i: Int, _ j: Int, n: Int, k: Int) -> (dot: Double, size: Double) {
        var dot = 0.0, size = 0.0
        for p in 0..<k {
            let term = Double(a[i * k + p]) * Double(b[p * n + j])
            dot += term
            size += Swift.abs(term)
        }
        return (dot, size)
    }

    /// Float products whose A is exactly bfloat16 (0/1 and a few small integers here) on AMX
    /// tiles, where the CPU has them: within the worst-case error bound of 3K exact terms summed in
    /// Float against a Double reference (|error| ≤ 3K·2⁻²⁴·Σ|a||b|) and with a largest error at
    /// most three times the vector kernels' (plus 2⁻²⁴ of the largest |C|), for row-major and
    /// transposed operands, αAB + βC, αAB into a C of NaN with β = 0, and relu(AB + bias); the same
    /// bits at 1 and 2 threads; an A with one inexact value, or an infinity, left to the vector
    /// kernels (the same bits as with the tiles off); infinities and NaNs in B as the vector kernels
    /// give them. The tiles are switched for this thread only (other suites run beside this one).
    @Test func exactOperandProductsOnMatrixTiles() {
        var state: UInt64 = 0x9E3779B97F4A7C15
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let tiles = Kernels.hasMatrixTiles
        if !tiles { print("exactOperandProductsOnMatrixTiles: no AMX here; checking the vector kernels' fallback only") }
        defer { onsager_set_thread_amx(-1) }
        // m x n x k, chosen over the path's 2 MFLOP floor, with ragged edges (rows, columns and k
        // not multiples of 16 or 32; an odd k). m = 100 and 64 have A packed by two tasks at two
        // threads (four row blocks or more), m = 33 by one.
        for (m, n, k) in [(100, 70, 160), (64, 40, 600), (33, 130, 251)] {
            let a = (0..<(m * k)).map { _ -> Float in
                let u = next()
                return u < 0.6 ? 0 : u < 0.9 ? 1 : u < 0.95 ? -2 : 3
            }
            let b = (0..<(k * n)).map { _ in Float((next() - 0.5) * 0.3) }
            let c0 = (0..<(m * n)).map { _ in Float(next() - 0.5) }
            let bias = (0..<n).map { _ in Float(next() - 0.5) }
            for transposedA in [false, true] {
                for transposedB in [false, true] {
                    // Operand storage: A row-major [m, k] or its transpose [k, m]; B the same.
                    let aStore = transposedA ? (0..<(k * m)).map { a[($0 % m) * k + $0 / m] } : a
                    let bStore = transposedB ? (0..<(n * k)).map { b[($0 % k) * n + $0 / k] } : b
                    let (rsa, csa) = transposedA ? (1, m) : (k, 1)
                    let (rsb, csb) = transposedB ? (1, k) : (n, 1)
                    for form in 0..<3 {   // 0: C = 0.5·AB + 1·C; 1: relu(AB + bias); 2: C = AB, C NaN before
                        func run(tilesOn: Bool, threads: Int, a aValues: [Float] = aStore, b bValues: [Float] = bStore) -> [Float] {
                            onsager_set_thread_amx(tilesOn ? 1 : 0)
                            var c = form == 2 ? [Float](repeating: .nan, count: m * n) : c0
                            withSettings(threads: threads) {
                                aValues.withUnsafeBufferPointer { ap in
                                    bValues.withUnsafeBufferPointer { bp in
                                        c.withUnsafeMutableBufferPointer { cp in
                                            if form == 0 {
                                                onsager_sgemm(m, n, k, 0.5, ap.baseAddress!, rsa, csa, bp.baseAddress!, rsb, csb, 1, cp.baseAddress!, n)
                                            } else if form == 2 {
                                                onsager_sgemm(m, n, k, 1, ap.baseAddress!, rsa, csa, bp.baseAddress!, rsb, csb, 0, cp.baseAddress!, n)
                                            } else {
                                                onsager_sgemm_bias_relu(m, n, k, 1, ap.baseAddress!, rsa, csa, bp.baseAddress!, rsb, csb, bias, cp.baseAddress!, n)
                                            }
                                        }
                                    }
                                }
                            }
                            return c
                        }
                        let what = "\(m)×\(n)×\(k), A \(transposedA ? "transposed" : "row-major"), B \(transposedB ? "transposed" : "row-major"), \(["αAB + βC", "relu(AB + bias)", "AB into NaN, β = 0"][form])"
                        let before = onsager_amx_product_count()
                        let one = run(tilesOn: true, threads: 1)
                        if tiles { #expect(onsager_amx_product_count() == before + 1, "\(what): not run on the tiles") }
                        let vector = run(tilesOn: false, threads: 1)
                        var worst = 0.0, worstTiles = 0.0, worstVector = 0.0, largest = 0.0
                        for i in 0..<m {
                            for j in 0..<n {
                                let (dot, size) = doubleDot(a, b, i, j, n: n, k: k)
                                var expected = form == 0 ? 0.5 * dot + Double(c0[i * n + j]) : form == 2 ? dot : dot + Double(bias[j])
                                if form == 1 { expected = Swift.max(expected, 0) }
                                let bound = 3 * Double(k) * 0x1p-24 * size + 1e-30
                                worst = Swift.max(worst, Swift.abs(Double(one[i * n + j]) - expected) / bound)
                                worstTiles = Swift.max(worstTiles, Swift.abs(Double(one[i * n + j]) - expected))
                                worstVector = Swift.max(worstVector, Swift.abs(Double(vector[i * n + j]) - expected))
                                largest = Swift.max(largest, Swift.abs(expected))
                            }
                        }
                        #expect(worst <= 1, "\(what): error \(worst) of the bound")
                        // The worst case above is loose (it would pass a 16-bit split); the typical
                        // error must be the vector kernels' too.
                        #expect(worstTiles <= 3 * worstVector + 0x1p-24 * largest,
                                "\(what): largest error \(worstTiles), the vector kernels' \(worstVector)")
                        let two = run(tilesOn: true, threads: 2)
                        #expect(one == two, "\(what): 1 and 2 threads differ")
                        // One value that is not a bfloat16, or an infinity (times a zero part it would
                        // add a NaN), last in A's storage: the vector kernels.
                        for odd: Float in [0.1, .infinity] {
                            var inexact = aStore
                            inexact[inexact.count - 1] = odd
                            let count = onsager_amx_product_count()
                            for threads in [1, 2] {   // (at 2, A's last rows may be packed by another task)
                                let fallback = run(tilesOn: true, threads: threads, a: inexact)
                                #expect(onsager_amx_product_count() == count, "\(what): an A holding \(odd) ran on the tiles")
                                let vector = run(tilesOn: false, threads: threads, a: inexact)
                                let same = zip(fallback, vector).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
                                #expect(same, "\(what), \(threads) threads: with \(odd) in A, not the vector kernels' product")
                            }
                        }
                        // Infinities and a NaN in B: where A's row has a nonzero in that k, the
                        // same class of value (±∞ or NaN) as the vector kernels give.
                        var special = bStore
                        special[0] = .infinity
                        special[special.count / 2] = -.infinity
                        special[special.count - 1] = .nan
                        let withTiles = run(tilesOn: true, threads: 1, b: special)
                        let without = run(tilesOn: false, threads: 1, b: special)
                        let agree = zip(withTiles, without).allSatisfy { x, y in
                            x.isNaN ? y.isNaN : x.isInfinite ? x == y : y.isFinite
                        }
                        #expect(agree, "\(what): infinities or NaN differ from the vector kernels")
                    }
                }
            }
        }
    }

    /// The masked adds are on by default only where they were measured to pay: AMD family 25
    /// (Zen 4). Zen 5 (family 26), later families and other vendors keep the FMA kernels unless
    /// asked; and no CPU without the adders has the path on by default. The family comes from
    /// CPUID leaf 1 (extended family added only above 15), and the switches read from the
    /// environment take 0/1, off/on, false/true, no/yes and nothing else.
    @Test func maskedAddsOnByDefaultOnlyWhereMeasured() {
        #expect(onsager_zero_one_default_for(1, 25) == 1, "Zen 4: on by default")
        #expect(onsager_zero_one_default_for(1, 26) == 0, "Zen 5: off until measured")
        #expect(onsager_zero_one_default_for(1, 27) == 0, "a later AMD family: off until measured")
        #expect(onsager_zero_one_default_for(0, 25) == 0, "not AMD: off")
        #expect(onsager_zero_one_default_for(0, 6) == 0, "Intel: off")
        // Leaf 1 EAX of an EPYC 9004 (Zen 4), 9005 (Zen 5), 7003 (Zen 3), a Xeon (Sapphire Rapids).
        #expect(onsager_cpuid_family(0x00A1_0F11) == 25)
        #expect(onsager_cpuid_family(0x00B0_0F21) == 26)
        #expect(onsager_cpuid_family(0x00A0_0F11) == 25)
        #expect(onsager_cpuid_family(0x0008_06F8) == 6, "the extended family must not count below 15")
        #expect(onsager_cpuid_family(0x00F0_0600) == 6, "the extended family must not count below 15")
        if Kernels.usesMaskedAddsByDefault {
            #expect(Kernels.hasSeparateAdders, "on by default on a CPU without separate adders")
        }
        for (value, expected) in [("0", 0), ("off", 0), ("False", 0), ("no", 0), ("1", 1), ("ON", 1), ("true", 1), ("yes", 1),
                                  ("", -1), ("01", -2), ("10", -2), ("2", -2), (" 1", -2), ("enable", -2)] {
            #expect(onsager_parse_switch(value) == Int32(expected), "'\(value)'")
        }
        #expect(onsager_parse_switch(nil) == -1)
        for (value, expected) in [("avx512", 2), ("AVX2", 1), ("portable", 0), ("", -1), ("a", -2), ("avx", -2), ("sse4", -2)] {
            #expect(onsager_parse_isa(value) == Int32(expected), "'\(value)'")
        }
    }

    /// A 0/1 A stored by columns (an RBM's vᵀ in its weight gradient vᵀ·h) whose rows are sparse
    /// leaves the masked adds for the rows path: its rows with few ones computed by sparse_rows.c,
    /// the others by the FMA kernels (onsager_sparse_rows_before_zero_one); the FMA kernels' bits
    /// at 1 and 2 threads (at 2 the sparse rows are listed in chunks, as pool tasks). A denser A, or
    /// the same product with a bias, stays with the masked adds.
    @Test func sparseZeroOneRowsLeaveTheMaskedAdds() {
        guard Kernels.limitInstructionSet(2) == 2 else {
            print("sparseZeroOneRowsLeaveTheMaskedAdds: no AVX-512 here; the masked adds cannot run")
            return
        }
        var draws = Draws()   // (SkipZerosTests.swift)
        defer {
            onsager_set_thread_zero_one(-1)
            onsager_set_thread_sparse_rows(1)
            onsager_set_thread_amx(-1)
        }
        onsager_set_thread_amx(0)
        // (600 rows of K = 100: enough for the rows' lists to be made in chunks at 2 threads.)
        let (m, n, k) = (600, 200, 100)
        let b = (0..<(k * n)).map { _ in Float(draws.next() - 0.5) }
        let bias = (0..<n).map { _ in Float(draws.next() - 0.5) }
        // (density of ones, whether the rows path takes it without a bias): the estimate's even point
        // is 35 % ones in rows under half of K.
        for (density, rowsPath) in [(0.15, true), (0.3, true), (0.6, false)] {
            let a = (0..<(k * m)).map { _ in Float(draws.next() < density ? 1 : 0) }   // A[i + k·m]: by columns
            func run(adds: Bool, sparseRows: Bool = true, threads: Int, withBias: Bool = false) -> [Float] {
                onsager_set_thread_zero_one(adds ? 1 : 0)
                onsager_set_thread_sparse_rows(sparseRows ? 1 : 0)
                var c = [Float](repeating: .nan, count: m * n)
                withSettings(threads: threads, tuning: .general) {
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer { cp in
                                if withBias {
                                    onsager_sgemm_bias(m, n, k, 1, ap.baseAddress!, 1, m, bp.baseAddress!, n, 1, bias, cp.baseAddress!, n)
                                } else {
                                    onsager_sgemm(m, n, k, 1, ap.baseAddress!, 1, m, bp.baseAddress!, n, 1, 0, cp.baseAddress!, n)
                                }
                            }
                        }
                    }
                }
                return c
            }
            let what = "\(m)×\(n)×\(k), A by columns, \(density) ones"
            let (adds0, sparse0) = (onsager_zero_one_product_count(), onsager_sparse_rows_product_count())
            let chosen = run(adds: true, threads: 1)
            #expect(onsager_zero_one_product_count() - adds0 == (rowsPath ? 0 : 1), "\(what): masked adds \(rowsPath ? "ran" : "did not run")")
            #expect(onsager_sparse_rows_product_count() - sparse0 == (rowsPath ? 1 : 0), "\(what): rows path \(rowsPath ? "did not run" : "ran")")
            let fma = run(adds: false, sparseRows: false, threads: 1)
            #expect(chosen.elementsEqual(fma) { $0.bitPattern == $1.bitPattern }, "\(what): not the FMA kernels' bits")
            #expect(run(adds: true, threads: 2).elementsEqual(chosen) { $0.bitPattern == $1.bitPattern }, "\(what): 1 and 2 threads differ")
            let adds1 = onsager_zero_one_product_count()
            let biased = run(adds: true, threads: 1, withBias: true)
            #expect(onsager_zero_one_product_count() == adds1 + 1, "\(what), with a bias: not by the masked adds")
            #expect(biased.elementsEqual(run(adds: false, sparseRows: false, threads: 1, withBias: true)) { $0.bitPattern == $1.bitPattern },
                    "\(what), with a bias: not the FMA kernels' bits")
        }
    }

    /// Float products whose A holds only 0 and 1 by FMAs and masked adds (zero_one_gemm.c), run on
    /// any AVX-512 CPU for this thread (the path's own switch; AMX off): the same bits as the FMA
    /// kernels under the general blocking (one K block up to 1024) for row-major, transposed and
    /// strided operands, αAB + βC and αAB + bias with α and β that round, relu(AB + bias) and AB
    /// into a C of NaN, with ragged rows (tails of 4, 1 and 9 rows: the 8- and 16-lane tiles) and
    /// columns, A holding -0; the same at 2 threads; K over 1024 within the Float error bound of a
    /// Double reference and identical at 1 and 2 threads; an A with any other value (0.5, -1, NaN)
    /// left to the FMA kernels; B holding infinities and a NaN gives the FMA kernels' bits for every
    /// finite result and NaN where they give NaN.
    @Test func zeroOneProductsByMaskedAdds() {
        guard Kernels.limitInstructionSet(2) == 2 else {
            print("zeroOneProductsByMaskedAdds: no AVX-512 here; the path cannot run")
            return
        }
        var state: UInt64 = 0x2545F4914F6CDD1D
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        defer {
            onsager_set_thread_zero_one(-1)
            onsager_set_thread_amx(-1)
            onsager_set_thread_sparse_rows(1)
        }
        onsager_set_thread_amx(0)
        // Sparse paths off: A's 37 % ones lie near the even point of the rows path against this one
        // (sparseZeroOneRowsLeaveTheMaskedAdds), and every product here must run by masked adds.
        onsager_set_thread_sparse_rows(0)
        // The switches: this thread's own setting, read through the public property; never below AVX-512.
        onsager_set_thread_zero_one(1)
        #expect(Kernels.usesMaskedAdds, "the thread's switch on, AVX-512: the path must be on")
        Kernels.limitInstructionSet(1)
        #expect(!Kernels.usesMaskedAdds, "capped to AVX2, the path must be off")
        Kernels.limitInstructionSet(2)
        onsager_set_thread_zero_one(0)
        #expect(!Kernels.usesMaskedAdds, "the thread's switch off: the path must be off")
        for (m, n, k) in [(100, 70, 160), (33, 130, 251), (73, 24, 1000), (40, 50, 1500)] {
            let a = (0..<(m * k)).map { _ -> Float in
                let u = next()
                return u < 0.6 ? 0 : u < 0.97 ? 1 : -0.0
            }
            let b = (0..<(k * n)).map { _ in Float((next() - 0.5) * 0.3) }
            let c0 = (0..<(m * n)).map { _ in Float(next() - 0.5) }
            let bias = (0..<n).map { _ in Float(next() - 0.5) }
            for layoutA in 0..<3 {   // row-major, transposed, every other element of a wider row
                for layoutB in 0..<3 {   // row-major, transposed, every other element of a wider row
                    let aStore: [Float], rsa: Int, csa: Int
                    switch layoutA {
                    case 0: (aStore, rsa, csa) = (a, k, 1)
                    case 1: (aStore, rsa, csa) = ((0..<(k * m)).map { a[($0 % m) * k + $0 / m] }, 1, m)
                    default: (aStore, rsa, csa) = ((0..<(2 * m * k)).map { $0 % 2 == 0 ? a[$0 / 2] : 7 }, 2 * k, 2)
                    }
                    let bStore: [Float], rsb: Int, csb: Int
                    switch layoutB {
                    case 0: (bStore, rsb, csb) = (b, n, 1)
                    case 1: (bStore, rsb, csb) = ((0..<(n * k)).map { b[($0 % k) * n + $0 / k] }, 1, k)
                    default: (bStore, rsb, csb) = ((0..<(2 * k * n)).map { $0 % 2 == 0 ? b[$0 / 2] : 7 }, 2 * n, 2)
                    }
                    // α and β that round (0.3, 0.7), so that the epilogues' rounding is compared too.
                    for form in 0..<4 {   // 0: 0.3·AB + 0.7·C; 1: relu(AB + bias); 2: AB into NaN; 3: 0.3·AB + bias
                        func run(adds: Bool, threads: Int, a aValues: [Float] = aStore, b bValues: [Float] = bStore) -> [Float] {
                            onsager_set_thread_zero_one(adds ? 1 : 0)
                            var c = form == 2 ? [Float](repeating: .nan, count: m * n) : c0
                            withSettings(threads: threads, tuning: .general) {
                                aValues.withUnsafeBufferPointer { ap in
                                    bValues.withUnsafeBufferPointer { bp in
                                        c.withUnsafeMutableBufferPointer { cp in
                                            let (A, B, C) = (ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
                                            switch form {
                                            case 0: onsager_sgemm(m, n, k, 0.3, A, rsa, csa, B, rsb, csb, 0.7, C, n)
                                            case 1: onsager_sgemm_bias_relu(m, n, k, 1, A, rsa, csa, B, rsb, csb, bias, C, n)
                                            case 2: onsager_sgemm(m, n, k, 1, A, rsa, csa, B, rsb, csb, 0, C, n)
                                            default: onsager_sgemm_bias(m, n, k, 0.3, A, rsa, csa, B, rsb, csb, bias, C, n)
                                            }
                                        }
                                    }
                                }
                            }
                            return c
                        }
                        // Elements whose bits differ (NaNs only by class where nanClass: the sign of a NaN made by
                        // 0·∞ depends on the order of the operations that carry it).
                        func differing(_ x: [Float], _ y: [Float], nanClass: Bool = false) -> Int {
                            zip(x, y).filter { $0.bitPattern != $1.bitPattern && !(nanClass && $0.isNaN && $1.isNaN) }.count
                        }
                        let what = "\(m)×\(n)×\(k), A \(["row-major", "transposed", "strided"][layoutA]), B \(["row-major", "transposed", "strided"][layoutB]), \(["0.3·AB + 0.7·C", "relu(AB + bias)", "AB into NaN", "0.3·AB + bias"][form])"
                        let before = onsager_zero_one_product_count()
                        let one = run(adds: true, threads: 1)
                        #expect(onsager_zero_one_product_count() == before + 1, "\(what): not run by masked adds")
                        let fma = run(adds: false, threads: 1)
                        if k <= 1024 {
                            #expect(differing(one, fma) == 0, "\(what): \(differing(one, fma)) of \(m * n) not the FMA kernels' bits")
                        } else {
                            var worst = 0.0
                            for i in 0..<m {
                                for j in 0..<n {
                                    let (dot, size) = doubleDot(a, b, i, j, n: n, k: k)
                                    var expected = [Double(Float(0.3)) * dot + Double(Float(0.7)) * Double(c0[i * n + j]), dot + Double(bias[j]), dot,
                                                    Double(Float(0.3)) * dot + Double(bias[j])][form]
                                    if form == 1 { expected = Swift.max(expected, 0) }
                                    let bound = Double(k + 2) * 0x1p-24 * (size + Swift.abs(expected)) + 1e-30
                                    worst = Swift.max(worst, Swift.abs(Double(one[i * n + j]) - expected) / bound)
                                }
                            }
                            #expect(worst <= 1, "\(what): error \(worst) of the bound")
                        }
                        #expect(differing(run(adds: true, threads: 2), one) == 0, "\(what): 1 and 2 threads differ")
                        guard form == 0 else { continue }
                        // Another value last in A's storage: the FMA kernels, whichever task packs it.
                        for odd: Float in [0.5, -1, .nan] {
                            var other = aStore
                            other[layoutA == 2 ? other.count - 2 : other.count - 1] = odd
                            let count = onsager_zero_one_product_count()
                            for threads in [1, 2] {
                                let fallback = run(adds: true, threads: threads, a: other)
                                #expect(onsager_zero_one_product_count() == count, "\(what): an A holding \(odd) ran by masked adds")
                                #expect(differing(fallback, run(adds: false, threads: threads, a: other)) == 0,
                                        "\(what), \(threads) threads: with \(odd) in A, not the FMA kernels' product")
                            }
                        }
                        // Infinities and a NaN in B: their column panels by the FMA kernels (0·∞ is NaN).
                        var special = bStore
                        let last = layoutB == 2 ? special.count - 2 : special.count - 1
                        special[0] = .infinity
                        special[last / 2 / 2 * 2] = -.infinity
                        special[last] = .nan
                        let count = onsager_zero_one_product_count()
                        let withAdds = run(adds: true, threads: 1, b: special)
                        #expect(onsager_zero_one_product_count() == count + 1, "\(what): B with infinities not taken")
                        if k <= 1024 {
                            #expect(differing(withAdds, run(adds: false, threads: 1, b: special), nanClass: true) == 0,
                                    "\(what): infinities or NaN in B differ from the FMA kernels")
                        }
                    }
                }
            }
        }
    }
}
