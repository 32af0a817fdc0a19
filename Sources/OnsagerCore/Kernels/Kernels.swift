import COnsagerKernels

/// Thread count and instruction-set information for the kernels.
public enum Kernels {
    /// The most threads the pool runs (larger requests are clamped to it).
    public static let maximumThreadCount = 64

    /// Threads used by large ops. Default: `ONSAGER_THREADS` if set, else the CPUs this process
    /// may run on — its affinity mask (taskset, a container's cpuset), capped by a cgroup CPU
    /// quota rounded up (docker `--cpus`), else the online CPUs; see `threadCountSource`.
    /// Values outside 1…`maximumThreadCount` are clamped into it.
    ///
    /// When more than one is used: an op splits its work into tasks only when it is large enough
    /// to repay waking the pool (GEMMs, and elementwise ops and reductions over long tensors); a
    /// small op runs on the calling thread whatever this count. On a machine whose other cores
    /// are busy, fewer threads than cores can be faster: set this (or `ONSAGER_THREADS`) to 1.
    public static var threadCount: Int {
        get { Int(onsager_get_num_threads()) }
        set { onsager_set_num_threads(Int32(Swift.min(Swift.max(newValue, 1), maximumThreadCount))) }
    }

    /// What set `threadCount`: "ONSAGER_THREADS", "set by the program", "CPU affinity",
    /// "cgroup CPU quota" or "online CPUs".
    public static var threadCountSource: String {
        switch onsager_num_threads_source() {
        case Int32(ONSAGER_THREADS_FROM_ENVIRONMENT): return "ONSAGER_THREADS"
        case Int32(ONSAGER_THREADS_FROM_PROGRAM): return "set by the program"
        case Int32(ONSAGER_THREADS_FROM_AFFINITY): return "CPU affinity"
        case Int32(ONSAGER_THREADS_FROM_CGROUP_QUOTA): return "cgroup CPU quota"
        default: return "online CPUs"
        }
    }

    /// The default thread count ignoring `ONSAGER_THREADS` and any program setting: the CPUs of
    /// the affinity mask, capped by a cgroup quota, else the online CPUs.
    public static var defaultThreadCount: Int { Int(onsager_default_num_threads(nil)) }

    /// For tests of scheduling independence: the pool's worker threads (never the calling thread)
    /// sleep this many microseconds before every task they take, as if a busy neighbour process
    /// had descheduled them. Results must be bit-identical with and without it. 0 turns it off.
    public static var workerDelayForTesting: Int {
        get { onsager_get_worker_delay() }
        set { onsager_set_worker_delay(newValue) }
    }

    /// Whether the pool runs jobs in the calling thread for a while after it sees another
    /// process competing for the cores (on by default). Tests of scheduling independence turn it
    /// off, so that every job is split even on a busy machine; results never depend on it.
    public static var contentionDetection: Bool {
        get { onsager_get_contention_detection() != 0 }
        set { onsager_set_contention_detection(newValue ? 1 : 0) }
    }

    /// The vector instruction set chosen at run time: "avx512", "avx2" or "portable".
    public static var instructionSet: String { String(cString: onsager_isa_name()) }

    /// Whether this CPU has Intel AMX tiles (AMX-BF16) and Linux granted this process their state.
    public static var hasMatrixTiles: Bool { onsager_amx_available() != 0 }

    /// Whether Float products whose left operand is exactly bfloat16 (0/1 samples, ±1 spins,
    /// small integers: an RBM's visible and hidden samples, binarised data) run on AMX tiles where
    /// `hasMatrixTiles` (on by default; `ONSAGER_AMX=0` turns it off at start; setting it applies to
    /// the whole process). The other operand is split exactly into three bfloat16 parts, so each
    /// product term is exact and the sums are Float's, in another order: results have Float
    /// accuracy but not the bits of the AVX-512 kernels (they stay bit-identical at any thread
    /// count). Off, on a CPU without AMX, for products under 2 MFLOP or with a side under 16, and
    /// for a left operand with any other value (an infinity or NaN included), products take the
    /// vector kernels. Reads false where the path cannot run.
    public static var usesMatrixTiles: Bool {
        get { onsager_get_amx() != 0 }
        set { onsager_set_amx(newValue ? 1 : 0) }
    }

    /// Whether this CPU runs AVX-512 adds on units apart from its FMA units (AMD Zen 4 and Zen 5),
    /// where `usesMaskedAdds` can take effect.
    public static var hasSeparateAdders: Bool { onsager_zero_one_available() != 0 }

    /// Whether `usesMaskedAdds` is on by default on this CPU: on Zen 4, where the masked adds were
    /// measured to pay; false on Zen 5 (until measured there) and on CPUs without separate adders.
    public static var usesMaskedAddsByDefault: Bool { onsager_zero_one_default() != 0 }

    /// Whether Float products whose left operand holds only 0 and 1 (an RBM's visible and hidden
    /// samples, binarised data) compute half of each register tile's columns with masked adds.
    /// Those run on the adders beside the FMA units, so the path exists only where
    /// `hasSeparateAdders`. It is on by default on Zen 4, where it was measured, and off on Zen 5 until
    /// it is measured there: Zen 5 runs two 512-bit FMAs a cycle, and in that regime (256-bit vectors
    /// on Zen 4, `Benchmarks/masked-add-tile.c`) the tile ran no faster than FMAs alone, bound by its
    /// loads. `ONSAGER_ZERO_ONE=0` or `1` at start overrides the default. Setting it applies to the
    /// whole process; reading it gives the calling thread's state, which a test can
    /// set apart (`onsager_set_thread_zero_one`), and false where the path cannot run (no AVX-512).
    /// A term a·b with a in {0, 1} is b or nothing, so for K up to 1024 the result has the same
    /// bits as the FMA kernels' under the general blocking (AMD's; longer K is summed in one run
    /// rather than in blocks: the same accuracy, other bits); at any thread count it is
    /// bit-identical. On Zen 4 the RBM's three products with a 0/1 operand ran 1.20–1.40× the FMA
    /// kernels at one thread, above the FMA peak. Products under 2 MFLOP or with a side under 16 and
    /// a left operand with any other value take the FMA kernels; a column panel of the right operand
    /// that holds an infinity or NaN takes FMAs in all its columns (0·∞ gives its NaN). Where AMX
    /// tiles run (Intel), they take these products first. Sparse 0/1 operands go to the paths of
    /// `skipsZeros` instead, with the FMA kernels' bits: one stored by rows with at most 35 % ones
    /// (the sparse product; on Zen 4, 200×500×784 with 30 % ones, 1.38× the masked adds), and one
    /// stored by columns whose rows are mostly under half ones (an RBM's vᵀ in its weight
    /// gradient), when an estimate from 64 of its rows says that runs faster (784×500×100 with 30 %
    /// ones, 1.37× the masked adds at one thread).
    public static var usesMaskedAdds: Bool {
        get { onsager_get_zero_one() != 0 }
        set { onsager_set_zero_one(newValue ? 1 : 0) }
    }

    /// Whether products skip the terms of their left operand's all-zero columns and rows, and of
    /// their right operand's all-zero columns: units that are off for every sample of a batch, and
    /// pixels dark in every image of it. A ReLU layer's output read by the next layer's forward
    /// product, and the gradient its mask zeroed read by g·W, lose those columns (K shrinks); a
    /// weight gradient gᵀ·x loses the rows of gᵀ and the columns of x, and C's rows and columns for
    /// them are filled as the kernels would fill them. Terms a·b with a or b = ±0 leave a sum's
    /// bits unchanged when the other factor is finite, and the
    /// K blocks stay those of the full product, so results are bit-identical to the path off, at any
    /// thread count, with one exception: a C value that is zero because its other terms underflowed
    /// (each under half the smallest subnormal) can come out -0 where the full product gives +0.
    /// Where a term left out would multiply an infinity or NaN, the product runs with every term
    /// (0·∞ gives its NaN). Taken when at least a sixteenth of the columns (or rows) are zero, for
    /// products of 2 MFLOP or more: columns when the left operand is stored by rows and the right
    /// operand by rows (up to 256 rows) or by columns (up to one row block of the kernels, 96–144
    /// rows, and C overwritten); rows when the left operand is stored by columns, the right one by
    /// rows, and C overwritten; the right operand's columns (from an eighth of them, a fifth where
    /// C is stored past the caches) when it is stored by rows, the left operand and α are finite,
    /// and C overwritten. With AVX2 or AVX-512, such a weight gradient also computes the rows of gᵀ that
    /// are at most half nonzero (units mostly off) from their nonzeros alone, with the same bits,
    /// when there is no bias or ReLU epilogue and the batch fits one K block. A product whose left
    /// operand, stored by rows, holds at most a quarter of nonzeros (35 % where the kernel reads its
    /// right operand from L1 part by part, when a K block of it is larger than L1; each row at most
    /// half: an RBM's binary samples, images on a dark background) and whose right operand is stored by rows and
    /// finite computes each row from its nonzeros alone, with the same bits, for K up to 1024 (AVX2
    /// or AVX-512). On by default; `ONSAGER_SKIP_ZEROS=0` at start turns it off.
    /// Setting it applies to the whole process; reading it gives the calling thread's state, which
    /// a test can set apart (`onsager_set_thread_skip_zeros`).
    public static var skipsZeros: Bool {
        get { onsager_get_skip_zeros() != 0 }
        set { onsager_set_skip_zeros(newValue ? 1 : 0) }
    }

    /// Caps the instruction set (2 = AVX-512, 1 = AVX2, 0 = portable) for the calling thread and
    /// the kernel jobs it starts; other threads keep theirs. For tests and benchmarks.
    @discardableResult public static func limitInstructionSet(_ level: Int) -> Int {
        Int(onsager_force_isa_level(Int32(level)))
    }

    /// Runs `body(t)` for every t in 0..<count on the kernel pool (the calling thread takes tasks
    /// too) and returns when all are done. Tasks must write disjoint memory; for bit-identical
    /// results at any thread count, a task's result must depend only on t, never on which thread
    /// ran it or in which order. A call from inside a task runs serially.
    public static func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        withoutActuallyEscaping(body) { escapable in
            var task = escapable
            withUnsafeMutablePointer(to: &task) { pointer in
                onsager_parallel_for(count, { context, t in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(t))
                }, pointer)
            }
        }
    }
}
