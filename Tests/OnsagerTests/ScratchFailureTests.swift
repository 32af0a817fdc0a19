import Testing
@testable import OnsagerCore
import COnsagerKernels

/// Products whose scratch memory runs out part way: each reservation the calling thread makes is
/// failed in turn (as out of memory), and the product must fall back to a path that gives the
/// same bits as with every reservation granted.
extension KernelSettingsTests {
    /// The skip paths (A's all-zero columns; A's rows with few nonzeros, computed by sparse_rows.c,
    /// and its all-zero rows with a bias and relu; a product whose A is sparse in every row,
    /// computed by sparse_rows.c whole; B's all-zero columns with the sparse rows spread over C) in Float and Double, on AVX-512 and
    /// AVX2, and the 0/1 products (masked adds or AMX tiles, where the CPU has them): for every
    /// reservation the product makes on one thread, the run in which that one fails gives the
    /// bits of the run in which none does. The run with none failing must take the path named (its
    /// counter), each product must reserve something, and the sweep must end. Before each run the
    /// same product of other values runs with none failing, so that what a run leaves in scratch
    /// memory cannot hide what a failed one skipped. At two threads the same for a weight gradient
    /// whose sparse rows are listed in chunks by the pool's threads (the calling thread's
    /// reservations failed in turn).
    @Test func scratchFailuresFallBackWithTheSameBits() {
        var d = Draws()
        let (m, n, k) = (300, 200, 100)
        // A stored by columns (gᵀ): rows off, with a few, a third, about half and most values nonzero.
        let chance = (0..<m).map { i in [0, 0.03, 0.15, 0.3, 0.45, 0.6, 0.95][i % 7] }
        let units = (0..<(m * k)).map { x -> Double in d.next() < chance[x % m] ? d.next() - 0.6 : 0 }
        // A batch stored by rows (200 of them: the path takes up to 256 with B by rows) with every
        // seventh column zero (units off for the whole batch).
        let batch = (0..<(200 * k)).map { x -> Double in x % k % 7 == 0 || d.next() < 0.5 ? 0 : d.next() - 0.5 }
        let b = (0..<(k * n)).map { _ in d.next() - 0.5 }
        let bZeroColumns = b.enumerated().map { $0.offset % n % 5 == 1 ? 0 : $0.element }
        let zeroOne = (0..<(m * k)).map { _ in d.next() < 0.3 ? 1.0 : 0 }
        // A stored by rows, an eighth nonzero in every row (an RBM's binary samples).
        let samples = (0..<(m * k)).map { _ in d.next() < 0.12 ? 1.0 : 0 }

        // The paths' counters of products run on this thread: the full run must take the path named.
        let skipped = { onsager_skip_zeros_product_count() }, sparse = { onsager_sparse_rows_product_count() }
        let zeroOneOrTiles = { onsager_zero_one_product_count() + onsager_amx_product_count() }
        // product(true) is the same product of other values: run before each counted run with no
        // reservation failing, so that lists and packed panels left in the threads' scratch memory
        // cannot stand in for ones a failed run did not make.
        func sweep<T: TensorScalar>(_ label: String, counter: () -> Int, _ product: (_ other: Bool) -> [T]) {
            onsager_fail_scratch_reservation(-1)
            _ = product(true)
            let before = counter()
            let full = product(false)
            let ran = counter() > before
            #expect(ran, "\(label): the path did not run")
            var failing = 0
            while failing < 64 {
                onsager_fail_scratch_reservation(-1)
                _ = product(true)
                onsager_fail_scratch_reservation(failing)
                let c = product(false)
                let failed = onsager_scratch_reservations_left() < 0
                onsager_fail_scratch_reservation(-1)
                if !failed { break }
                let same = sameBits(c, full)   // (a Bool: a failed expectation would print both arrays)
                #expect(same, "\(label): reservation \(failing) failed, not the same bits")
                failing += 1
            }
            #expect(failing > 0, "\(label): no scratch memory reserved (the path did not run)")
            #expect(failing < 64, "\(label): the reservations do not end")
        }
        func skipCases<T: TensorScalar>(_ type: T.Type, isa: Int) {
            let cast = { (x: [Double]) in x.map { T($0) } }
            let (aUnits, aBatch, bb, bz, aSamples) = (cast(units), cast(batch), cast(b), cast(bZeroColumns), cast(samples))
            let otherValues = { (x: [T], other: Bool) in other ? x.map { -3 * $0 } : x }
            let what = "\(T.self) isa \(isa)"
            sweep("\(what), A's zero columns", counter: skipped) { o in
                skipRun(T.self, skip: true, m: 200, n: n, k: k, a: otherValues(aBatch, o), rsa: k, csa: 1, b: bb, rsb: n, csb: 1, form: 0).c
            }
            sweep("\(what), A's sparse rows", counter: sparse) { o in
                skipRun(T.self, skip: true, m: m, n: n, k: k, a: otherValues(aUnits, o), rsa: 1, csa: m, b: bb, rsb: n, csb: 1, form: 0).c
            }
            sweep("\(what), A's all-zero rows with a bias and relu", counter: skipped) { o in
                skipRun(T.self, skip: true, m: m, n: n, k: k, a: otherValues(aUnits, o), rsa: 1, csa: m, b: bb, rsb: n, csb: 1, form: 2).c
            }
            sweep("\(what), a sparse product with a bias", counter: sparse) { o in
                skipRun(T.self, skip: true, m: m, n: n, k: k, a: otherValues(aSamples, o), rsa: k, csa: 1, b: bb, rsb: n, csb: 1, form: 1).c
            }
            sweep("\(what), B's zero columns, A's sparse rows spread", counter: sparse) { o in
                skipRun(T.self, skip: true, m: m, n: n, k: k, a: otherValues(aUnits, o), rsa: 1, csa: m, b: bz, rsb: n, csb: 1, form: 0).c
            }
        }
        for isa in [2, 1] where isa <= Self.hardwareLevel {
            withSettings(threads: 1, isa: isa) {
                skipCases(Float.self, isa: isa)
                skipCases(Double.self, isa: isa)
            }
        }
        // Two threads: a weight gradient's sparse rows (800 rows, about 570 of them sparse) are
        // listed in chunks as pool tasks. The countdown counts the calling thread's reservations
        // only, so which of them fails depends on the tasks the caller takes (a list chunk, a
        // column block); each run must still give the bits of the run with none failing.
        let chance2 = (0..<800).map { i in chance[i % 7] }
        let units2 = (0..<(800 * k)).map { x -> Float in d.next() < chance2[x % 800] ? Float(d.next() - 0.6) : 0 }
        let bf2 = b.map { Float($0) }, other2 = units2.map { -3 * $0 }
        withSettings(threads: 2) {
            sweep("Float, A's sparse rows listed in chunks at 2 threads", counter: sparse) { o in
                skipRun(Float.self, skip: true, m: 800, n: n, k: k, a: o ? other2 : units2, rsa: 1, csa: 800, b: bf2, rsb: n, csb: 1, form: 0).c
            }
        }
        // 0/1 products: the masked adds (AMD) or AMX tiles (Intel), where the CPU has either.
        guard onsager_zero_one_available() != 0 || onsager_amx_available() != 0 else { return }
        onsager_set_thread_zero_one(1)
        defer { onsager_set_thread_zero_one(-1) }
        // (The other values: the same 0/1 values one place on, so that the path still takes them.)
        let a01 = zeroOne.map { Float($0) }, bf = b.map { Float($0) }
        let other01 = Array(a01.dropFirst()) + [a01[0]]
        withSettings(threads: 1) {
            sweep("0/1 product", counter: zeroOneOrTiles) { o in
                var c = [Float](repeating: 0, count: m * n)
                (o ? other01 : a01).withUnsafeBufferPointer { ap in
                    bf.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            onsager_sgemm(m, n, k, 0.3, ap.baseAddress!, k, 1, bp.baseAddress!, n, 1, 0, cp.baseAddress!, n)
                        }
                    }
                }
                return c
            }
        }
    }
}
