// GEMM template (BLIS-style: packed panels, register-blocked micro-kernel). Included once per
// (type, ISA) by gemm.c with T, SUF, VBYTES, MR, NR, KC, MC, NC and VFMA defined, and optionally
// KUNROLL (the micro-kernel's k loop unrolled that many times; 1 when undefined).
#ifndef KUNROLL
#define KUNROLL 1
#endif
#define G_CAT2(a, b) a##_##b
#define G_CAT(a, b) G_CAT2(a, b)
#define FN(name) G_CAT(name, SUF)
#define VL ((long)(VBYTES / sizeof(T)))
#define NV (NR / (VBYTES / sizeof(T)))

#if VBYTES / TBYTES == 16
#define G_TRANSPOSE(r) ONSAGER_TRANSPOSE_16(r)
#elif VBYTES / TBYTES == 8
#define G_TRANSPOSE(r) ONSAGER_TRANSPOSE_8(r)
#elif VBYTES / TBYTES == 4
#define G_TRANSPOSE(r) ONSAGER_TRANSPOSE_4(r)
#else
#define G_TRANSPOSE(r) ONSAGER_TRANSPOSE_2(r)
#endif

#ifndef G_KC_LAZY
#define G_KC_LAZY 1024
#endif
#ifndef G_PLAN_DEEP
#define G_PLAN_DEEP 1       // plan flag: the product's M is batch-sized and B needs packing: deep K blocks
#define G_PLAN_FEW_ROWS 2   // plan flag: the product's M is at most 256: full B panels are read in place
#define G_PLAN_STREAM_C 4   // plan flag: C is stored once (one K block, no ReLU pass) and outgrows twice L2
#define G_PLAN_KLIST 8      // plan flag: A's all-zero columns dropped, B's rows read through a list (gemm.c)
#define G_MAP_BROWS 1       // FN(ukernel)'s MAP: B's rows through a list
#define G_MAP_CROWS 2       // FN(ukernel)'s MAP: C's rows through a map
// Row i of a tile of C: through the map (MAP == G_MAP_CROWS, c at C's row 0) or i rows from c.
#define G_CROW(i) (MAP == G_MAP_CROWS ? c + (long)idx[i] * ldc : c + (i) * ldc)
// The rows of B a K-compacted product reads (G_PLAN_KLIST; skip_zeros.c): keep[k] is 1 for each of
// B's korig rows it reads, rows[q] the q-th of them; bad is set when a B panel packed through them
// holds an infinity or NaN (FN(pack_b_list)). Or, for a row-compacted product, the rows of C that
// A's rows fill (cmap).
typedef struct {
    const uint8_t *keep;
    const int32_t *rows;
    long korig;
    int *bad;
    const int32_t *cmap;   // or (keep and rows NULL) C's row of each row of A, increasing
} g_klist;
#endif
// The micro-kernel's k loop starts on a 64-byte boundary. Left to the compiler, where it starts
// depends on the code around it, and that moved the rate: two copies of this template in one
// binary, identical but for where their loops fell (one on a 32-byte boundary spanning three
// cache lines, the other on a 64-byte one spanning two), timed call by call in alternation,
// differed by 2-7 % (Zen 3, one core; 1024³ and 100×500×784), and aligned, by 0-3 %.
#ifndef G_KLOOP_ALIGN
#if defined(__has_attribute)
#if __has_attribute(code_align)
#define G_KLOOP_ALIGN __attribute__((code_align(64)))
#endif
#endif
#endif
#ifndef G_KLOOP_ALIGN
#define G_KLOOP_ALIGN
#endif
// Asks for every cache line of the n contiguous values at p, into L1 (locality 3) or L2 (2). A run
// that does not start on a line boundary touches one line more than n values fill (three for a
// 32-float panel row when the rows of B are not 64-byte aligned, e.g. 2500 floats apart).
#ifndef G_PREFETCH_RUN
#define G_PREFETCH_RUN(p, n, locality)                                                            \
    for (uintptr_t l_ = (uintptr_t)(p) >> 6, last_ = (uintptr_t)((p) + (n) - 1) >> 6; l_ <= last_; l_++) \
        __builtin_prefetch((const void *)(l_ << 6), 0, locality)
#endif

typedef T FN(vec) __attribute__((vector_size(VBYTES)));
typedef T FN(uvec) __attribute__((vector_size(VBYTES), aligned(sizeof(T))));
// Half a vector (ymm beside zmm, xmm beside ymm), for edge panels: see FN(tile). Only where a half
// holds at least 4 values (AVX2, AVX-512); the portable kernels keep whole vectors.
#if VBYTES / TBYTES >= 8
#define G_HALF_OK 1
typedef T FN(hvec) __attribute__((vector_size(VBYTES / 2)));
typedef T FN(uhvec) __attribute__((vector_size(VBYTES / 2), aligned(sizeof(T))));
#else
#define G_HALF_OK 0
typedef T FN(hvec) __attribute__((vector_size(VBYTES)));
typedef T FN(uhvec) __attribute__((vector_size(VBYTES), aligned(sizeof(T))));
#endif

// A block of mc rows is cut into MR-row panels, except that a short remainder (at most MR/3 rows)
// is merged with the last full panel and the two are split into halves of at most 2MR/3 rows: the
// 4-row kernel runs at ~60% of the 12-row one, the 8-row kernel at ~90% (M = 100 = 7 x 12 + 2 x 8).
// Returns where that split region starts (mc when there is none).
static inline long FN(tail_split)(long mc) {
    long r = mc % MR;
    return mc > MR && r > 0 && r <= MR / 3 ? mc - MR - r : mc;
}

// One panel of mr <= S rows: for each k, S values A[i, k] (rows past mr zero).
static inline __attribute__((always_inline)) void
FN(pack_a_panel)(long mr, long kc, const T *a, long rsa, long csa, T *Ap, const int S) {
    if (rsa == 1) {   // column-major source: mr contiguous values per k
        // (vectorize(disable): the vectoriser would otherwise gather across k, which is slow.
        // A full panel's S values per k are one fixed-size copy, a vector move or two; copied
        // value by value they took 3.7 % of a CD-1 update, whose weight gradient has Aᵀ stored.)
        if (mr == S)
#pragma clang loop vectorize(disable)
            for (long k = 0; k < kc; k++) __builtin_memcpy(Ap + k * S, a + k * csa, sizeof(T) * (size_t)S);
        else
#pragma clang loop vectorize(disable)
            for (long k = 0; k < kc; k++)
                for (long i = 0; i < S; i++) Ap[k * S + i] = i < mr ? a[k * csa + i] : 0;
    } else if (csa == 1 && S <= VL) {
        // Row-major source: transpose VL x VL blocks (rows past mr are zero) and store the
        // first S values of each transposed row; a store's spill past S lands on the next
        // row, which is written after it. The panel's last row is stored without a spill, so
        // that panels packed by different threads (a shared A, gemm.c) never write each other's.
        long k = 0;
        for (; k + VL <= kc; k += VL) {
            FN(vec) r[VBYTES / TBYTES];
#pragma clang loop unroll(full)
            for (int i = 0; i < (int)VL; i++)
                r[i] = i < mr ? *(const FN(uvec) *)(a + i * rsa + k) : (FN(vec)){0};
            G_TRANSPOSE(r)
#pragma clang loop unroll(full)
            for (int kk = 0; kk < (int)VL - 1; kk++) *(FN(uvec) *)(Ap + (k + kk) * S) = r[kk];
            if (S < VL && k + VL == kc)
                for (int i = 0; i < S; i++) Ap[(k + VL - 1) * S + i] = r[VL - 1][i];
            else
                *(FN(uvec) *)(Ap + (k + VL - 1) * S) = r[VL - 1];
        }
#pragma clang loop vectorize(disable)
        for (; k < kc; k++)
            for (long i = 0; i < S; i++) Ap[k * S + i] = i < mr ? a[i * rsa + k] : 0;
    } else {
        for (long i = 0; i < mr; i++) {
            const T *row = a + i * rsa;
#pragma clang loop vectorize(disable)
            for (long k = 0; k < kc; k++) Ap[k * S + i] = row[k * csa];
        }
        for (long i = mr; i < S; i++)
#pragma clang loop vectorize(disable)
            for (long k = 0; k < kc; k++) Ap[k * S + i] = 0;
    }
}

#ifndef G_PACK_A_AHEAD
#define G_PACK_A_AHEAD 8
#endif
#ifndef G_PACK_A_BY_ROWS
#define G_PACK_A_BY_ROWS 1   // a column-major A is packed k by k across all its panels (FN(pack_a_part))
#endif

// Ap holds the panels of FN(tail_split)'s plan: the panel of row i0 at Ap + i0 * kc, the split
// tail's halves at Ap + ss * kc and Ap + (ss + 2MR/3) * kc. Packs the panels whose index (in that
// order) is part modulo parts: all of them with part 0 of 1.
static void FN(pack_a_part)(long mc, long kc, const T *A, long rsa, long csa, T *Ap, long part, long parts) {
    long ss = FN(tail_split)(mc), q = 0;
    if (rsa == 1 && G_PACK_A_BY_ROWS) {
        // Column-major source (a weight gradient's xᵀ or gᵀ): each k's values of all full panels
        // are one contiguous run, copied in order into every panel before the next k, so the
        // source is read once, line by line. Panel by panel, each k's MR values (48 bytes) were
        // read a row apart, the same lines fetched again for every panel: the pack took 4 % of
        // 784x500x200 (Zen 4).
        long full = ss / MR;
        for (long k = 0; k < kc; k++) {
            const T *src = A + k * csa;
            if (k + G_PACK_A_AHEAD < kc) G_PREFETCH_RUN(src + G_PACK_A_AHEAD * csa, full * MR, 3);
            for (long p = part; p < full; p += parts)
                __builtin_memcpy(Ap + p * MR * kc + k * MR, src + p * MR, sizeof(T) * (size_t)MR);
        }
        q = full;
    }
    for (long i0 = q * MR; i0 < ss; i0 += MR, q++) {
        long mr = ss - i0 < MR ? ss - i0 : MR;
        if (q % parts == part) FN(pack_a_panel)(mr, kc, A + i0 * rsa, rsa, csa, Ap + i0 * kc, MR);
    }
    if (ss < mc) {
        long h = (mc - ss + 1) / 2;
        if (q % parts == part) FN(pack_a_panel)(h, kc, A + ss * rsa, rsa, csa, Ap + ss * kc, 2 * MR / 3);
        if ((q + 1) % parts == part)
            FN(pack_a_panel)(mc - ss - h, kc, A + (ss + h) * rsa, rsa, csa, Ap + (ss + 2 * MR / 3) * kc, 2 * MR / 3);
    }
}
static void FN(pack_a)(long mc, long kc, const T *A, long rsa, long csa, T *Ap) {
    FN(pack_a_part)(mc, kc, A, rsa, csa, Ap, 0, 1);
}

// How the serial plan reads B; returns whether B is read in place ("direct") and sets *lazy.
// With few rows, B is streamed only a few times: full row-major panels are read in place (only the
// ragged last panel is packed, zero padded). Otherwise, with one block of rows (a batch), each B
// panel is packed just before its use while the next panel's source is prefetched, so reading B
// (from memory, once) overlaps arithmetic ("lazy"). Reading in place is chosen per ISA
// (B_IN_PLACE, gemm.c): where it is off, those products pack B (at once, or lazily for M <= MC and
// for a column-major B up to 256 rows) and, up to 256 rows, run all rows as one row block (see
// gemm_serial). Where B is not read in place, a column-major B (a layer's x·Wᵀ) is packed lazily up
// to 256 rows too, not only up to MC: packed at once (or staged), its transposing reads ran 4-15 %
// slower (Zen 3, one core, package-built objects called in rotation, Benchmarks/
// gemm-objects-ab.sh: 100x2500x784 1.14x, 100x2000x2500 1.15x, 100x500x784 1.07x,
// 100x784x500 1.10x, 200x500x784 1.04x, 256x784x500 1.06x). A row-major B lost 3-10 % so.
static inline int FN(b_plan)(long M, long csb, int deep, int bpre, int *lazy) {
    int direct = B_IN_PLACE && !bpre && csb == 1 && (deep & G_PLAN_FEW_ROWS) && M <= 256;
    *lazy = !bpre && !direct && (M <= MC || (!B_IN_PLACE && csb != 1 && M <= 256));
    // B's rows through a list (M <= 256, no Bpre): read in place as planned, else every panel packed
    // just before use (FN(pack_b_list)).
    if (deep & G_PLAN_KLIST) *lazy = !direct;
    return direct;
}

// The serial plan's K blocking: K in equal blocks of at most KC (784 = 4 x 196, not 3 x 256 + 16:
// every block then has enough depth to amortise its pass over C), or of at most G_KC_LAZY for a
// batch-sized product (plan flag G_PLAN_DEEP) whose B is packed lazily.
static inline long FN(k_block)(long K, int deep, int lazy) {
    long kcmax = (deep & G_PLAN_DEEP) && lazy ? G_KC_LAZY : KC;
    long kblocks = (K + kcmax - 1) / kcmax;
    return (K + kblocks - 1) / kblocks;
}

// Floats of one K block of a shared A (below): pack_a's panels for M rows with room for its split
// tail and the spill of its transposing stores, so that blocks never overlap.
static inline long FN(shared_a_stride)(long M, long kcb) { return ((M + MR - 1) / MR + 1) * MR * kcb; }

// A of a product of at most MC rows packed once for all its K blocks, for the threads that split
// its columns (each would otherwise pack all of A itself): block b at Apre + b *
// FN(shared_a_stride). Returns the floats the whole buffer needs (0: A is not shared for this
// product) and the block depth, that of the serial plan of each column chunk.
static long FN(shared_a_size)(long M, long K, long csb, int deep, long *kcb) {
    if (M > MC || K <= 0) return 0;
    int lazy;
    FN(b_plan)(M, csb, deep, 0, &lazy);
    *kcb = FN(k_block)(K, deep, lazy);
    return FN(shared_a_stride)(M, *kcb) * ((K + *kcb - 1) / *kcb);
}

// Part `part` of `parts` of K block b of a shared A (its panels taken in turn).
static void FN(pack_a_block)(long M, long K, const T *A, long rsa, long csa, long kcb, T *Apre, long b, long part,
                             long parts) {
    long pc = b * kcb, kc = K - pc < kcb ? K - pc : kcb;
    FN(pack_a_part)(M, kc, A + pc * csa, rsa, csa, Apre + b * FN(shared_a_stride)(M, kcb), part, parts);
}


// Orders non-temporal stores before later ones (they are weakly ordered on x86).
#ifndef G_STORE_FENCE
#if defined(__x86_64__)
#define G_STORE_FENCE() __builtin_ia32_sfence()
#else
#define G_STORE_FENCE() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif
#endif
#ifndef G_FUSED_PACK
#define G_FUSED_PACK 1   // a row-major B panel packed just before use is packed by its first tile's kernel
#endif

#ifndef G_PACK_ROWS
#define G_PACK_ROWS 8   // rows of a row-major B packed into every panel before the next rows
#endif

// VL k-values of VL columns of a column-major B (at b, columns csb apart; those from `cols` on
// are zero), transposed in registers into VL rows of a panel (at P, rows NR apart).
static inline __attribute__((always_inline)) void FN(pack_b_block)(const T *b, long csb, long cols, T *P) {
    FN(vec) r[VBYTES / TBYTES];
#pragma clang loop unroll(full)
    for (int jj = 0; jj < (int)VL; jj++) r[jj] = jj < cols ? *(const FN(uvec) *)(b + jj * csb) : (FN(vec)){0};
    G_TRANSPOSE(r)
#pragma clang loop unroll(full)
    for (int kk = 0; kk < (int)VL; kk++) *(FN(uvec) *)(P + kk * NR) = r[kk];
}

// Bp holds ceil(nc/NR) panels; panel p stores, for each k, the NR values B[k, p*NR + j].
static void FN(pack_b)(long kc, long nc, const T *B, long rsb, long csb, T *Bp) {
    if (csb == 1) {
        // Row-major source: G_PACK_ROWS rows at a time into every panel, so each source row is
        // read whole and in order (prefetchers follow it, each page is visited once per pass)
        // while the rows in flight stay in L1. Panel by panel, the reads went down a column of
        // rows a page apart, and with a power-of-two row stride (B = 1024 floats wide) every row
        // of a panel fell in the same cache sets: packing 1024² took 200 µs alone against 127 µs
        // row-wise, and sgemm 1024³ ran at 0.87-0.92 of the FMA peak against 0.91-0.93 row-wise
        // (Zen 4, each GEMM call followed by an FMA loop; four rounds of 40 calls). A single
        // panel (packed just before its use) still reads rows a stride apart: it asks for the row
        // 8 ahead into L1, whose stalls had cost 3.6 % of sgemm 512³ (Zen 4).
        for (long k0 = 0; k0 < kc; k0 += G_PACK_ROWS) {
            long k1 = k0 + G_PACK_ROWS < kc ? k0 + G_PACK_ROWS : kc;
            for (long j0 = 0; j0 < nc; j0 += NR) {
                long nr = nc - j0 < NR ? nc - j0 : NR;
                const T *b = B + j0;
                T *P = Bp + j0 * kc;
                for (long k = k0; k < k1; k++) {
                    if (nc <= NR && k + 8 < kc) G_PREFETCH_RUN(b + (k + 8) * rsb, nr, 3);
                    if (nr == NR)
#pragma clang loop unroll(full)
                        for (int v = 0; v < (int)NV; v++)
                            *(FN(vec) *)(P + k * NR + v * VL) = *(const FN(uvec) *)(b + k * rsb + v * VL);
                    else
                        for (long j = 0; j < NR; j++) P[k * NR + j] = j < nr ? b[k * rsb + j] : 0;
                }
            }
        }
        return;
    }
    for (long j0 = 0; j0 < nc; j0 += NR) {
        long nr = nc - j0 < NR ? nc - j0 : NR;
        const T *b = B + j0 * csb;
        if (rsb == 1) {
            // Column-major source (B = Wᵀ in a backward pass): read VL k-values of VL columns,
            // transpose in registers, store VL rows of the panel (columns past nr are zero). The
            // scalar scatter this replaces cost more than the arithmetic when M is a batch of 100.
            // (A full panel's loop has no per-column test: with one, the tests and the zeroing
            // they guard took a third of the pack's samples.)
            long k = 0;
            if (nr == NR)
                for (int v = 0; v < (int)NV; v++)
                    for (k = 0; k + VL <= kc; k += VL) FN(pack_b_block)(b + v * VL * csb + k, csb, VL, Bp + k * NR + v * VL);
            else
                for (int v = 0; v < (int)NV; v++)
                    for (k = 0; k + VL <= kc; k += VL)
                        FN(pack_b_block)(b + v * VL * csb + k, csb, nr - v * VL, Bp + k * NR + v * VL);
#pragma clang loop vectorize(disable)
            for (; k < kc; k++)
                for (long j = 0; j < NR; j++) Bp[k * NR + j] = j < nr ? b[j * csb + k] : 0;
        } else {
#pragma clang loop vectorize(disable)
            for (long k = 0; k < kc; k++)
                for (long j = 0; j < NR; j++) Bp[k * NR + j] = j < nr ? b[j * csb + k * rsb] : 0;
        }
        Bp += NR * kc;
    }
}

// One panel of B's rows that `keep` marks (G_PLAN_KLIST): of the `span` source rows from B (a K
// block), the kc with keep[k] = 1, nc <= NR columns, packed as FN(pack_b) packs kc consecutive
// rows. Every value of the span in these columns is read, marked or not, so that an infinity or
// NaN in a row left out is seen: *bad is then set, and the caller computes the product again
// without the marks (0·∞ must give its NaN). Rows are stored without a branch on the mark: each
// goes to the next free row, which advances only when the row is marked, so a row left out is overwritten by
// the next marked one (and none is stored once all kc are). The marks are bytes rather than a
// list of rows: the next row's place is then an add away, not a load that waits for the last.
#ifndef G_LIST_AHEAD
#define G_LIST_AHEAD 8   // rows of a row-major B asked for into L1 ahead of FN(pack_b_list)'s copy
#endif
static void FN(pack_b_list)(long kc, long nc, const T *B, long rsb, long csb, const uint8_t *keep, long span,
                            T *Bp, int *bad) {
    FN(vec) nf = {0};   // x - x summed over every value read: NaN when one is infinite or NaN
    long nr = nc < NR ? nc : NR;
    if (csb == 1) {   // row-major source (a ragged panel's row copied into zeros first)
        long p = 0;
        for (long k = 0; k < span; k++) {
            const T *row = B + k * rsb;
            if (k + G_LIST_AHEAD < span) G_PREFETCH_RUN(row + G_LIST_AHEAD * rsb, nr, 3);
            T pad[NR] __attribute__((aligned(64)));
            if (nr < NR) {
                for (long j = 0; j < NR; j++) pad[j] = j < nr ? row[j] : 0;
                row = pad;
            }
#pragma clang loop unroll(full)
            for (int v = 0; v < (int)NV; v++) {
                FN(vec) x = *(const FN(uvec) *)(row + v * VL);
                nf += x - x;
                if (p < kc) *(FN(vec) *)(Bp + p * NR + v * VL) = x;
            }
            p += keep[k];
        }
    } else if (rsb == 1) {   // column-major source: VL rows of VL columns transposed at a time
        for (int v = 0; v < (int)NV; v++) {
            long cols = nr - v * VL, p = 0, k = 0;
            for (; k + VL <= span; k += VL) {
                FN(vec) r[VBYTES / TBYTES];
#pragma clang loop unroll(full)
                for (int jj = 0; jj < (int)VL; jj++)
                    r[jj] = jj < cols ? *(const FN(uvec) *)(B + (v * VL + jj) * csb + k) : (FN(vec)){0};
                G_TRANSPOSE(r)
#pragma clang loop unroll(full)
                for (int kk = 0; kk < (int)VL; kk++) {
                    nf += r[kk] - r[kk];
                    if (p < kc) *(FN(vec) *)(Bp + p * NR + v * VL) = r[kk];
                    p += keep[k + kk];
                }
            }
            for (; k < span; k++) {
                T row[VBYTES / TBYTES];
                for (long jj = 0; jj < VL; jj++) row[jj] = jj < cols ? B[(v * VL + jj) * csb + k] : 0;
                for (long jj = 0; jj < VL; jj++) nf[jj] += row[jj] - row[jj];
                if (p < kc) __builtin_memcpy(Bp + p * NR + v * VL, row, sizeof row);
                p += keep[k];
            }
        }
    }   // (B with strides on both sides does not take the path: onsager_skip_zeros_eligible)
    int seen = 0;
    for (long l = 0; l < VL; l++) seen |= nf[l] != nf[l];
    if (seen && bad) __atomic_store_n(bad, 1, __ATOMIC_RELAXED);
}

// PF_SPREAD (set per ISA by gemm.c; 1 when undefined): a tile asks for its share of the next
// panel's lines inside its k loop rather than all at once before it starts (FN(pf_hand)).
#ifndef PF_SPREAD
#define PF_SPREAD 1
#define G_PF_SPREAD_DEFAULTED
#endif
// PACKED_AHEAD (set per instance by gemm.c; 0 when undefined): a B block packed at once and over
// half of L2 is re-read panel by panel for every row block after the first, and by then the A
// block, C and the block's own later panels have evicted part of it; each tile then asks for its
// share of the next packed panel as it would for a source panel. So does every tile of a block
// packed by the threads together (Bpre), whose panels lie partly in the other cores' caches.
// Measured in gemm.c.
#ifndef PACKED_AHEAD
#define PACKED_AHEAD 0
#define G_PACKED_AHEAD_DEFAULTED
#endif
#ifndef G_PF_C_NEXT
#define G_PF_C_NEXT 1   // with PF_SPREAD: a tile asks for the next tile's C over its k loop (FN(c_share))
#endif
// Lines asked for at a time (2 and 8 measured the same as 4 on Zen 4: 0.97-1.01x).
#ifndef G_PF_LINES
#define G_PF_LINES 4
#endif
// Lines a tile asks for while it computes: `runs` runs of `len` bytes, `stride` bytes apart, from
// `run`; the micro-kernel asks for G_PF_LINES of them every `every` k steps, so that the requests
// are spread over its whole k loop. Measured in gemm.c (G_PF_SPREAD). With a map, run r starts
// map[r] strides from `run` (rows of C through a map, FN(ukernel)'s G_MAP_CROWS).
typedef struct {
    const char *run;
    long stride, len, runs, every;
    int write;   // lines of C about to be written (into L1, for writing) rather than of B (into L2)
    const int32_t *map;
} FN(pfshare);

// `every` for a tile whose k loop is kc long.
static inline FN(pfshare) FN(paced)(FN(pfshare) s, long kc) {
    long lines = s.runs * (s.len / 64 + 1), requests = (lines + G_PF_LINES - 1) / G_PF_LINES;
    s.every = requests > 0 && kc > requests ? kc / requests : 1;
    return s;
}

// Part `part` of `parts` of the cache lines of a B panel (kc x nr at B), asked for into L2: for a
// column-major source, packed next (long runs per column); for row-major panels read in place by
// the micro-kernel or packed next. Spread over the row panels of the current B panel, this streams
// the next panel from memory while the arithmetic runs, instead of stalling the first row panel on
// it. (Into L1, a panel of 100 KB or more evicts the lines in use: with B streaming from L3, 100 x
// 2500 x 2000 with unaligned rows ran at 64-76 GFLOPS against 89-98 into L2, Zen 4; no change when
// B fits in L2.)
// The share covers kc rows of the source; its requests are spread over a k loop `pace` long (kc,
// or less when the tile's k loop runs a list of those rows, G_PLAN_KLIST).
static inline FN(pfshare) FN(prefetch_share)(long kc, long nr, const T *B, long rsb, long csb, long part, long parts,
                                             long pace) {
    FN(pfshare) s = {0, 0, 0, 0, 1, 0};
    if (rsb == 1) {   // columns contiguous in k
        long j0 = nr * part / parts, j1 = nr * (part + 1) / parts;
        s = (FN(pfshare)){(const char *)(B + j0 * csb), csb * (long)sizeof(T), kc * (long)sizeof(T), j1 - j0, 1, 0};
    } else if (csb == 1) {   // rows contiguous in j
        long k0 = kc * part / parts, k1 = kc * (part + 1) / parts;
        s = (FN(pfshare)){(const char *)(B + k0 * rsb), rsb * (long)sizeof(T), nr * (long)sizeof(T), k1 - k0, 1, 0};
    }
    return FN(paced)(s, pace);
}

// What a tile hands its kernel of a B share: the share itself (PF_SPREAD), or nothing, its lines
// all asked for here at once (the tunings that keep the burst).
static inline const FN(pfshare) *FN(pf_hand)(const FN(pfshare) *s) {
    if (PF_SPREAD) return s;
    for (long r = 0; r < s->runs; r++) G_PREFETCH_RUN(s->run + r * s->stride, s->len, 2);
    return 0;
}

// The next tile's C (rows x nr at c), asked for the same way by the tile before it (G_PF_C_NEXT).
static inline FN(pfshare) FN(c_share)(long kc, const T *c, long ldc, long rows, long nr, const int32_t *map) {
    return FN(paced)((FN(pfshare)){(const char *)c, ldc * (long)sizeof(T), nr * (long)sizeof(T), rows, 1, 1, map}, kc);
}

static inline __attribute__((always_inline)) void
FN(ukernel)(long kc, const T *restrict a, const T *restrict b, long ldb, T *restrict c, long ldc, T alpha,
            T beta, const T *restrict bias, long mr, long nr, const int ROWS, const int AS, const int PACK,
            T *restrict packto, int stream, const FN(pfshare) *pf, int cdone, const int CV, const int HALF,
            const int MAP, const int32_t *restrict idx) {
    // bias (with beta == 0): the row vector added as the tile is stored, this tile's columns.
    // stream: a full tile (beta == 0, no bias) goes to memory with non-temporal stores, its lines
    // not fetched first (G_PLAN_STREAM_C; its rows start on cache lines).
    // ROWS (MR, or a third or two thirds of it) is a constant at each call site: after inlining,
    // rows past it vanish, so an edge panel of 4 rows costs 4 rows, not MR.
    // CV and HALF (constants too): the columns computed, CV whole vectors and, with HALF, half a
    // vector after them: NV and 0 but for a ragged last panel (FN(tile)).
    // MAP (a constant): G_MAP_BROWS, step k reads B's row idx[k] (b at row 0, rows ldb apart) instead
    // of the k-th row from b, a B read in place through the rows a K-compacted product keeps
    // (G_PLAN_KLIST); G_MAP_CROWS, the tile's row i goes to C's row idx[i] (c at row 0), the rows a
    // row-compacted product keeps (g_klist's cmap).
    FN(vec) acc[MR][NV];
    FN(hvec) acch[MR];
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
#pragma clang loop unroll(full)
        for (int v = 0; v < (int)NV; v++) acc[i][v] = (FN(vec)){0};
        acch[i] = (FN(hvec)){0};
    }
    // The C tile is read and written once, after the k loop: fetch its lines for writing now, so
    // that the misses (C often lives in L3 or memory) overlap the arithmetic instead of ending it.
    // A row of the tile not aligned to 64 bytes (ldc = 2500 or 500: rows 16 bytes apart mod 64)
    // spans one line more than NR values fill, so the row's last element is fetched too (for an
    // aligned row, a line already fetched). Weight gradients with K = 100 and such rows, Intel
    // Xeon (model 167), in rotation: 2000x2500x100 1.12x (AVX2 1.09x, 2 threads 1.12x),
    // 1000x1500x100 1.06x, 784x500x100 1.03x; aligned rows (1024³, 100x500x784) 1.00x.
    // cdone: the tile before this one asked for them already (FN(c_share)).
    if ((!stream || mr != ROWS || nr != NR) && !cdone)
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
        if (i >= ROWS || (MAP == G_MAP_CROWS && i >= mr)) break;   // (a map has no entries past the tile's rows)
#pragma clang loop unroll(full)
        for (int l = 0; l < (int)(NR * sizeof(T) / 64); l++) __builtin_prefetch(G_CROW(i) + l * (64 / (long)sizeof(T)), 1, 3);
        __builtin_prefetch(G_CROW(i) + NR - 1, 1, 3);
    }
    // The next panel's lines (pf): up to G_PF_LINES lines every pf->every k steps, a run at a time
    // from its first line. The k loop runs in chunks between the requests, its body unchanged: a
    // test inside it made the compiler spill accumulators.
    long pleft = pf ? pf->runs : 0, step = pf ? pf->every : kc;
    const char *prun = pf ? (pf->map ? pf->run + (long)pf->map[0] * pf->stride : pf->run) : 0;
    long prix = 0;   // the run asked for
    uintptr_t pcur = (uintptr_t)prun & ~(uintptr_t)63, pend = (uintptr_t)prun + (pf ? pf->len : 0) - 1;
    for (long k = 0; k < kc;) {
        long kend = pleft && kc - k > step ? k + step : kc;
#if KUNROLL > 1
#pragma clang loop unroll_count(KUNROLL)
#endif
        G_KLOOP_ALIGN for (; k < kend; k++) {
            FN(vec) bv[NV];
            FN(hvec) bh = {0};
            const T *bk = MAP == G_MAP_BROWS ? b + (long)idx[k] * ldb : b;
#pragma clang loop unroll(full)
            for (int v = 0; v < (int)NV; v++) {
                if (v >= CV) break;
                bv[v] = *(const FN(uvec) *)(bk + v * VL);
            }
            if (HALF) bh = *(const FN(uhvec) *)(bk + CV * VL);
            if (PACK) {   // B read from its source rows (full panels only): keep a packed copy for the panel's other tiles
#pragma clang loop unroll(full)
                for (int v = 0; v < (int)NV; v++) *(FN(vec) *)(packto + v * VL) = bv[v];
                packto += NR;
            }
#pragma clang loop unroll(full)
            for (int i = 0; i < MR; i++) {
                if (i >= ROWS) break;
                FN(vec) av = a[i] - (FN(vec)){0};   // x - 0 folds to a splat; x + 0 does not (-0 + 0 = +0)
#pragma clang loop unroll(full)
                for (int v = 0; v < (int)NV; v++) {
                    if (v >= CV) break;
                    acc[i][v] = VFMA(av, bv[v], acc[i][v]);
                }
                if (HALF) acch[i] = VFMA(a[i] - (FN(hvec)){0}, bh, acch[i]);
            }
            a += AS;   // the panel's packing stride: MR, or 2MR/3 for a split tail
            if (MAP != G_MAP_BROWS) b += ldb;
        }
        // The next request; after the last chunk, whatever the k loop was too short for.
        for (int l = 0; pleft && (l < G_PF_LINES || k >= kc); l++) {
            if (pf->write) __builtin_prefetch((const void *)pcur, 1, 3);
            else __builtin_prefetch((const void *)pcur, 0, 2);
            pcur += 64;
            if (pcur > pend && --pleft) {
                prix++;
                prun = pf->map ? pf->run + (long)pf->map[prix] * pf->stride : prun + pf->stride;
                pcur = (uintptr_t)prun & ~(uintptr_t)63;
                pend = (uintptr_t)prun + pf->len - 1;
            }
        }
    }
    if (mr == ROWS && nr == NR) {
        // Three store loops, the choice made once per tile (a test inside them cost 5% at K = 100).
        if (beta == 0 && bias) {
            FN(vec) bv[NV];
#pragma clang loop unroll(full)
            for (int v = 0; v < (int)NV; v++) bv[v] = *(const FN(uvec) *)(bias + v * VL);
#pragma clang loop unroll(full)
            for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
                for (int v = 0; v < (int)NV; v++) {
                    if (i >= ROWS) break;
                    *(FN(uvec) *)(G_CROW(i) + v * VL) = alpha * acc[i][v] + bv[v];
                }
        } else if (beta == 0 && stream) {
#pragma clang loop unroll(full)
            for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
                for (int v = 0; v < (int)NV; v++) {
                    if (i >= ROWS) break;
                    __builtin_nontemporal_store(alpha * acc[i][v], (FN(vec) *)(G_CROW(i) + v * VL));
                }
        } else if (beta == 0) {
#pragma clang loop unroll(full)
            for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
                for (int v = 0; v < (int)NV; v++) {
                    if (i >= ROWS) break;
                    *(FN(uvec) *)(G_CROW(i) + v * VL) = alpha * acc[i][v];
                }
        } else {
#pragma clang loop unroll(full)
            for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
                for (int v = 0; v < (int)NV; v++) {
                    if (i >= ROWS) break;
                    FN(uvec) *p = (FN(uvec) *)(G_CROW(i) + v * VL);
                    *p = beta * *p + alpha * acc[i][v];
                }
        }
    } else {
        T tmp[MR * NR] __attribute__((aligned(64)));
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++) {
            if (i >= ROWS) break;
#pragma clang loop unroll(full)
            for (int v = 0; v < (int)NV; v++) {
                if (v >= CV) break;
                *(FN(vec) *)(tmp + i * NR + v * VL) = acc[i][v];
            }
            if (HALF) *(FN(uhvec) *)(tmp + i * NR + CV * VL) = acch[i];
        }
        if (beta == 0 && bias) {
            for (long i = 0; i < mr; i++)
                for (long j = 0; j < nr; j++) G_CROW(i)[j] = alpha * tmp[i * NR + j] + bias[j];
        } else {
            for (long i = 0; i < mr; i++)
                for (long j = 0; j < nr; j++) {
                    T *p = G_CROW(i) + j;
                    *p = beta == 0 ? alpha * tmp[i * NR + j] : beta * *p + alpha * tmp[i * NR + j];
                }
        }
    }
}

// max(c, 0) over an m x n block of C, as the elementwise relu (NaN stays NaN, -0 becomes +0).
static inline __attribute__((always_inline)) T FN(relu_value)(T v) { return v > 0 ? v : (v == v ? (T)0 : v); }
static inline void FN(relu_block)(long m, long n, T *c, long ldc, const int32_t *cmap) {
    for (long i = 0; i < m; i++) {
        T *r = cmap ? c + (long)cmap[i] * ldc : c + i * ldc;
        for (long j = 0; j < n; j++) r[j] = FN(relu_value)(r[j]);
    }
}

// The kernel of ROWS rows and the fewest columns that cover nr: a ragged last panel (N = 500 or
// 784 leave 20 and 16 columns of a 32-wide panel) runs one vector and, where it suffices, half a
// vector instead of NV whole ones (its packed panel is zero-padded to NR, so any width reads it).
// Each column's sum is the same sequence of FMAs at any width: the bits do not change. Where a
// vector unit is half as wide as the vector (Zen 4's 256-bit units under AVX-512), a half vector
// costs half as much, elsewhere the same, and a single vector half of two everywhere. Zen 4, one
// thread, against whole panels (Benchmarks/gemm-shape-ab.sh, 8-12 alternations): 100x784x500 with
// B row-major 1.02x and transposed 1.02x, 100x1000x784 1.03x, 200x500x784 1.01x, 784x500x200 (Aᵀ)
// 1.01x, 100x768x500 (no ragged panel) 1.01x; Benchmarks/ab.py, 6 rounds: mlp-small-step 1.03x,
// mlp-big-step 1.01x, rbm-cd1-autodiff 1.01x, the rbm-epoch-10k GEMMs 1.02x.
static inline __attribute__((always_inline)) void
FN(ukernel_w)(long kc, const T *a, const T *b, long ldb, T *c, long ldc, T alpha, T beta, const T *bias, long mr, long nr,
              const int ROWS, const int AS, const int PACK, T *packto, int stream, const FN(pfshare) *pf, int cdone,
              const int MAP, const int32_t *idx) {
    if (PACK || NV != 2 || nr > VL + (G_HALF_OK ? VL / 2 : 0))
        FN(ukernel)(kc, a, b, ldb, c, ldc, alpha, beta, bias, mr, nr, ROWS, AS, PACK, packto, stream, pf, cdone, NV, 0, MAP, idx);
    else if (nr > VL)
        FN(ukernel)(kc, a, b, ldb, c, ldc, alpha, beta, bias, mr, nr, ROWS, AS, 0, 0, stream, pf, cdone, 1, 1, MAP, idx);
    else if (!G_HALF_OK || nr > VL / 2)
        FN(ukernel)(kc, a, b, ldb, c, ldc, alpha, beta, bias, mr, nr, ROWS, AS, 0, 0, stream, pf, cdone, 1, 0, MAP, idx);
    else
        FN(ukernel)(kc, a, b, ldb, c, ldc, alpha, beta, bias, mr, nr, ROWS, AS, 0, 0, stream, pf, cdone, 0, 1, MAP, idx);
}

// One tile of mr <= MR rows from the A panel at a (packing stride MR) with the kernel of the
// fewest rows that covers it: a third, two thirds or all of MR. PACK: see FN(ukernel).
static inline __attribute__((always_inline)) void
FN(tile)(long kc, const T *a, const T *b, long ldb, T *c, long ldc, T alpha, T beta, const T *bias, long mr, long nr,
         const int PACK, T *packto, int stream, const FN(pfshare) *pf, int cdone, const int MAP, const int32_t *idx) {
    if (mr > 2 * MR / 3)
        FN(ukernel_w)(kc, a, b, ldb, c, ldc, alpha, beta, bias, mr, nr, MR, MR, PACK, packto, stream, pf, cdone, MAP, idx);
    else if (mr > MR / 3)
        FN(ukernel_w)(kc, a, b, ldb, c, ldc, alpha, beta, bias, mr, nr, 2 * MR / 3, MR, PACK, packto, stream, pf, cdone, MAP, idx);
    else
        FN(ukernel_w)(kc, a, b, ldb, c, ldc, alpha, beta, bias, mr, nr, MR / 3, MR, PACK, packto, stream, pf, cdone, MAP, idx);
}

// Register tile and row block (MR, NR, MC), read by the dispatcher (gemm.c): threads split C on
// whole tiles, and `deep` compares the product's M with MC.
static const long FN(blocking)[5] = {MR, NR, MC, KC, NC};
// A lazily packed panel (kc <= G_KC_LAZY rows of NR) must fit the B buffer sized for KC x (NC + NR).
_Static_assert(G_KC_LAZY * NR <= KC * (NC + NR), "B buffer too small for lazily packed panels");
// The A buffer holds a row block of up to MC rows by G_KC_LAZY, or up to 256 rows by KC (a product
// of 145-256 rows read in one row block, see gemm_serial).
#define G_ABUF_ELEMENTS ((size_t)(MC * G_KC_LAZY > 256 * KC ? MC * G_KC_LAZY : 256 * KC))
static _Thread_local T *FN(abuf) = 0;
static _Thread_local T *FN(bbuf) = 0;

// This thread's B buffer, allocated on first use (NULL if it cannot be): its packing space in
// gemm_serial, and, in the thread that calls a split product, the block packed once and shared
// by all threads (gemm.c).
static T *FN(b_buffer)(void) {
    if (!FN(bbuf)) FN(bbuf) = (T *)aligned_alloc(64, sizeof(T) * (size_t)KC * (NC + NR) + 64);
    return FN(bbuf);
}

// deep: plan flags of the caller's whole product. G_PLAN_DEEP: a batch-sized M (<= MC) and a B that
// needs packing; K is then cut into blocks of up to G_KC_LAZY rather than KC. G_PLAN_FEW_ROWS: M <=
// 256, so full row-major B panels may be read in place. Decided from the whole product, not from
// this thread's share of rows, so the summation order (and every bit of C) does not depend on the
// thread count, and every chunk of a split product runs at the same speed.
//
// Bpre: B already packed by the caller (FN(pack_b) of the whole kc x nc block, shared by the threads
// of a split product); N <= NC and K <= KC then, and every panel is read from it.
//
// bias: a row vector of N added to C as the first K block stores it (only with beta == 0), so a
// layer's bias costs no pass of its own over C.
//
// relu: C ends as max(C, 0) (NaN kept, -0 made +0, as the elementwise relu): the last K block
// applies it to each row block's columns of a panel right after its tiles stored them, while they
// are in L1, so a layer's activation costs no pass of its own over C either.
//
// klist with cmap: the M rows of A are those of the caller's A that are not all zero, and row i
// of C is C's row cmap[i] (each row's sums unchanged; the caller fills the rows left out).
//
// klist with keep (plan flag G_PLAN_KLIST; M <= 256, no Bpre or Apre): A holds only the K columns of the
// caller's A that are not all zero, and keep[k] is 1 for the rows of B (of Korig) that they
// multiply, 0 for the others. The K blocks are those of the product without them (Korig rows, the
// same plan), each running the marked rows it holds: every sum skips only terms a·b with a = ±0,
// which leave it unchanged for a finite b, so C has the same bits (but for a zero whose sign an
// underflow set: skip_zeros.c). A B panel with an infinity or
// NaN in its block sets *bad (FN(pack_b_list)); C is then to be computed again.
static void FN(gemm_serial)(long M, long N, long K, T alpha, const T *A, long rsa, long csa,
                            const T *B, long rsb, long csb, T beta, T *C, long ldc, int deep, const T *Bpre,
                            const T *bias, const T *Apre, int relu, const g_klist *klist) {
    const uint8_t *keep = klist ? klist->keep : 0;
    const int32_t *cmap = klist ? klist->cmap : 0;   // C's rows through a map
    long Korig = klist ? klist->korig : K;
    int *bad = klist ? klist->bad : 0;
    // (aligned_alloc's size a multiple of the alignment, as C11 asks and some libcs require)
    if (!FN(abuf)) FN(abuf) = (T *)aligned_alloc(64, (sizeof(T) * G_ABUF_ELEMENTS + 2 * VBYTES + 63) / 64 * 64);
    T *Ap = FN(abuf), *Bp = Bpre ? (T *)Bpre : FN(b_buffer)();   // a worker given Bpre needs no B buffer of its own
    if (!Ap || !Bp) {   // a clear stop instead of a write through NULL (the buffers are a few MB, once per thread)
        fprintf(stderr, "onsager: GEMM: out of memory for this thread's packing buffers (%zu + %zu bytes)\n",
                sizeof(T) * G_ABUF_ELEMENTS, sizeof(T) * (size_t)KC * (NC + NR));
        abort();
    }
    // "direct" (B read in place) or "lazy" (each B panel packed just before use): FN(b_plan).
    int lazy, direct = FN(b_plan)(M, csb, deep, Bpre != 0, &lazy), plan_lazy = lazy;
    if (keep) FN(b_plan)(M, csb, deep & ~G_PLAN_KLIST, 0, &plan_lazy);   // the K blocks of the plan without the list
    long Kloop = keep ? Korig : K, kcb = FN(k_block)(Kloop, deep, plan_lazy);
    // B read in place with more rows than MC (up to 256): all rows in one row block when their A
    // block fits in three quarters of L2, so that B streams once, its next panel prefetched, instead
    // of once per row block with the second pass unprefetched. The K blocks stay those above (the
    // bits of C do not depend on the row blocking). RBM epoch, [data; chains]·W = 200×500×784,
    // Zen 4: the epoch's GEMMs 1.07× (ab.py, 6 rounds), the epoch 1.02×; alone (each call beside
    // an FMA loop, 3 × 15 calls) 200×2500×784 1.10×, 200×500×784 0.99-1.07×.
    long l2 = onsager_l2_cache_bytes();
    // Without B_IN_PLACE the same holds for a B packed at once or lazily: it is then packed and read once.
    int few_rows = direct || (!B_IN_PLACE && M <= 256);
    long rowblock = few_rows && M > MC && M * kcb * (long)sizeof(T) <= l2 / 4 * 3 ? M : MC;
    // A row-major B that is packed (not read in place, not shared) and read by one row block is
    // packed panel by panel just before its use, and a full panel by the kernel of its first tile as
    // it reads the source rows (G_FUSED_PACK), so that reading B overlaps the arithmetic instead of
    // taking a pass of its own. Packing a column-major B needs a transpose and keeps its pass.
    // Package-built objects in rotation (Benchmarks/gemm-objects-ab.sh), Intel Xeon (model 167),
    // one thread, against a pass per panel: 100x500x784 1.10x, 100x2500x784 1.06x, 144x1024x256 1.05x.
    int fused = G_FUSED_PACK && csb == 1 && !Bpre && !direct && !klist && (lazy || rowblock >= M);
    for (long jc = 0; jc < N; jc += NC) {
        long nc = N - jc < NC ? N - jc : NC;
        long q0 = 0;   // with keep: A's first column in this K block
        for (long pk = 0; pk < Kloop; pk += kcb) {
            // B's rows pk ... pk + kspan - 1; A's columns pc ... pc + kc - 1 (the same without keep).
            long kspan = Kloop - pk < kcb ? Kloop - pk : kcb, q1 = q0;
            for (long k = 0; keep && k < kspan; k++) q1 += keep[pk + k];
            long pc = keep ? q0 : pk, kc = keep ? q1 - q0 : kspan;
            q0 = q1;
            T be = pk == 0 ? beta : (T)1;
            const T *bb = be == 0 ? bias : 0;
            int act = relu && pk + kspan >= Kloop;
            // Streamed stores (see gemm.c) only where every full tile covers whole cache lines.
            int stream = (deep & G_PLAN_STREAM_C) && be == 0 && !bb && NR * sizeof(T) % 64 == 0 && ((uintptr_t)C & 63) == 0 &&
                         ldc * (long)sizeof(T) % 64 == 0;
            long nfull = direct ? nc / NR * NR : 0;
            // A column-major block too big to stay in L2 beside A's (over a quarter of L2) is
            // packed panel by panel during the first row block, while the next panel's source is
            // prefetched ("staged"); packed at once, its strided reads stalled. A row-major block is
            // packed at once, row by row (FN(pack_b)), which measured faster than staging it.
            long bbytes = kc * nc * (long)sizeof(T);
            int staged = !Bpre && !direct && !lazy && csb != 1 && bbytes > l2 / 4;
            // Read in place, B streams from memory for every row block, so with more than one
            // (M over MC, up to 256, whose A block does not fit as one) the next panel is
            // prefetched only when B is over twice L2: a smaller B partly survives in L2 from the
            // pass before, and prefetching evicted it. Against no prefetch there, Zen 4, 200 rows,
            // K 784: N 500 0.96× (prefetching in the first row block only) or 0.95× (in both); N
            // 1000 1.27×, N 2500 1.45× (in both).
            int inplace_ahead = direct && (M <= rowblock || bbytes > 2 * l2);
            if (!lazy && !fused && !Bpre && !staged && nfull < nc) {
                if (keep)
                    FN(pack_b_list)(kc, nc - nfull, B + pk * rsb + (jc + nfull) * csb, rsb, csb, keep + pk, kspan, Bp + nfull * kc, bad);
                else
                    FN(pack_b)(kc, nc - nfull, B + pc * rsb + (jc + nfull) * csb, rsb, csb, Bp + nfull * kc);
            }
            for (long ic = 0; ic < M; ic += rowblock) {
                long mc = M - ic < rowblock ? M - ic : rowblock;
                // Apre: A packed by the caller for every K block (FN(shared_a_size); M <= MC, one row block).
                T *Ablk = Apre ? (T *)Apre + pc / kcb * FN(shared_a_stride)(M, kcb) : Ap;
                if (!Apre) FN(pack_a)(mc, kc, A + ic * rsa + pc * csa, rsa, csa, Ap);
                long ss = FN(tail_split)(mc), parts = (mc + MR - 1) / MR;
                // The next panel (its source, or its packed copy) is asked for by the tiles of the
                // current one; a packed copy is kc rows of NR (see PACKED_AHEAD).
                int packed_ahead = PACKED_AHEAD && !direct && !lazy && !fused && !staged && (Bpre || (ic > 0 && bbytes > l2 / 2));
                long nrsb = packed_ahead ? NR : rsb, ncsb = packed_ahead ? 1 : csb;   // the next panel's layout
                for (long jr = 0; jr < nc; jr += NR) {
                    long nr = nc - jr < NR ? nc - jr : NR;
                    // In place through the list (keep): row 0 and the block's rows (FN(ukernel), G_MAP_BROWS).
                    const int32_t *rows = keep && jr < nfull ? klist->rows + pc : 0;
                    const T *bp = jr < nfull ? B + (keep ? 0 : pc) * rsb + jc + jr : Bp + jr * kc;
                    const T *bj = bb ? bb + jc + jr : 0;
                    long ldb = jr < nfull ? rsb : NR;
                    long ir0 = 0;
                    int ahead = (inplace_ahead || packed_ahead || (ic == 0 && (lazy || staged || fused))) && jr + NR < nc;
                    const T *next = packed_ahead ? Bp + (jr + NR) * kc : B + pk * rsb + (jc + jr + NR) * csb;
                    long nextnr = nc - jr - NR < NR ? nc - jr - NR : NR;
                    if (lazy || fused) {
                        bp = Bp;
                        ldb = NR;
                        if (fused && nr == NR && ss > 0) {
                            FN(pfshare) ps;
                            const FN(pfshare) *pf = 0;
                            if (ahead) {
                                ps = FN(prefetch_share)(kspan, nextnr, next, nrsb, ncsb, 0, parts, kc);
                                pf = FN(pf_hand)(&ps);
                            }
                            FN(tile)(kc, Ablk, B + pc * rsb + jc + jr, rsb, C + ic * ldc + jc + jr, ldc, alpha, be, bj,
                                     ss < MR ? ss : MR, nr, 1, Bp, stream, pf, 0, 0, 0);
                            ir0 = MR;
                        } else if (keep)
                            FN(pack_b_list)(kc, nr, B + pk * rsb + (jc + jr) * csb, rsb, csb, keep + pk, kspan, Bp, bad);
                        else
                            FN(pack_b)(kc, nr, B + pc * rsb + (jc + jr) * csb, rsb, csb, Bp);
                    } else if (staged && ic == 0)
                        FN(pack_b)(kc, nr, B + pc * rsb + (jc + jr) * csb, rsb, csb, Bp + jr * kc);
                    // Without a next B panel to ask for, each tile asks for the next tile's C instead
                    // (not when C is streamed: its stores do not read the lines).
                    int cnext = PF_SPREAD && G_PF_C_NEXT && !ahead && !stream;
                    for (long ir = ir0; ir < ss; ir += MR) {
                        long mr = ss - ir < MR ? ss - ir : MR;
                        FN(pfshare) ps;
                        const FN(pfshare) *pf = 0;
                        if (ahead) {
                            ps = FN(prefetch_share)(kspan, nextnr, next, nrsb, ncsb, ir / MR, parts, kc);
                            pf = FN(pf_hand)(&ps);
                        } else if (cnext && ir + MR < ss) {
                            long rows_next = ss - ir - MR < MR ? ss - ir - MR : MR;
                            ps = cmap ? FN(c_share)(kc, C + jc + jr, ldc, rows_next, nr, cmap + ic + ir + MR)
                                      : FN(c_share)(kc, C + (ic + ir + MR) * ldc + jc + jr, ldc, rows_next, nr, 0);
                            pf = &ps;
                        }
                        if (rows)
                            FN(tile)(kc, Ablk + ir * kc, bp, ldb, C + (ic + ir) * ldc + jc + jr, ldc, alpha, be, bj, mr, nr, 0, 0,
                                     stream, pf, cnext && ir > ir0, G_MAP_BROWS, rows);
                        else if (cmap)
                            FN(tile)(kc, Ablk + ir * kc, bp, ldb, C + jc + jr, ldc, alpha, be, bj, mr, nr, 0, 0, stream, pf,
                                     cnext && ir > ir0, G_MAP_CROWS, cmap + ic + ir);
                        else
                            FN(tile)(kc, Ablk + ir * kc, bp, ldb, C + (ic + ir) * ldc + jc + jr, ldc, alpha, be, bj, mr, nr, 0, 0,
                                     stream, pf, cnext && ir > ir0, 0, 0);
                    }
                    if (ss < mc) {   // the split tail: two panels of at most 2MR/3 rows
                        long h = (mc - ss + 1) / 2;
                        // (the split starts on panel ss / MR and is two panels: parts - 2 and parts - 1)
                        FN(pfshare) p0, p1;
                        const FN(pfshare) *f0 = 0, *f1 = 0;
                        if (ahead) {
                            p0 = FN(prefetch_share)(kspan, nextnr, next, nrsb, ncsb, parts - 2, parts, kc);
                            p1 = FN(prefetch_share)(kspan, nextnr, next, nrsb, ncsb, parts - 1, parts, kc);
                            f0 = FN(pf_hand)(&p0);
                            f1 = FN(pf_hand)(&p1);
                        }
                        if (rows) {
                            FN(ukernel_w)(kc, Ablk + ss * kc, bp, ldb, C + (ic + ss) * ldc + jc + jr, ldc, alpha, be, bj, h, nr,
                                          2 * MR / 3, 2 * MR / 3, 0, 0, stream, f0, 0, G_MAP_BROWS, rows);
                            FN(ukernel_w)(kc, Ablk + (ss + 2 * MR / 3) * kc, bp, ldb, C + (ic + ss + h) * ldc + jc + jr, ldc, alpha,
                                          be, bj, mc - ss - h, nr, 2 * MR / 3, 2 * MR / 3, 0, 0, stream, f1, 0, G_MAP_BROWS, rows);
                        } else if (cmap) {
                            FN(ukernel_w)(kc, Ablk + ss * kc, bp, ldb, C + jc + jr, ldc, alpha, be, bj, h, nr, 2 * MR / 3, 2 * MR / 3, 0,
                                          0, stream, f0, 0, G_MAP_CROWS, cmap + ic + ss);
                            FN(ukernel_w)(kc, Ablk + (ss + 2 * MR / 3) * kc, bp, ldb, C + jc + jr, ldc, alpha, be, bj, mc - ss - h, nr,
                                          2 * MR / 3, 2 * MR / 3, 0, 0, stream, f1, 0, G_MAP_CROWS, cmap + ic + ss + h);
                        } else {
                            FN(ukernel_w)(kc, Ablk + ss * kc, bp, ldb, C + (ic + ss) * ldc + jc + jr, ldc, alpha, be, bj, h, nr,
                                          2 * MR / 3, 2 * MR / 3, 0, 0, stream, f0, 0, 0, 0);
                            FN(ukernel_w)(kc, Ablk + (ss + 2 * MR / 3) * kc, bp, ldb, C + (ic + ss + h) * ldc + jc + jr, ldc, alpha,
                                          be, bj, mc - ss - h, nr, 2 * MR / 3, 2 * MR / 3, 0, 0, stream, f1, 0, 0, 0);
                        }
                    }
                    if (act) FN(relu_block)(mc, nr, cmap ? C + jc + jr : C + ic * ldc + jc + jr, ldc, cmap ? cmap + ic : 0);
                }
            }
            if (stream) G_STORE_FENCE();   // the stores visible before the threads' join hands C on
        }
    }
}

// Narrow products whose operands both run along K in memory: A's rows (csa = 1) and B's columns
// (rsb = 1), with few columns (a classifier head's x·Wᵀ, N = 2-15). Each C value is a dot product
// of two contiguous runs, so nothing is packed: G_DOT_ROWS rows of A against up to four columns of
// B at a time, one vector accumulator per pair, and the block's accumulators reduced together by
// an in-register transpose (element (r, c) is the sum of its accumulator's lanes in lane order;
// the k tail, see FN(dot_block)). The packed path pads such a C to a full panel (32 columns at
// AVX-512 Float) or, with 64 rows or more and beta = 0, transposes all of A to compute Cᵀ
// (gemm.c). B's columns are read once per group of rows, so gemm.c sends a B over half of L2
// to the packed path, which blocks K. Every C value is one fixed sequence of operations whichever rows a call is given, so a product
// split between threads by rows has the same bits.
#define G_DOT_ROWS (VBYTES == 64 ? 4 : 2)
#define G_DOT_ACC (G_DOT_ROWS * 4)
#if TBYTES == 4
typedef int32_t FN(dot_ivec) __attribute__((vector_size(VBYTES)));
#else
typedef int64_t FN(dot_ivec) __attribute__((vector_size(VBYTES)));
#endif
// One vector step of a block's dot products: the VL values of A's rows and B's columns from k on,
// into the accumulators. MASKED: only the lanes set in `keep`, zero in both operands elsewhere (so
// an infinity in a lane left out adds no NaN).
static inline __attribute__((always_inline)) void FN(dot_step)(FN(vec) *acc, const T *const *a, const T *const *b,
                                                              long k, FN(dot_ivec) keep, const int MASKED, const int COLS) {
    FN(vec) x[G_DOT_ROWS];
#pragma clang loop unroll(full)
    for (int r = 0; r < G_DOT_ROWS; r++) {
        x[r] = *(const FN(uvec) *)(a[r] + k);
        if (MASKED) x[r] = (FN(vec))((FN(dot_ivec))x[r] & keep);
    }
#pragma clang loop unroll(full)
    for (int c = 0; c < 4; c++) {
        if (c >= COLS) break;
        FN(vec) w = *(const FN(uvec) *)(b[c] + k);
        if (MASKED) w = (FN(vec))((FN(dot_ivec))w & keep);
#pragma clang loop unroll(full)
        for (int r = 0; r < G_DOT_ROWS; r++) acc[r * 4 + c] = VFMA(x[r], w, acc[r * 4 + c]);
    }
}

// The block's G_DOT_ROWS x COLS dot products of length K >= VL into out (row r, column c at
// r * 4 + c). The last K % VL values are the vector ending at K, its lanes already summed masked
// off: keep has all ones in the last K % VL lanes.
static inline __attribute__((always_inline)) void FN(dot_block)(long K, const T *const *a, const T *const *b,
                                                               T *out, FN(dot_ivec) keep, const int COLS) {
    FN(vec) acc[G_DOT_ACC];
#pragma clang loop unroll(full)
    for (int q = 0; q < G_DOT_ACC; q++) acc[q] = (FN(vec)){0};
    long k = 0;
    for (; k + VL <= K; k += VL) FN(dot_step)(acc, a, b, k, keep, 0, COLS);
    if (k < K) FN(dot_step)(acc, a, b, K - VL, keep, 1, COLS);
#pragma clang loop unroll(full)
    for (int g = 0; g < (int)(G_DOT_ACC / VL); g++) {
        FN(vec) *v = acc + g * VL;
        G_TRANSPOSE(v)
        FN(vec) sum = v[0];
#pragma clang loop unroll(full)
        for (int l = 1; l < (int)VL; l++) sum += v[l];
        *(FN(uvec) *)(out + g * VL) = sum;
    }
}

// One value of C from its dot product s: the packed path's epilogue (gemm_template's store loops,
// FN(relu_block)) for a single value.
static inline __attribute__((always_inline)) void FN(dot_store)(T *p, T s, T alpha, T beta, const T *bias, int relu) {
    T v = beta != 0 ? beta * *p + alpha * s : bias ? alpha * s + *bias : alpha * s;
    *p = relu ? FN(relu_value)(v) : v;
}

// Rows m0..<m1 of C = alpha·A·B + beta·C (or + bias, with beta = 0), then max(C, 0) with relu (NaN
// kept, as FN(relu_block)); A's rows rsa apart, B's columns csb apart, N <= 15 (see above).
static void FN(gemm_dot)(long m0, long m1, long N, long K, T alpha, const T *A, long rsa, const T *B, long csb,
                         T beta, T *C, long ldc, const T *bias, int relu) {
    if (K < VL) {   // shorter than a vector: a scalar sum per value, in k order
        for (long i = m0; i < m1; i++)
            for (long j = 0; j < N; j++) {
                const T *a = A + i * rsa, *b = B + j * csb;
                T s = 0;
                for (long k = 0; k < K; k++) s = VFMA(a[k], b[k], s);
                FN(dot_store)(C + i * ldc + j, s, alpha, beta, bias ? bias + j : 0, relu);
            }
        return;
    }
    T out[G_DOT_ACC] __attribute__((aligned(VBYTES)));
    FN(dot_ivec) keep;
    for (long l = 0; l < VL; l++) keep[l] = l >= VL - K % VL ? -1 : 0;
    for (long i0 = m0; i0 < m1; i0 += G_DOT_ROWS) {
        long rows = m1 - i0 < G_DOT_ROWS ? m1 - i0 : G_DOT_ROWS;
        const T *a[G_DOT_ROWS];
        for (int r = 0; r < G_DOT_ROWS; r++) a[r] = A + (i0 + (r < rows ? r : rows - 1)) * rsa;   // past the rows: repeats, unused
        for (long j0 = 0; j0 < N; j0 += 4) {
            long cols = N - j0 < 4 ? N - j0 : 4;
            const T *b[4];
            for (int c = 0; c < 4; c++) b[c] = B + (j0 + (c < cols ? c : cols - 1)) * csb;
            switch (cols) {
            case 4: FN(dot_block)(K, a, b, out, keep, 4); break;
            case 3: FN(dot_block)(K, a, b, out, keep, 3); break;
            case 2: FN(dot_block)(K, a, b, out, keep, 2); break;
            default: FN(dot_block)(K, a, b, out, keep, 1); break;
            }
            for (long r = 0; r < rows; r++)
                for (long c = 0; c < cols; c++)
                    FN(dot_store)(C + (i0 + r) * ldc + j0 + c, out[r * 4 + c], alpha, beta, bias ? bias + j0 + c : 0, relu);
        }
    }
}
#undef G_DOT_ROWS
#undef G_DOT_ACC

// Products of a few rows (a single sample's x·W, a TAP solver's one particle) with B stored by
// rows (csb = 1). Such a product reads all of B for a handful of FMAs per value, so it runs at the
// speed B streams in, and the packed path, which copies B into panels first, ran at a quarter of
// that. Here B is read once, in place: column strips of G_FEW_ACC / ROWS vectors, one accumulator
// per row and vector, A's values broadcast; K in chunks of kb rows, all of C's columns for each
// (strips down all of a 20 MB B's rows stride across pages and lose the prefetchers: eight rows in
// two groups of four ran at a quarter of the packed path), the sums between chunks kept in a
// buffer P. Every C value is the FMA kernels' sequence of operations (a chain of FMAs from zero
// over each K block of depth kcb, stored and reloaded unrounded between chunks, the blocks added
// as its kernels add them, the epilogue as its store loops), so the bits are those of the same
// rows computed in a larger product by the FMA kernels, whatever the strip, the chunk, the column
// range or the thread.
#define G_FEW_ACC (VBYTES == 64 ? 16 : 8)
// One strip: ROWS rows, SV vectors from column 0 of B, C and bias (pj of P), over k0..<k1; its
// sums from zero (first) or P, into P or (last) C, stored as FN(dot_store) stores a value. skip: a
// single vector whose first `skip` columns belong to another strip, neither stored nor kept.
static inline __attribute__((always_inline)) void FN(few_strip)(long k0, long k1, int first, int last, const T *A,
                                                               long rsa, long csa, const T *B, long rsb, T *C,
                                                               long ldc, T *P, long pj, long pld, T alpha, T be,
                                                               const T *bias, const int ROWS, const int SV,
                                                               long skip, long pfd) {
    FN(vec) acc[4][G_FEW_ACC];
#pragma clang loop unroll(full)
    for (int r = 0; r < ROWS; r++)
#pragma clang loop unroll(full)
        for (int v = 0; v < SV; v++) {
            acc[r][v] = (FN(vec)){0};
            if (!first && !skip) acc[r][v] = *(const FN(uvec) *)(P + r * pld + pj + v * VL);
            for (long l = skip; !first && skip && l < VL; l++) acc[r][v][l] = P[r * pld + pj + l];
        }
    for (long k = k0; k < k1; k++) {
        const T *b = B + k * rsb;
        if (pfd)
#pragma clang loop unroll(full)
            for (int v = 0; v < SV; v++) __builtin_prefetch(b + pfd * rsb + v * VL, 0, 2);
        FN(vec) a[4];
#pragma clang loop unroll(full)
        for (int r = 0; r < ROWS; r++) a[r] = A[r * rsa + k * csa] - (FN(vec)){0};   // (x - 0 keeps -0)
#pragma clang loop unroll(full)
        for (int v = 0; v < SV; v++) {
            FN(vec) bv = *(const FN(uvec) *)(b + v * VL);
#pragma clang loop unroll(full)
            for (int r = 0; r < ROWS; r++) acc[r][v] = VFMA(a[r], bv, acc[r][v]);
        }
    }
    if (skip) {
#pragma clang loop unroll(full)
        for (int r = 0; r < ROWS; r++)
            for (long l = skip; l < VL; l++) {
                // (FN(dot_store)'s expression written out: the call cost 4 % at one row, Zen 4.)
                T s = acc[r][0][l], *p = C + r * ldc + l;
                if (!last) P[r * pld + pj + l] = s;
                else *p = be == 0 && bias ? alpha * s + bias[l] : be == 0 ? alpha * s : be * *p + alpha * s;
            }
        return;
    }
    if (!last) {
#pragma clang loop unroll(full)
        for (int r = 0; r < ROWS; r++)
#pragma clang loop unroll(full)
            for (int v = 0; v < SV; v++) *(FN(uvec) *)(P + r * pld + pj + v * VL) = acc[r][v];
        return;
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < ROWS; r++)
#pragma clang loop unroll(full)
        for (int v = 0; v < SV; v++) {
            FN(uvec) *p = (FN(uvec) *)(C + r * ldc + v * VL);
            if (be == 0 && bias) *p = alpha * acc[r][v] + *(const FN(uvec) *)(bias + v * VL);
            else if (be == 0) *p = alpha * acc[r][v];
            else *p = be * *p + alpha * acc[r][v];
        }
}

// ROWS rows, columns j0..<j1, over k0..<k1 (see FN(few_strip)): strips of SV vectors, then of
// SV/2, SV/4, ... (each at most once), single vectors, then the last columns as the vector ending
// at j1 (its first lanes computed again but not stored), or one at a time where B's rows are
// shorter than a vector.
static inline __attribute__((always_inline)) void FN(few_pass)(long j0, long j1, long k0, long k1, int first, int last,
                                                              T alpha, const T *A, long rsa, long csa, const T *B,
                                                              long rsb, T be, T *C, long ldc, const T *bias, T *P,
                                                              long pld, const int ROWS, long pk1, int pf) {
    const int SV = G_FEW_ACC / ROWS;
    long j = j0;
#define G_FEW_STRIP(W, SKIP)                                                                       \
    FN(few_strip)(k0, k1, first, last, A, rsa, csa, B + j, rsb, C + j, ldc, P, j - j0, pld, alpha, be,    \
                  bias ? bias + j : 0, ROWS, W, SKIP, !pf ? 0 : k1 - k0 < pk1 - k1 ? k1 - k0 : pk1 - k1)
    for (; j + SV * VL <= j1; j += SV * VL) G_FEW_STRIP(SV, 0);
#pragma clang loop unroll(full)
    for (int w = SV / 2; w >= 1; w /= 2)
        if (j + w * VL <= j1) {
            G_FEW_STRIP(w, 0);
            j += w * VL;
        }
    for (; j + VL <= j1; j += VL) G_FEW_STRIP(1, 0);   // (SV not a power of two: up to SV - 1 left)
    if (j < j1 && j1 >= VL) {
        long skip = j - (j1 - VL);
        j = j1 - VL;
        G_FEW_STRIP(1, skip);
        return;
    }
#undef G_FEW_STRIP
    for (; j < j1; j++)
        for (int r = 0; r < ROWS; r++) {
            T s = first ? 0 : P[r * pld + (j - j0)];
            for (long k = k0; k < k1; k++) s = VFMA(A[r * rsa + k * csa], B[k * rsb + j], s);
            if (!last) P[r * pld + (j - j0)] = s;
            else FN(dot_store)(C + r * ldc + j, s, alpha, be, bias ? bias + j : 0, 0);
        }
}

// Rows 0..<M and columns j0..<j1 of C = alpha·A·B + beta·C (or + bias, with beta = 0), then
// max(C, 0) with relu, B stored by rows (csb = 1), in K blocks of depth kcb and chunks of kb rows
// (P: room for M x (j1 - j0) sums; NULL with kb >= kcb). B's columns from 0 may be read, C's from
// j0 only are written. pf: each strip asks for its columns of the next chunk's rows (within its K
// block) as it goes, for a B over four times L2 (Zen 4, one thread, a 20 MB B: 1.6x at one row,
// 2.3x at four), not for one L2 and L3 hold closely (1.5 MB: 0.89-0.95x).
static void FN(gemm_few_rows)(long M, long j0, long j1, long K, long kcb, long kb, T alpha, const T *A, long rsa,
                              long csa, const T *B, long rsb, T beta, T *C, long ldc, const T *bias, int relu, T *P,
                              int pf) {
    long pld = j1 - j0;
    for (long pk = 0; pk < K; pk += kcb) {
        long pk1 = K - pk < kcb ? K : pk + kcb;
        T be = pk == 0 ? beta : (T)1;
        const T *bb = be == 0 ? bias : 0;
        for (long k0 = pk; k0 < pk1; k0 += kb) {
            long k1 = pk1 - k0 < kb ? pk1 : k0 + kb;
            int first = k0 == pk, last = k1 == pk1;
            for (long i = 0; i < M; i += 4) {
                const T *a = A + i * rsa;
                T *c = C + i * ldc, *p = P ? P + i * pld : 0;   // (P NULL: one chunk, never read)
                switch (M - i < 4 ? M - i : 4) {
                case 1: FN(few_pass)(j0, j1, k0, k1, first, last, alpha, a, rsa, csa, B, rsb, be, c, ldc, bb, p, pld, 1, pk1, pf); break;
                case 2: FN(few_pass)(j0, j1, k0, k1, first, last, alpha, a, rsa, csa, B, rsb, be, c, ldc, bb, p, pld, 2, pk1, pf); break;
                case 3: FN(few_pass)(j0, j1, k0, k1, first, last, alpha, a, rsa, csa, B, rsb, be, c, ldc, bb, p, pld, 3, pk1, pf); break;
                default: FN(few_pass)(j0, j1, k0, k1, first, last, alpha, a, rsa, csa, B, rsb, be, c, ldc, bb, p, pld, 4, pk1, pf); break;
                }
            }
        }
    }
    for (long i = 0; relu && i < M; i++)
        for (long j = j0; j < j1; j++) C[i * ldc + j] = FN(relu_value)(C[i * ldc + j]);
}
#undef G_FEW_ACC

#ifdef G_PACKED_AHEAD_DEFAULTED
#undef PACKED_AHEAD
#undef G_PACKED_AHEAD_DEFAULTED
#endif
#ifdef G_PF_SPREAD_DEFAULTED
#undef PF_SPREAD
#undef G_PF_SPREAD_DEFAULTED
#endif
#undef FN
#undef G_HALF_OK
#undef G_TRANSPOSE
#undef VL
#undef NV
#undef G_CAT
#undef G_CAT2
