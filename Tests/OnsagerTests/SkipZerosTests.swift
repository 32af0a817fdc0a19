import Testing
import Onsager
@testable import OnsagerCore
import COnsagerKernels

/// Products that skip their left operand's all-zero columns and rows (skip_zeros.c): the same bits
/// as with the path off.
extension KernelSettingsTests {
    /// A deterministic generator for the operands.
    struct Draws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    /// One product with the path on and off (this thread's switch): C's bits, and whether the path
    /// ran. form 0: 0.7·AB; 1: AB + bias; 2: relu(AB + bias); 3: 0.7·AB + 0.3·C.
    func skipRun<T: TensorScalar>(_ type: T.Type, skip: Bool, m: Int, n: Int, k: Int, a: [T], rsa: Int, csa: Int,
                                  b: [T], rsb: Int, csb: Int, form: Int, alpha: T = 0.7) -> (c: [T], took: Bool) {
        onsager_set_thread_skip_zeros(skip ? 1 : 0)
        defer { onsager_set_thread_skip_zeros(-1) }
        let bias = (0..<n).map { j -> T in j % 5 == 0 ? -0.0 : T(j % 7) * 0.1 - 0.3 }
        var c = (0..<(m * n)).map { T($0 % 11) * 0.1 - 0.5 }
        let before = onsager_skip_zeros_product_count()
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                bias.withUnsafeBufferPointer { biasp in
                    c.withUnsafeMutableBufferPointer { cp in
                        let (A, B, C, bs) = (ap.baseAddress!, bp.baseAddress!, cp.baseAddress!, biasp.baseAddress!)
                        switch form {
                        case 0: T.kernelGEMM(m, n, k, alpha, A, rsa, csa, B, rsb, csb, 0, C, n)
                        case 1: T.kernelGEMMBias(m, n, k, alpha, A, rsa, csa, B, rsb, csb, bs, C, n)
                        case 2: T.kernelGEMMBiasReLU(m, n, k, alpha, A, rsa, csa, B, rsb, csb, bs, C, n)
                        default: T.kernelGEMM(m, n, k, alpha, A, rsa, csa, B, rsb, csb, 0.3, C, n)
                        }
                    }
                }
            }
        }
        return (c, onsager_skip_zeros_product_count() > before)
    }

    /// The product with the path off, then on: whether C's bits are the same, whether the path
    /// ran, and C with it on.
    func skipPair<T: TensorScalar>(_ type: T.Type, m: Int, n: Int, k: Int, a: [T], rsa: Int, csa: Int, b: [T], rsb: Int,
                                   csb: Int, form: Int, alpha: T = 0.7) -> (same: Bool, took: Bool, c: [T]) {
        let off = skipRun(type, skip: false, m: m, n: n, k: k, a: a, rsa: rsa, csa: csa, b: b, rsb: rsb, csb: csb, form: form,
                          alpha: alpha)
        let on = skipRun(type, skip: true, m: m, n: n, k: k, a: a, rsa: rsa, csa: csa, b: b, rsb: rsb, csb: csb, form: form,
                         alpha: alpha)
        return (sameBits(on.c, off.c), on.took, on.c)
    }

    /// Whether two results are the same bits (NaN compared as NaN: a NaN's payload is not kept).
    func sameBits<T: TensorScalar>(_ x: [T], _ y: [T]) -> Bool {
        zip(x, y).allSatisfy { $0.isNaN ? $1.isNaN : ($0 == $1 && $0.sign == $1.sign) }
    }

    /// A's all-zero columns dropped (a batch of ReLU outputs, or a masked gradient, times a weight
    /// matrix stored by rows or by columns): the same bits as the full product for every form (α that
    /// rounds, bias with -0, relu, β·C, which only a B stored by rows takes), at 1 and 2 threads,
    /// under both GEMM blockings, on AVX2 and portable, with K over one block (1500, 2100) and ragged
    /// shapes; a negative α, a first K block with every column zero and an all-zero A;
    /// Double too. Half of A's other values are zero and some zeros are -0; a seventh of the columns
    /// and some 5 % more are zero. The path must run where it
    /// applies (a tenth of the columns zero) and must not where B holds an infinity or NaN in a
    /// column left out: those give the full product's NaN.
    @Test func zeroColumnsSkippedWithTheSameBits() {
        var d = Draws()
        func operands(_ m: Int, _ n: Int, _ k: Int, deadShare: Double) -> ([Double], [Double]) {
            // Every seventh column and some others: over a sixteenth whatever the draws.
            let dead = (0..<k).map { j in deadShare > 0 && (j % 7 == 0 || d.next() < deadShare) }
            let a = (0..<(m * k)).map { x -> Double in
                let u = d.next()
                return dead[x % k] ? (u < 0.5 ? -0.0 : 0) : u < 0.5 ? (u < 0.1 ? -0.0 : 0) : u - 0.7
            }
            return (a, (0..<(k * n)).map { _ in d.next() - 0.5 })
        }
        var taken = 0
        for (m, n, k) in [(100, 300, 700), (200, 130, 1500), (37, 96, 300), (100, 70, 2100)] {
            let (a64, b64) = operands(m, n, k, deadShare: 0.05)
            let a = a64.map { Float($0) }, b = b64.map { Float($0) }
            let bT = (0..<(n * k)).map { b[($0 % k) * n + $0 / k] }
            for (isa, tuning) in [(2, GEMMTuning.general), (2, .intel), (1, .general), (0, .general)] where isa <= Self.hardwareLevel {
                for threads in [1, 2] {
                    withSettings(threads: threads, isa: isa, tuning: tuning) {
                        for byColumns in [false, true] {
                            let (bs, rsb, csb) = byColumns ? (bT, 1, k) : (b, n, 1)
                            for form in 0..<4 {
                                let off = skipRun(Float.self, skip: false, m: m, n: n, k: k, a: a, rsa: k, csa: 1, b: bs, rsb: rsb,
                                                  csb: csb, form: form)
                                let on = skipRun(Float.self, skip: true, m: m, n: n, k: k, a: a, rsa: k, csa: 1, b: bs, rsb: rsb,
                                                 csb: csb, form: form)
                                let (offTook, onTook, same) = (off.took, on.took, sameBits(on.c, off.c))
                                #expect(!offTook)
                                #expect(same,
                                        "\(m)x\(n)x\(k) B by \(byColumns ? "columns" : "rows") form \(form) isa \(isa) \(tuning) \(threads) threads")
                                // Every product here has some 15 % of its columns zero; those of 2
                                // MFLOP or more take the path, but for β·C with B by columns (it
                                // could not run again).
                                // (By columns, up to a row block: 96 rows on AVX2 and portable, 144 on AVX-512.)
                                let applies = Double(2 * m * n * k) >= 2e6 && !(form == 3 && byColumns) &&
                                    (!byColumns || m <= (isa == 2 ? 144 : 96))
                                if applies {
                                    #expect(onTook, "\(m)x\(n)x\(k) by columns \(byColumns) form \(form) isa \(isa): the path must run")
                                }
                                if onTook { taken += 1 }
                            }
                        }
                    }
                }
            }
            // An infinity or NaN in a row of B that a dropped column multiplies: the full product's
            // result, NaN where 0·∞ puts it, and the path not counted.
            if let zeroColumn = (0..<k).first(where: { j in (0..<m).allSatisfy { a[$0 * k + j] == 0 } }) {
                for bad in [Float.infinity, .nan] {
                    for byColumns in [false, true] {
                        var bb = b
                        bb[zeroColumn * n + n / 2] = bad
                        let bbT = (0..<(n * k)).map { bb[($0 % k) * n + $0 / k] }
                        let (bs, rsb, csb) = byColumns ? (bbT, 1, k) : (bb, n, 1)
                        let on = skipPair(Float.self, m: m, n: n, k: k, a: a, rsa: k, csa: 1, b: bs, rsb: rsb, csb: csb, form: 0)
                        let (same, nan, took) = (on.same, on.c[n / 2].isNaN, on.took)
                        #expect(same, "\(bad) in a row left out, B by columns \(byColumns)")
                        #expect(nan, "0·\(bad) must give NaN")
                        #expect(!took, "a product with \(bad) in a row left out must run with every term")
                    }
                }
            }
            // Double: the same template, the same bits.
            let bd = b64
            for form in 0..<3 {
                let on = skipPair(Double.self, m: m, n: n, k: k, a: a64, rsa: k, csa: 1, b: bd, rsb: n, csb: 1, form: form)
                let same = on.same
                #expect(same, "Double \(m)x\(n)x\(k) form \(form)")
            }
        }
        #expect(taken > 0)
        // A negative α; a first K block whose columns are all zero (its depth 0: the block still
        // stores the bias or β·C); an A all zero (Double: Float's would take the masked adds).
        let (a64, b64) = operands(100, 300, 2100, deadShare: 0.05)
        let firstBlockZero = a64.enumerated().map { $0.offset % 2100 < 700 ? 0 : $0.element }
        for (a, alpha) in [(a64, -0.7), (firstBlockZero, 0.7)] {
            for form in [0, 1, 3] {
                let af = a.map { Float($0) }, bf = b64.map { Float($0) }
                let on = skipPair(Float.self, m: 100, n: 300, k: 2100, a: af, rsa: 2100, csa: 1, b: bf, rsb: 300, csb: 1,
                                  form: form, alpha: Float(alpha))
                let (same, took) = (on.same, on.took)
                #expect(same && took, "α \(alpha), form \(form), first block zero: \(a == firstBlockZero)")
            }
        }
        // (K over one block: the sparse product takes an A all zero first, which it computes as
        // a row of no nonzeros; off, A's zero columns.)
        let zeroA = [Double](repeating: 0, count: 100 * 700)
        for sparseProduct in [false, true] {
            onsager_set_thread_sparse_rows(sparseProduct ? 1 : 0)
            defer { onsager_set_thread_sparse_rows(1) }
            for form in 0..<3 {
                let before = onsager_sparse_rows_product_count()
                let on = skipPair(Double.self, m: 100, n: 300, k: 700, a: zeroA, rsa: 700, csa: 1, b: Array(b64.prefix(700 * 300)),
                                  rsb: 300, csb: 1, form: form)
                let (same, took, sparse) = (on.same, on.took, onsager_sparse_rows_product_count() > before)
                #expect(same && (sparseProduct ? sparse : took), "an A all zero, form \(form), the sparse product \(sparseProduct)")
            }
        }
        // A dense A (no column all zero) is left to the full product.
        let (dense, bDense) = operands(100, 300, 700, deadShare: 0)
        let denseA = dense.map { Float($0 == 0 ? 0.25 : $0) }
        let denseTook = skipRun(Float.self, skip: true, m: 100, n: 300, k: 700, a: denseA, rsa: 700, csa: 1, b: bDense.map { Float($0) },
                                rsb: 300, csb: 1, form: 0).took
        #expect(!denseTook)
    }

    /// A's all-zero rows dropped (a weight gradient gᵀ·x whose units are off for the whole batch,
    /// gᵀ stored by columns, x by rows): the same bits as the full product, the rows left out filled
    /// as the kernels fill a sum of +0 (α·0 with α = -0.5 is -0; a bias of -0; relu), at 1 and 2
    /// threads, under both blockings, on AVX2 and portable; not taken for an x stored by columns,
    /// where B holds an infinity or NaN, or α is infinite.
    @Test func zeroRowsSkippedWithTheSameBits() {
        var d = Draws()
        for (m, n, k) in [(300, 200, 100), (130, 97, 300), (600, 96, 64)] {
            let dead = (0..<m).map { i in i % 7 == 0 || d.next() < 0.05 }   // over a sixteenth whatever the draws
            // A (m x k) stored by columns: column k holds sample k's m values, contiguous.
            let a = (0..<(m * k)).map { x -> Float in
                let u = d.next()
                return dead[x % m] ? (u < 0.5 ? -0.0 : 0) : u < 0.5 ? 0 : Float(u - 0.7)
            }
            let b = (0..<(k * n)).map { _ in Float(d.next() - 0.5) }
            for (isa, tuning) in [(2, GEMMTuning.general), (2, .intel), (1, .general), (0, .general)] where isa <= Self.hardwareLevel {
                for threads in [1, 2] {
                    withSettings(threads: threads, isa: isa, tuning: tuning) {
                        // B by columns does not take the path (its K blocks can depend on M): the same bits.
                        let bT = (0..<(n * k)).map { b[($0 % k) * n + $0 / k] }
                        let byColumnsOn = skipPair(Float.self, m: m, n: n, k: k, a: a, rsa: 1, csa: m, b: bT, rsb: 1, csb: k,
                                                   form: 0)
                        let (sameByColumns, tookByColumns) = (byColumnsOn.same, byColumnsOn.took)
                        #expect(sameByColumns && !tookByColumns, "\(m)x\(n)x\(k) B by columns")
                        for form in 0..<3 {
                            for alpha: Float in [1, -0.5] {
                                let on = skipPair(Float.self, m: m, n: n, k: k, a: a, rsa: 1, csa: m, b: b, rsb: n, csb: 1,
                                                  form: form, alpha: alpha)
                                let (same, took) = (on.same, on.took)
                                #expect(same, "\(m)x\(n)x\(k) form \(form) α \(alpha) isa \(isa) \(tuning) \(threads) threads")
                                #expect(took, "\(m)x\(n)x\(k): the rows path must run")
                            }
                        }
                    }
                }
            }
            for bad in [Float.infinity, .nan] {
                var bb = b
                bb[(k / 2) * n + n / 3] = bad
                let on = skipPair(Float.self, m: m, n: n, k: k, a: a, rsa: 1, csa: m, b: bb, rsb: n, csb: 1, form: 0)
                let (same, took) = (on.same, on.took)
                #expect(same && !took, "\(bad) in B: the full product")
                if let row = dead.firstIndex(of: true) {
                    let nan = on.c[row * n + n / 3].isNaN
                    #expect(nan, "0·\(bad) in a row left out")
                }
            }
            let inf = skipRun(Float.self, skip: true, m: m, n: n, k: k, a: a, rsa: 1, csa: m, b: b, rsb: n, csb: 1, form: 0,
                              alpha: .infinity)
            let infTook = inf.took
            #expect(!infTook, "an infinite α runs every row (∞·0 is NaN)")
        }
        // The switch: the process's setting, read through the public property, yields to the thread's.
        onsager_set_thread_skip_zeros(0)
        #expect(!Kernels.skipsZeros)
        onsager_set_thread_skip_zeros(1)
        #expect(Kernels.skipsZeros)
        onsager_set_thread_skip_zeros(-1)
    }

    /// Rows of gᵀ with few nonzeros (hidden units mostly off over a batch) computed by
    /// sparse_rows.c from their nonzeros alone, the other rows by the FMA kernels through a row map:
    /// the same bits as the full product, for rows off, with a few, a third, about half and most
    /// values nonzero (zeros of both signs), α = 1 and -0.5, at 1 and 2 threads, under both
    /// blockings, with a ragged last column block (N = 97, 150), in Double, and with B's all-zero
    /// columns dropped too (the rows spread over C), with runs of rows holding two sparse rows and
    /// one alone (AVX-512 lists the two by gathers, AVX2 from a transposed strip of eight, the one
    /// alone by gathers or value by value; ragged M and K), with rows enough to be listed in chunks
    /// at two threads, strips among them; an infinity or NaN in a
    /// sparse row is kept (its sums are the full product's). The loop must run where it applies
    /// (AVX-512 or AVX2, no bias or relu, K in one block, B's block read in passes where it passes
    /// L1) and not otherwise: a bias or relu, the
    /// portable kernels (only all-zero rows left out there), K over one block, or with the thread's switch off.
    @Test func sparseRowsComputedWithTheSameBits() {
        var d = Draws()
        // B's block read in passes wherever it passes L1 (forced on, so on every CPU: K = 600 here).
        onsager_set_thread_sparse_passes(1)
        defer { onsager_set_thread_sparse_passes(-1) }
        func check<T: TensorScalar>(_ type: T.Type, m: Int, n: Int, k: Int, forms: [Int], badValues: Bool,
                                    zeroColumns: Bool = false, scattered: Bool = false) {
            // scattered: every other run of 32 rows holds three sparse rows only, its 5th, 11th and
            // 21st. AVX-512 lists the 16 rows (8 in Double) from a sparse row on from a transposed
            // copy when they hold four sparse rows or more, else by gathers: the first two by
            // gathers. AVX2 (Float) does so for 8 rows holding two or more, else value by value:
            // the first two from a copy, the 21st value by value.
            let shares: [Double] = [0, 0.03, 0.15, 0.3, 0.45, 0.6, 0.95]
            let chance = (0..<m).map { (i: Int) -> Double in
                guard scattered && i / 32 % 2 == 0 else { return shares[i % 7] }
                return i % 32 == 5 || i % 32 == 11 || i % 32 == 21 ? 0.15 : 0.95
            }
            var a = (0..<(m * k)).map { x -> T in
                let u = d.next()
                return u < chance[x % m] ? T(d.next() - 0.6) : (d.next() < 0.8 ? 0 : -0.0)
            }
            // With zeroColumns, a fifth of B's columns and more are zero (+0 and -0): the B-columns
            // path, which spreads the sparse rows over C with its fill.
            let b = (0..<(k * n)).map { x -> T in
                zeroColumns && (x % n % 5 == 1 || x % n > n - 12) ? (x % 3 == 0 ? -0.0 : 0) : T(d.next() - 0.5)
            }
            var cases: [(a: [T], what: String)] = [(a, "")]
            if badValues {
                for bad in [T.infinity, .nan] {
                    a[(k / 2) * m + 2] = bad   // row 2: 15 % nonzero
                    a[(k / 3) * m + 3] = -bad
                    cases.append((a, " with \(bad) in a sparse row"))
                }
            }
            for (isa, tuning) in [(2, GEMMTuning.general), (2, .intel), (1, .general), (0, .general)] where isa <= Self.hardwareLevel {
                for threads in [1, 2] {
                    withSettings(threads: threads, isa: isa, tuning: tuning) {
                        for (aa, what) in cases {
                            for form in forms {
                                for alpha: T in form == 0 ? [1, -0.5] : [-0.5] {
                                    let before = onsager_sparse_rows_product_count()
                                    let on = skipPair(T.self, m: m, n: n, k: k, a: aa, rsa: 1, csa: m, b: b, rsb: n, csb: 1,
                                                      form: form, alpha: alpha)
                                    let sparse = onsager_sparse_rows_product_count() > before
                                    let same = on.same
                                    let label = "\(T.self) \(m)x\(n)x\(k)\(what) form \(form) α \(alpha) isa \(isa) \(tuning) \(threads) threads"
                                    #expect(same, "\(label): the full product's bits")
                                    #expect(on.took, "\(label): the rows path must run")
                                    // (K in one of the kernels' K blocks: 1024 deep for Float on AVX-512's general blocking, else 256)
                                    let kc = isa == 2 && tuning == .general && T.self == Float.self ? 1024 : 256
                                    #expect(sparse == (isa >= 1 && form == 0 && k <= kc), "\(label): the sparse rows")
                                }
                            }
                        }
                    }
                }
            }
        }
        check(Float.self, m: 300, n: 200, k: 100, forms: [0, 1, 2], badValues: true)
        check(Float.self, m: 130, n: 97, k: 200, forms: [0], badValues: false)
        check(Float.self, m: 173, n: 70, k: 90, forms: [0], badValues: false, scattered: true)
        // (about 300 sparse rows of K = 200, over the 50,000 values that are listed in chunks at two threads)
        check(Float.self, m: 900, n: 70, k: 200, forms: [0], badValues: false, scattered: true)
        check(Double.self, m: 165, n: 80, k: 100, forms: [0], badValues: false, scattered: true)
        check(Float.self, m: 200, n: 96, k: 1500, forms: [0], badValues: false)   // K over one block
        check(Float.self, m: 90, n: 70, k: 600, forms: [0], badValues: true)   // one block under the general blocking only
        check(Double.self, m: 200, n: 150, k: 100, forms: [0, 2], badValues: true)
        check(Float.self, m: 300, n: 200, k: 100, forms: [0, 2], badValues: true, zeroColumns: true)
        check(Double.self, m: 200, n: 131, k: 100, forms: [0], badValues: false, zeroColumns: true)
        // The thread's switch: off, only the all-zero rows are left out (the same bits).
        onsager_set_thread_sparse_rows(0)
        defer { onsager_set_thread_sparse_rows(1) }
        let before = onsager_sparse_rows_product_count()
        let a = (0..<(300 * 100)).map { x -> Float in x % 300 % 3 == 0 ? 0 : Float(d.next() - 0.5) * (d.next() < 0.2 ? 1 : 0) }
        let b = (0..<(100 * 200)).map { _ in Float(d.next() - 0.5) }
        let on = skipPair(Float.self, m: 300, n: 200, k: 100, a: a, rsa: 1, csa: 300, b: b, rsb: 200, csb: 1, form: 0)
        let (same, took, sparse) = (on.same, on.took, onsager_sparse_rows_product_count() > before)
        #expect(same && took && !sparse, "the switch off: all-zero rows only")
    }

    /// Products whose A (stored by rows) has few nonzeros in every row — an RBM's binary samples,
    /// images on a dark background — computed whole by sparse_rows.c, each row of C from its row's
    /// nonzeros: the same bits as the full product for 0/1 values and for values with zeros of both
    /// signs, α = 1 and -0.5, a bias and a bias and relu with α = 0.7, at 1 and 2 threads, under both blockings and
    /// on AVX2, with a ragged last column block, and in Double, over one K block of the kernels and
    /// several (their depth 1024 for Float on AVX-512 with the general blocking, 256 otherwise: each
    /// block's sums folded into C as they fold them; the masked adds off), with B's block read in
    /// passes (forced on, so on every CPU) and in one. Taken for K up to 1024, without β·C, with at
    /// most a quarter of A nonzero (35 % with the passes) and each row at most half (also where the rows
    /// sampled first are sparse and the others not), with a finite B; an infinity or NaN in B (not
    /// taken: the tasks find it as they copy B's blocks, in the first block or the last) and a NaN
    /// in A (taken) give the full product's NaNs.
    @Test func sparseProductComputedWithTheSameBits() {
        var d = Draws()
        // Against the FMA kernels: the masked adds (AMD's AVX-512 cores) sum a K over the forced
        // Intel blocking's depth in one run, not in its blocks (zero_one_gemm.c).
        onsager_set_thread_zero_one(0)
        defer { onsager_set_thread_zero_one(-1) }
        // densePasses: taken only with the passes (A over a quarter and at most 35 % nonzero).
        func check<T: TensorScalar>(_ type: T.Type, m: Int, n: Int, k: Int, density: Double, binary: Bool,
                                    expectTaken: Bool = true, densePasses: Bool = false, rowDensity: ((Int) -> Double)? = nil) {
            var a = (0..<(m * k)).map { x -> T in
                let u = d.next()
                return u < (rowDensity?(x / k) ?? density) ? (binary ? 1 : T(d.next() - 0.6)) : (d.next() < 0.7 ? 0 : -0.0)
            }
            var b = (0..<(k * n)).map { _ in T(d.next() - 0.5) }
            var cases: [(a: [T], b: [T], what: String, taken: Bool)] = [(a, b, "", expectTaken)]
            if expectTaken {
                // A NaN in B's last value (its last column block, ragged where n is): found as the
                // block is copied, the product left to the kernels.
                var bLast = b
                bLast[k * n - 1] = .nan
                cases.append((a, bLast, " with NaN in B's last value", false))
                a[5 * k + 7] = .nan
                cases.append((a, b, " with NaN in A", true))
                b[3 * n + 9] = .infinity
                cases.append((a, b, " with NaN in A and ∞ in B", false))
            }
            for (isa, tuning) in [(2, GEMMTuning.general), (2, .intel), (1, .general), (0, .general)] where isa <= Self.hardwareLevel {
                for (threads, passes) in [(1, 1), (2, 1), (1, 0)] {
                    onsager_set_thread_sparse_passes(Int32(passes))
                    defer { onsager_set_thread_sparse_passes(-1) }
                    withSettings(threads: threads, isa: isa, tuning: tuning) {
                        for (aa, bb, what, takenAlways) in cases {
                            let taken = takenAlways && (passes == 1 || !densePasses)
                            for form in [0, 1, 2, 3] {
                                for alpha: T in form == 0 ? [1, -0.5] : [0.7] {   // (0.7 rounds: α·sum + bias as one FMA, or not)
                                    let before = onsager_sparse_rows_product_count()
                                    let on = skipPair(T.self, m: m, n: n, k: k, a: aa, rsa: k, csa: 1, b: bb, rsb: n, csb: 1,
                                                      form: form, alpha: alpha)
                                    let sparse = onsager_sparse_rows_product_count() > before
                                    let same = on.same
                                    let label = "\(T.self) \(m)x\(n)x\(k) density \(density)\(binary ? " 0/1" : "")\(what) form \(form) α \(alpha) isa \(isa) \(tuning) \(threads) threads, passes \(passes)"
                                    #expect(same, "\(label): the full product's bits")
                                    #expect(sparse == (taken && isa >= 1 && form != 3 && k <= 1024), "\(label): the sparse product")
                                }
                            }
                        }
                    }
                }
            }
        }
        check(Float.self, m: 100, n: 200, k: 784, density: 0.13, binary: true)   // 4 K blocks of 196 (AVX2, Intel)
        check(Float.self, m: 40, n: 97, k: 1000, density: 0.15, binary: false)   // 4 of 250; ragged column blocks
        check(Double.self, m: 32, n: 70, k: 700, density: 0.1, binary: false)   // 3 of 234, 234 and 232
        check(Double.self, m: 24, n: 70, k: 1000, density: 0.1, binary: false)   // 4 of 250: passes inside them with an L1 under 50 KiB
        check(Float.self, m: 20, n: 100, k: 1100, density: 0.1, binary: true, expectTaken: false)   // K over 1024
        check(Float.self, m: 60, n: 97, k: 200, density: 0.2, binary: false)
        check(Double.self, m: 64, n: 131, k: 150, density: 0.1, binary: false)
        check(Float.self, m: 100, n: 200, k: 300, density: 0.4, binary: true, expectTaken: false)   // too dense
        // 30 % ones over K = 784: taken with the passes over B's block (L1 holds under 784 of its
        // rows on any CPU), not without them.
        check(Float.self, m: 120, n: 150, k: 784, density: 0.3, binary: true, densePasses: true)
        // The eight rows sampled first (0, 14, 28, ... 99 of 100) sparse, and then, listed: one other
        // row 80 % nonzero (over half), or the others 40 % (over 35 % in all): not taken; the others
        // 30 % (over a quarter in all, under 35 %): taken with the passes only.
        let sampled = Set((0..<8).map { $0 * 99 / 7 })
        check(Float.self, m: 100, n: 200, k: 784, density: 0.1, binary: true, densePasses: true,
              rowDensity: { sampled.contains($0) ? 0.1 : 0.3 })
        check(Float.self, m: 100, n: 200, k: 300, density: 0.1, binary: true, expectTaken: false,
              rowDensity: { $0 == 1 ? 0.8 : 0.1 })
        // (K = 784: at two threads the rows are listed in chunks, and the total is summed after
        // them; 40 %, so that no row comes near its limit, half of K, and the total rejects A.)
        check(Float.self, m: 100, n: 200, k: 784, density: 0.1, binary: true, expectTaken: false,
              rowDensity: { sampled.contains($0) ? 0.1 : 0.4 })
    }

    /// B's all-zero columns dropped (a weight gradient gᵀ·h whose h has units off for the whole
    /// batch, or whose x has pixels dark in every image): the same bits as the full product, the
    /// columns left out filled as the kernels fill a sum of +0 (α = -0.5, a bias of -0, relu), with
    /// A's all-zero rows dropped as well or not, A stored by columns or by rows, at 1 and 2 threads,
    /// under both blockings, on AVX2 and portable, K over one block, rows in several chunks, a C
    /// stored past the caches, and every column zero (Double);
    /// B's zero columns hold -0 too. Not taken (the full product's bits, NaN where 0·∞ puts it)
    /// for an A with an infinity or NaN, an infinite α, or β·C.
    @Test func zeroColumnsOfBSkippedWithTheSameBits() {
        var d = Draws()
        // The last shape runs in chunks of rows (C's part of each at most half of L2): fewer variants.
        for (m, n, k, deadRows, all) in [(300, 200, 100, true, true), (130, 97, 700, false, true), (100, 784, 100, true, true),
                                         (64, 300, 60, false, true), (250, 3000, 24, true, false)] {
            let deadColumn = (0..<n).map { j in j % 7 == 0 || d.next() < 0.2 }   // over an eighth whatever the draws
            let deadRow = (0..<m).map { i in deadRows && (i % 9 == 0 || d.next() < 0.05) }
            // A (m x k) stored by columns (gᵀ: sample k's m values contiguous), and the same values by rows.
            let a = (0..<(m * k)).map { x -> Float in
                let u = d.next()
                return deadRow[x % m] ? 0 : u < 0.5 ? (u < 0.1 ? -0.0 : 0) : Float(u - 0.7)
            }
            let aRows = (0..<(m * k)).map { a[($0 % k) * m + $0 / k] }
            let b = (0..<(k * n)).map { x -> Float in
                let u = d.next()
                return deadColumn[x % n] ? (u < 0.5 ? -0.0 : 0) : u < 0.3 ? 0 : Float(u - 0.6)
            }
            for (isa, tuning) in [(2, GEMMTuning.general), (2, .intel), (1, .general), (0, .general)] where isa <= Self.hardwareLevel {
                for threads in [1, 2] {
                    withSettings(threads: threads, isa: isa, tuning: tuning) {
                        for byRows in all ? [false, true] : [false] {
                            let (aa, rsa, csa) = byRows ? (aRows, k, 1) : (a, 1, m)
                            for form in all ? [0, 1, 2, 3] : [0, 2] {
                                for alpha: Float in all ? [1, -0.5] : [-0.5] {
                                    let on = skipPair(Float.self, m: m, n: n, k: k, a: aa, rsa: rsa, csa: csa, b: b, rsb: n,
                                                      csb: 1, form: form, alpha: alpha)
                                    let (same, took) = (on.same, on.took)
                                    #expect(same, "\(m)x\(n)x\(k) A by \(byRows ? "rows" : "columns") form \(form) α \(alpha) isa \(isa) \(tuning) \(threads) threads")
                                    // Every product here is over 2 MFLOP; β·C is left to the full product.
                                    #expect(took == (form != 3), "\(m)x\(n)x\(k) form \(form): the path runs for β = 0 only")
                                }
                            }
                        }
                    }
                }
            }
            // An infinity or NaN in A: a dropped column's sums hold 0·∞, so the full product runs.
            // (A's rows with few nonzeros would take the rows path, which keeps every column: off.)
            onsager_set_thread_sparse_rows(0)
            for bad in [Float.infinity, .nan] {
                var aa = a
                aa[(k / 2) * m + m / 3] = bad
                let on = skipPair(Float.self, m: m, n: n, k: k, a: aa, rsa: 1, csa: m, b: b, rsb: n, csb: 1, form: 0)
                let (same, took) = (on.same, on.took)
                #expect(same, "\(bad) in A: the full product's bits")
                if !deadRows {   // (with rows of A all zero, the rows path may still drop them)
                    #expect(!took, "\(bad) in A: B's columns must not be dropped")
                }
                if let column = deadColumn.firstIndex(of: true) {
                    let nan = on.c[(m / 3) * n + column].isNaN
                    #expect(nan, "\(bad)·0 in a column left out")
                }
            }
            onsager_set_thread_sparse_rows(1)
            let inf = skipRun(Float.self, skip: true, m: m, n: n, k: k, a: a, rsa: 1, csa: m, b: b, rsb: n, csb: 1, form: 0,
                              alpha: .infinity)
            let infTook = inf.took
            #expect(!infTook, "an infinite α runs every column (∞·0 is NaN)")
            // An infinity or NaN in a kept column of B: A's zero rows must not be left out (0·∞ in
            // their sums), B's zero columns still may.
            if let row = deadRow.firstIndex(of: true), let column = deadColumn.firstIndex(of: false) {
                for bad in [Float.infinity, .nan] {
                    var bb = b
                    bb[(k / 2) * n + column] = bad
                    let on = skipPair(Float.self, m: m, n: n, k: k, a: a, rsa: 1, csa: m, b: bb, rsb: n, csb: 1, form: 2)
                    let (same, nan) = (on.same, on.c[row * n + column].isNaN)
                    #expect(same, "\(bad) in a kept column of B: the full product's bits")
                    #expect(nan, "0·\(bad) in a row of A left out")
                }
            }
        }
        // A C over twice L2, which the path stores past the caches as the full product does (its rows
        // not 64-byte aligned: n ≡ 4 mod 16).
        let (sm, sk) = (128, 16), sn = Int(onsager_gemm_stream_min_bytes()) / (4 * 128) / 16 * 16 + 20
        let sa = (0..<(sm * sk)).map { _ in Float(d.next() - 0.5) }
        let sb = (0..<(sk * sn)).map { x in x % sn % 4 == 0 ? 0 : Float(d.next() - 0.5) }   // a quarter zero
        for (isa, threads) in [(2, 1), (2, 2), (0, 1)] where isa <= Self.hardwareLevel {
            withSettings(threads: threads, isa: isa, tuning: .general) {
                let on = skipPair(Float.self, m: sm, n: sn, k: sk, a: sa, rsa: 1, csa: sm, b: sb, rsb: sn, csb: 1, form: 2)
                let (same, took) = (on.same, on.took)
                #expect(same && took, "\(sm)x\(sn)x\(sk), C streamed, isa \(isa), \(threads) threads")
            }
        }
        // Every column of B zero (Double): C is the fill alone.
        let a = (0..<(200 * 100)).map { _ in d.next() - 0.5 }, zeroB = [Double](repeating: 0, count: 100 * 300)
        for form in 0..<3 {
            let on = skipPair(Double.self, m: 200, n: 300, k: 100, a: a, rsa: 1, csa: 200, b: zeroB, rsb: 300, csb: 1, form: form,
                              alpha: -0.5)
            let (same, took) = (on.same, on.took)
            #expect(same && took, "a B all zero, form \(form)")
        }
    }
}
