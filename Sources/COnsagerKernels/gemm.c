// GEMM entry points: run-time ISA dispatch and a split of C between threads. Each thread owns
// whole output tiles and walks K in the same order, so results do not depend on thread count.
#include "onsager_kernels.h"
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "templates/packed_products.h"
#include "templates/transpose.h"

// The next B panel's prefetch spread over each tile's k loop (PF_SPREAD, gemm_template.h) rather
// than asked for all at once before each tile: the burst of 150-260 requests to memory filled the
// miss buffers, and the kernel's own loads from L2 waited behind them (perf put 3-5 % of
// 100x2500x2000 on the burst's loop alone). AMD Zen 4 (family 25 model 17), one thread, the
// library's sgemm (Benchmarks/gemm-shape.c, PEAK=1, four alternations, fraction of the FMA
// peak): 100x2500x2000 (g·W) 0.85 → 0.89, 100x2500x784 (x·Wᵀ) 0.84 → 0.91, 100x1500x1000 0.78 →
// 0.89, 100x2000x2500 (x·Wᵀ) 0.82 → 0.88, 100x784x500 0.90 → 0.94; 1024³ unchanged (0.91).
// Steps (Benchmarks/ab.py, 6 rounds): mlp-big 1.05x, rbm-cd1 1.04x, mlp-small 1.03x, rbm-epoch
// 1.02x; at two threads 0.98-1.01x (8 rounds); AVX2 kernels on the same CPU 1.00-1.12x; Double
// (gemm-shape.c DOUBLE=1, 4-6 alternations) 100x1500x1000 1.07x, 100x2500x2000 1.06x; x·Wᵀ with
// B column-major first read 0.94-0.96x in 4-6 alternations, then, in 10 (Benchmarks/gemm-shape-ab.sh
// against a -DG_PF_SPREAD=0 build), 100x2500x784 1.04x, 100x784x500 1.05x, 100x2000x2500 1.05x
// (and 100x1500x1000 1.06x): the spread is kept for Double's transposed B too. Intel's Float
// tuning spreads too (G_PF_SPREAD_INTEL; it kept the burst until measured there): Intel Xeon
// (family 6, model 207, Emerald Rapids; L2 2 MB), package-style objects called in rotation
// (Benchmarks/gemm-objects-ab.sh), one thread, in a fast and a slow host state: 100x500x784
// 1.09x and 1.10x, 100x784x500 (B column-major) 1.06x and 1.06x, 100x2500x2000 1.11x,
// 100x2000x2500 1.07x, 1024³ 1.02-1.03x, 512³ 1.01x, 784x500x100 (Aᵀ) 1.01x; two threads
// 0.98-1.08x. Double has one AVX-512 instance for every vendor, so it spreads on Intel too.
// Where no B panel is prefetched (products of more rows than a batch, e.g. weight gradients), a
// tile asks the same way for the next tile's C, which it then does not fetch in a burst of its
// own (G_PF_C_NEXT; not for streamed C): Zen 4, one thread, against the burst: 2000x2500x100 (rows
// of C not 64-byte aligned) 1.05x (six alternations, 1.02-1.10), 1000x1500x100 1.01x, 784x500x200
// 1.03x, 784x500x100 and 500x1000x100 1.00x, 1024³ 1.00x; at two threads 1.00-1.02x. Steps
// (ab.py, 6 rounds): rbm-epoch 1.02x, mlp-big 1.01x, rbm-cd1 1.01x, mlp-small 1.00x; at two
// threads 0.99-1.02x.
#ifndef G_PF_SPREAD
#define G_PF_SPREAD 1
#endif
#ifndef G_PF_SPREAD_INTEL
#define G_PF_SPREAD_INTEL 1
#endif
#define PF_SPREAD G_PF_SPREAD

#define PORTABLE_FMA(a, b, c) ((a) * (b) + (c))
#define HW_FMA(a, b, c) __builtin_elementwise_fma(a, b, c)

// ---- portable (SSE2 on x86-64, NEON elsewhere) ----
#define T float
#define TBYTES 4
#define SUF f32_portable
#define VBYTES 16
#define MR 6
#define NR 8
#define B_IN_PLACE 1
#define KC 256
#define MC 96
#define NC 2048
#define VFMA PORTABLE_FMA
#include "templates/gemm_template.h"
#undef T
#undef TBYTES
#undef SUF
#undef NR
#undef MC
#define T double
#define TBYTES 8
#define SUF f64_portable
#define NR 4
#define MC 72
#include "templates/gemm_template.h"
#undef T
#undef TBYTES
#undef SUF
#undef VBYTES
#undef MR
#undef NR
#undef KC
#undef MC
#undef NC
#undef VFMA
#undef B_IN_PLACE

#if defined(__x86_64__)
// ---- AVX2 + FMA ----
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define VFMA HW_FMA
#define VBYTES 32
#define MR 6
#define KC 256
#define NC 4096
// Products of up to 256 rows pack B rather than read its row-major panels in place (measured on
// Zen 3, one core, against reading in place: [100x784]·[784x500] 1.05-1.14x, 200 rows 1.11-1.12x,
// rbm-epoch-10k 1.05x, mlp-big's GEMMs 1.04x; 100x784x2500 0.96-0.97x, the one loss). AVX-512
// (measured on Zen 4) keeps reading in place.
#define B_IN_PLACE 0
// The k loop unrolled four times. Zen 3, one core, package-built gemm.c objects called in
// rotation in one process (Benchmarks/gemm-objects-ab.sh): 1.01-1.04x against the loop not
// unrolled on 1024³ and the RBM shapes (100x500x784, 100x784x500 Bᵀ, 784x500x100 Aᵀ, 200x500x784;
// an object against itself: 0.99-1.01x); in a one-file lab, twice 1.01-1.05x, eight times 0.92-0.98x.
#undef KUNROLL
#define KUNROLL 4
#define T float
#define TBYTES 4
#define SUF f32_avx2
#define NR 16
#define MC 96
#include "templates/gemm_template.h"
#undef KUNROLL
#define KUNROLL 1   // Double's kernel, not measured unrolled
#undef T
#undef TBYTES
#undef SUF
#undef NR
#undef MC
#define T double
#define TBYTES 8
#define SUF f64_avx2
#define NR 8
#define MC 72
#include "templates/gemm_template.h"
#undef T
#undef TBYTES
#undef SUF
#undef NR
#undef MC
#undef VBYTES
#undef MR
#undef KC
#undef NC
#undef B_IN_PLACE
#pragma clang attribute pop

// ---- AVX-512 ----
// Float (every CPU but Intel's, below): KC = 1024, one K block for most layer shapes. Measured on Zen 4 (one core, FMA peak 117
// GFLOPS) with the C-tile prefetch: sgemm 1024³ 104 GFLOPS at KC = 256, 106 at 512, 107–108 at
// 1024; 2048³ 107 → 110. The A block (MC x KC, 576 KB) stays in a 1 MB L2; the B block (KC x NC,
// 8 MB) in L3. Double keeps KC = 256 (the same bytes per micro-panel as Float at 512).
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))), apply_to = function)
#define VBYTES 64
#define MR 12
#define KC 1024
#define B_IN_PLACE 1
#define T float
#define TBYTES 4
#define SUF f32_avx512
#define NR 32
#define MC 144
#define NC 2048
#include "templates/gemm_template.h"
#undef SUF
#undef KC
// Float on Intel (chosen at run time from the CPUID vendor, onsager_gemm_tuning; the same tile):
// K blocks of KC_INTEL = 256, so that the KC x NR panel of B that the micro-kernel reuses across a
// row block (32 KB) fits a 48 KB L1 (128 KB at KC = 1024), and B packed rather than read in place
// (BIP_INTEL = 0). Batch-sized products with a column-major B keep K blocks of up to 1024
// (KC_LAZY_INTEL; 256 there measured 0.96-1.00x). Measured on a 2-core Intel Xeon (family 6,
// model 167, AVX-512; L2 2 MB per core), package-built gemm.c objects called in rotation
// (Benchmarks/gemm-objects-ab.sh), against the blocking above: on a busy host 1024³ 1.10x,
// 2048x1024² 1.10x, 512³ 1.04x, 100x500x784 1.04x, 200x500x784 1.12x, the other RBM and MLP
// shapes 0.98-1.01x; on a calm one 512³ 1.03x, 200x500x784 1.07x, the others 0.99-1.01x. Apart
// (host state not recorded), KC 256 alone read 0.99-1.01x and packing alone 1.09x on 200x500x784:
// the smaller K blocks pay on large products under load only. KC 384 read 0.97-1.02x of 256,
// KC 512 0.96-0.97x on 1024³, 512³ and 200x500x784; an 8x48 or 6x64 tile 0.94-1.11x.
// The macros may be set when compiling gemm.c by hand to measure other blockings (the register tile
// MR_INTEL x NR_INTEL and the blocks MC_INTEL, NC_INTEL too). Later, on the same CPU with the host in a
// state where MKL led by 10-20 % (2026-12-03; objects called in rotation with OpenBLAS and MKL,
// Benchmarks/gemm-objects-ab.sh), none of these moved 1024³ or 100x500x784 by more than 4 %: KC 128
// (0.92x), 192, 512, 1024; MC 288, 576; NC 512; tiles 8x48, 9x48, 6x64, 14x32; B read in place;
// packing buffers on huge pages; and a micro-kernel prefetching its panels 4, 8 or 16 k ahead.
// A B block packed at once and over half of L2 (over 1024 columns at KC 256 with a 2 MB L2) has
// each tile ask for its share of the next packed panel after the first row block (PACKED_AHEAD,
// gemm_template.h): Intel Xeon (model 207), one thread, objects in rotation (M x N x K): 2048³
// 1.11x in a slow host state and 1.01x in a fast one, 1024x2048x1024 1.04x; products whose block
// is at most half of L2 take no part (1024³ and 2048x1024x1024, 1.00-1.01x). A product split
// between threads by rows over a B block the threads packed together (half of its panels in the
// other core's cache) asks in every task, whatever the block's size; two threads, two runs:
// 1024³ 1.03x and 1.03x, 512³ 1.07x and 1.05x, 2048x1024x1024 1.04x and 1.01x, 1024x2048x1024
// 1.03x, 2048³ 1.11x (against asking only for blocks over half of L2: 2048³ 1.17x, the others
// 1.01-1.03x, i.e. unchanged). Not measured on AMD, whose tuning packs blocks of 1024 rows that
// stay in L3 (off there).
// Since the thirty-seventh session those two-thread shapes pack B per chunk instead where its
// blocks are within twice L2 (S##_planned, G_OWN_B_DEEP), which on that Xeon is all of them:
// measured under Intel's blocking forced on Zen 4 only (1.03-1.16x).
#ifndef G_PACKED_AHEAD_INTEL
#define G_PACKED_AHEAD_INTEL 1
#endif
#ifndef KC_INTEL
#define KC_INTEL 256
#endif
#ifndef KC_LAZY_INTEL
#define KC_LAZY_INTEL 1024
#endif
#ifndef BIP_INTEL
#define BIP_INTEL 0
#endif
#ifndef MC_INTEL
#define MC_INTEL 144
#endif
#ifndef NC_INTEL
#define NC_INTEL 2048
#endif
#ifndef MR_INTEL
#define MR_INTEL 12
#endif
#ifndef NR_INTEL
#define NR_INTEL 32
#endif
#undef MR
#define MR MR_INTEL
#undef NR
#define NR NR_INTEL
#define KC KC_INTEL
#undef MC
#define MC MC_INTEL
#undef NC
#define NC NC_INTEL
#undef G_KC_LAZY
#define G_KC_LAZY KC_LAZY_INTEL
#undef B_IN_PLACE
#define B_IN_PLACE BIP_INTEL
#define SUF f32_avx512i
#undef PF_SPREAD
#define PF_SPREAD G_PF_SPREAD_INTEL
#define PACKED_AHEAD G_PACKED_AHEAD_INTEL
#include "templates/gemm_template.h"
#undef PACKED_AHEAD
#undef PF_SPREAD
#define PF_SPREAD G_PF_SPREAD
#undef MR
#define MR 12
#undef G_KC_LAZY
#define G_KC_LAZY 1024
#undef B_IN_PLACE
#define B_IN_PLACE 1
#undef T
#undef TBYTES
#undef SUF
#undef NR
#undef MC
#undef NC
#undef KC
#define KC 256
#define T double
#define TBYTES 8
#define SUF f64_avx512
#define NR 16
#define MC 96
#define NC 2048
#include "templates/gemm_template.h"
#undef T
#undef TBYTES
#undef SUF
#undef NR
#undef MC
#undef NC
#undef VBYTES
#undef MR
#undef KC
#undef VFMA
#undef B_IN_PLACE
#pragma clang attribute pop
#endif

// A product whose C is stored once (K in one block, no ReLU pass reading it back) and is larger
// than twice L2 (G_STREAM_MIN_L2) stores its full, line-aligned tiles with non-temporal stores
// (G_PLAN_STREAM_C; tiles with a bias keep normal stores and their prefetch): such a C would not
// stay in cache for its reader anyway, and a normal store first reads each line from memory.
// Weight gradients of batch 100, Intel Xeon (model 167), one thread, package-built objects in
// rotation (Benchmarks/gemm-objects-ab.sh): 2512x2000x100 1.22-1.27x, 1500x2000x100 1.19-1.22x,
// 2500x784x100 1.07-1.16x; at two threads 1.13-1.18x. Rows whose stride is not a multiple of 64
// bytes keep normal stores (a non-temporal store of part of a line is slow; realigning the whole
// line inside each row and storing its partial ends normally ran 0.25x). Only for K up to 256:
// with longer K the stores are a small part of the product's time (and Zen's Float K blocks
// reach 1024). On for every CPU. AMD Zen 4 (family 25 model 17, L2 1 MiB), the same objects
// against a G_STREAM_C=0 build: 2500x784x100 and 1500x2000x100 1.02x at one thread, 1.09x and
// 1.06x at two. G_STREAM_C=0 turns it off, for measurements.
// Why twice L2 and not L2 (the rule until 2026-12-04): a C a little over L2 mostly stays in L3,
// where the SGD pass that reads it next finds it; streamed, it came back from memory. Zen 4, each
// product timed with that pass (gemm-objects-ab.sh with AXPY=1), not streamed against streamed:
// 500x784x100 (mlp-small's weight gradient, C 1.6 MB) 1.04-1.06x at 1 thread and 1.05x at 2,
// 512x1024x100 (2.1 MB) 1.05x and 1.04x; the products alone 1.00-1.02x at 1 and 2 threads (an
// earlier 1.16x for streaming 500x784x100 at two threads was not reproduced). Larger C keep
// streaming (2500x784x100 with the pass: 1.00x either way); Intel's shapes above, C of 7.8 MB and
// more with a 2 MB L2, are unchanged.
// A Float product on the AVX2 kernels split by rows over a shared B with several K blocks (K over
// their KC of 256, N within one NC block, all of them within the shared B buffer of KC x (NC + NR)
// values: K x N up to about 1024 x 1024) packs all of its blocks at once and
// runs each row task through them in turn (S##_kblocks_task), where it ran a pack job and a
// compute job per block, each ending in a join. Zen 4 with its AVX2 kernels (a stand-in for
// AVX2-only CPUs), two threads, Benchmarks/gemm-objects-ab.sh ISA=1 NT=2, three runs: 1024³
// 1.006x, 1.021x, 1.084x, 512³ 1.034x, 1.031x, 1.019x. The same for every ISA and blocking since
// the thirty-first session, Float's blocks past the B buffer in one grown for them (up to
// G_ALL_K_MAX_BYTES: Intel's KC 256 packs 4 MB for 1024³ against its 2 MB buffer). Zen 4, two
// threads, objects in rotation against the blocks one at a time: Intel's blocking (TUNING=intel)
// 512³ 1.023-1.039x and 1024³ 1.005-1.018x in four runs each, 300x1024x1024 1.000-1.005x; the
// general one 512x512x2048 (two K blocks of 1024) 0.99-1.01x; Double 512³ 1.006-1.016x (AVX2
// 1.023x), but Double 1024³ (8 MB at once) 0.968x and 0.992x through a grown buffer, and 0.935x
// and 0.998x on AVX2 (whose B buffer holds it), so Double packs at most 4 MB at once
// (G_ALL_K_MAX_BYTES_F64: 1024³ one block at a time) and only in its B buffer. Intel itself not
// measured. Since the thirty-seventh session these shapes pack B per chunk at two threads
// (S##_planned, G_OWN_B_DEEP: K blocks within twice L2); the shared B serves M < 256 (nt - 1)
// and blocks over twice L2 (under Intel's blocking, whose blocks are at most 2 MB, only the
// former where L2 is 1 MB or more).
#ifndef G_OWN_B_DEEP
#define G_OWN_B_DEEP 1   // a split product's B of several K blocks packed per chunk, as one (S##_planned)
#endif
#ifndef G_OWN_B_L2
#define G_OWN_B_L2 2     // ... B blocks up to this many times L2 (S##_planned)
#endif
#ifndef G_ALL_K_BLOCKS
#define G_ALL_K_BLOCKS 1
#endif
#ifndef G_ALL_K_MAX_BYTES
#define G_ALL_K_MAX_BYTES (8L << 20)
#endif
#ifndef G_ALL_K_MAX_BYTES_F64
#define G_ALL_K_MAX_BYTES_F64 (4L << 20)
#endif
#ifndef G_STREAM_C
#define G_STREAM_C 1
#endif
#ifndef G_STREAM_MIN_L2
#define G_STREAM_MIN_L2 2
#endif
double onsager_gemm_stream_min_bytes(void) { return (G_STREAM_MIN_L2) * (double)onsager_l2_cache_bytes(); }

// Products of a few rows (gemm_template.h, FN(gemm_few_rows)): up to G_FEW_ROWS rows (at 5-16 rows
// the path lost to the packed one on a 20 MB B, SPEED-LOG); split between threads above
// G_FEW_SPLIT_FLOPS in tasks of G_FEW_TASK_COLUMNS columns; K in chunks holding a G_FEW_CHUNK_PART-th
// of L2 of B; the next chunk asked for ahead where B is over G_FEW_PF_L2 times L2.
#ifndef G_FEW_ROWS
#define G_FEW_ROWS 4
#endif
#ifndef G_FEW_SPLIT_FLOPS
#define G_FEW_SPLIT_FLOPS 4e5
#endif
#ifndef G_FEW_PF_L2
#define G_FEW_PF_L2 4
#endif
#ifndef G_FEW_CHUNK_PART
#define G_FEW_CHUNK_PART 8
#endif
#ifndef G_FEW_TASK_COLUMNS
#define G_FEW_TASK_COLUMNS 256
#endif
// Whether a B of K x N values is over G_FEW_PF_L2 times L2 (read from memory rather than the caches).
static int g_few_b_large(long K, long N, size_t value_bytes, double l2) {
    return (double)K * N * value_bytes > G_FEW_PF_L2 * l2;
}

// The depth of the kernels' K blocks for a B stored by rows (gemm_template.h's k_block without the
// lazy plan): K cut into equal blocks of at most kcmax.
static long g_k_block_depth(long K, long kcmax) {
    long kblocks = (K + kcmax - 1) / kcmax;
    return (K + kblocks - 1) / kblocks;
}
#ifndef G_STREAM_MAX_K
#define G_STREAM_MAX_K 256
#endif

// Skipping zeros (skip_zeros.c) pays from a share of the columns or rows: A's from a sixteenth
// (at a hundredth, the path ran 0.98-0.99x the product without it: its scan, copy and checks; at
// a tenth, 1.05-1.08x); B's columns, whose compact C is spread in a pass of its own, from an
// eighth, and from a fifth where the kernels store C past the caches (that pass then runs at the memory's
// write bandwidth, where the kernels' stores overlap their arithmetic): Zen 4, one thread, a
// tenth of B's columns zero, 500x784x100 1.02-1.03x, 1000x1500x100 1.01-1.08x, 2000x2500x100
// 0.98-1.00x; a fifth, 2000x2500x100 1.11x; 35 %, 500x784x100 1.37x (Benchmarks/skip-zeros-lab.c).
#ifndef SZ_MIN_SHARE
#define SZ_MIN_SHARE 16
#endif
#ifndef SZ_BCOLS_MIN_SHARE
#define SZ_BCOLS_MIN_SHARE 8
#endif
#ifndef SZ_BCOLS_CHUNK_L2
#define SZ_BCOLS_CHUNK_L2 0.5
#endif
#ifndef SZ_BCOLS_CHUNK_L2_THREADS
#define SZ_BCOLS_CHUNK_L2_THREADS 1.0
#endif
#ifndef SZ_BCOLS_MIN_SHARE_STREAMED
#define SZ_BCOLS_MIN_SHARE_STREAMED 5
#endif

#define DEFINE_GEMM(T, S, NAME)                                                                    \
    typedef void (*S##_serial_fn)(long, long, long, T, const T *, long, long, const T *, long, long, \
                                  T, T *, long, int, const T *, const T *, const T *, int,         \
                                  const g_klist *);                                                \
    typedef void (*S##_dot_fn)(long, long, long, long, T, const T *, long, const T *, long, T, T *, long, \
                               const T *, int);                                                    \
    typedef void (*S##_few_fn)(long, long, long, long, long, long, T, const T *, long, long,       \
                               const T *, long, T, T *, long, const T *, int, T *, int);           \
    /* One ISA's kernels: the serial product, B packing, the caller's B buffer, its blocking    \
       {MR, NR, MC, KC, NC}, A shared between column chunks, narrow dot products and products of a \
       few rows. */                                                                                \
    typedef struct {                                                                               \
        S##_serial_fn serial;                                                                      \
        void (*pack_b)(long, long, const T *, long, long, T *);                                    \
        T *(*caller_b_buffer)(void);                                                               \
        const long *blocking;                                                                      \
        long (*shared_a_size)(long, long, long, int, long *);                                      \
        void (*pack_a_block)(long, long, const T *, long, long, long, T *, long, long, long);      \
        S##_dot_fn dot;                                                                            \
        S##_few_fn few;                                                                            \
    } S##_isa;                                                                                     \
    static S##_isa S##_pick(void) {                                                                \
        switch (onsager_isa_level()) {                                                             \
        X86_CASES(T, S)                                                                            \
        default: return (S##_isa){gemm_serial_##S##_portable, pack_b_##S##_portable,              \
                                  b_buffer_##S##_portable, blocking_##S##_portable,                \
                                  shared_a_size_##S##_portable, pack_a_block_##S##_portable,       \
                                  gemm_dot_##S##_portable, gemm_few_rows_##S##_portable};          \
        }                                                                                          \
    }                                                                                              \
    typedef struct {                                                                               \
        S##_serial_fn fn;                                                                          \
        long M, N, K, rsa, csa, rsb, csb, ldc, chunk, units, unit, parts;                          \
        int split_m, deep, relu;                                                                   \
        T alpha, beta;                                                                             \
        const T *A, *B, *Bpre, *bias, *Apre;                                                       \
        T *C;                                                                                      \
        const g_klist *kl; /* B's rows read, with A's all-zero columns dropped (G_PLAN_KLIST) */   \
    } S##_job;                                                                                     \
    static void S##_task(void *vctx, long t) {                                                     \
        S##_job *j = (S##_job *)vctx;                                                              \
        if (j->split_m) {                                                                          \
            /* With parts: from tile t * units / parts, so task sizes differ by one tile at most. */ \
            long m0 = j->parts ? t * j->units / j->parts * j->unit : t * j->chunk;                 \
            long m1 = j->parts ? (t + 1) * j->units / j->parts * j->unit : m0 + j->chunk;          \
            if (m1 > j->M) m1 = j->M;                                                              \
            if (m0 >= m1) return;                                                                  \
            /* C's rows through a map (skip_zeros.c): the chunk's part of the map, from C's row 0. */ \
            g_klist sub;                                                                           \
            const g_klist *kl = j->kl;                                                             \
            T *c = j->C + m0 * j->ldc;                                                             \
            if (kl && kl->cmap) { sub = *kl; sub.cmap += m0; kl = &sub; c = j->C; }                \
            j->fn(m1 - m0, j->N, j->K, j->alpha, j->A + m0 * j->rsa, j->rsa, j->csa, j->B, j->rsb, \
                  j->csb, j->beta, c, j->ldc, j->deep, j->Bpre, j->bias, 0, j->relu, kl);          \
        } else {                                                                                   \
            long n0 = t * j->chunk, n1 = n0 + j->chunk < j->N ? n0 + j->chunk : j->N;              \
            if (n0 >= n1) return;                                                                  \
            j->fn(j->M, n1 - n0, j->K, j->alpha, j->A, j->rsa, j->csa, j->B + n0 * j->csb, j->rsb, \
                  j->csb, j->beta, j->C + n0, j->ldc, j->deep, 0, j->bias ? j->bias + n0 : 0,      \
                  j->Apre, j->relu, j->kl);                                                        \
        }                                                                                          \
    }                                                                                              \
    /* A row task of a product whose K blocks of B were all packed at once (S##_gemm): the task's \
       rows through every K block in turn, each block as S##_task runs it (the same calls, so the \
       same bits), with no join between the blocks. */                                           \
    typedef struct {                                                                               \
        S##_job job;                                                                               \
        long kcb, stride;   /* K block depth; packed block b at job.Bpre + b * stride */           \
    } S##_kblocks_job;                                                                             \
    static void S##_kblocks_task(void *vctx, long t) {                                             \
        S##_kblocks_job *kj = (S##_kblocks_job *)vctx;                                             \
        for (long pc = 0, b = 0; pc < kj->job.K; pc += kj->kcb, b++) {                             \
            S##_job blk = kj->job;                                                                 \
            blk.K = kj->job.K - pc < kj->kcb ? kj->job.K - pc : kj->kcb;                           \
            blk.A = kj->job.A + pc * kj->job.csa;                                                  \
            blk.beta = pc == 0 ? kj->job.beta : (T)1;                                              \
            blk.Bpre = kj->job.Bpre + b * kj->stride;                                              \
            blk.relu = kj->job.relu && pc + blk.K >= kj->job.K;                                    \
            S##_task(&blk, t);                                                                     \
        }                                                                                          \
    }                                                                                              \
    /* Packing K x nc of B into a shared buffer in K blocks of kcb (one block, or every block of  \
       a column chunk at once), block b at Bp + b * stride: task t packs block t / parts, its     \
       (t % parts)-th run of `per` whole NR-column panels. */                                     \
    typedef struct {                                                                               \
        void (*pack_b)(long, long, const T *, long, long, T *);                                    \
        long K, kcb, nc, nr, rsb, csb, per, parts, stride;                                         \
        const T *B;                                                                                \
        T *Bp;                                                                                     \
    } S##_pack_job;                                                                                \
    static void S##_pack_task(void *vctx, long t) {                                                \
        S##_pack_job *j = (S##_pack_job *)vctx;                                                    \
        long pc = t / j->parts * j->kcb, kc = j->K - pc < j->kcb ? j->K - pc : j->kcb;             \
        long j0 = t % j->parts * j->per * j->nr, j1 = j0 + j->per * j->nr < j->nc ? j0 + j->per * j->nr : j->nc; \
        if (j0 < j1)                                                                               \
            j->pack_b(kc, j1 - j0, j->B + pc * j->rsb + j0 * j->csb, j->rsb, j->csb,              \
                      j->Bp + t / j->parts * j->stride + j0 * kc);                                 \
    }                                                                                              \
    /* Packing A for one K block into the buffer shared by the threads that split the columns. */ \
    typedef struct {                                                                               \
        void (*pack_a_block)(long, long, const T *, long, long, long, T *, long, long, long);      \
        long M, K, rsa, csa, kcb, parts;                                                           \
        const T *A;                                                                                \
        T *Ap;                                                                                     \
    } S##_pack_a_job;                                                                              \
    static void S##_pack_a_task(void *vctx, long t) {                                              \
        S##_pack_a_job *j = (S##_pack_a_job *)vctx;                                                \
        j->pack_a_block(j->M, j->K, j->A, j->rsa, j->csa, j->kcb, j->Ap, t / j->parts, t % j->parts, j->parts); \
    }                                                                                              \
    /* The caller's buffer for a shared packed A, grown as needed. */                              \
    static _Thread_local T *S##_shared_a = 0;                                                      \
    static _Thread_local long S##_shared_a_cap = 0;                                                \
    /* The caller's buffer for every K block of a shared B at once where the B buffer is too      \
       small (Intel's Float K blocks of 256: 1024³ packs 4 MB against a 2 MB buffer). */         \
    static _Thread_local onsager_scratch S##_kblocks;                                              \
    /* The dot-product path over rows split between the threads in chunks of whole row groups    \
       (every C value is computed the same way by whichever thread gets its row). */              \
    typedef struct {                                                                               \
        S##_dot_fn dot;                                                                            \
        long M, N, K, rsa, csb, ldc, per;                                                          \
        T alpha, beta;                                                                             \
        const T *A, *B, *bias;                                                                     \
        T *C;                                                                                      \
        int relu;                                                                                  \
    } S##_dot_job;                                                                                 \
    static void S##_dot_task(void *vctx, long t) {                                                 \
        S##_dot_job *j = (S##_dot_job *)vctx;                                                      \
        long m0 = t * j->per, m1 = m0 + j->per < j->M ? m0 + j->per : j->M;                        \
        if (m0 < m1) j->dot(m0, m1, j->N, j->K, j->alpha, j->A, j->rsa, j->B, j->csb, j->beta, j->C, \
                            j->ldc, j->bias, j->relu);                                             \
    }                                                                                              \
    static void S##_dot_rows(long M, long N, long K, T alpha, const T *A, long rsa, const T *B,    \
                             long csb, T beta, T *C, long ldc, const T *bias, int relu) {          \
        S##_dot_job job = {S##_pick().dot, M, N, K, rsa, csb, ldc, M, alpha, beta, A, B, bias, C, relu}; \
        int nt = onsager_get_num_threads();                                                        \
        if (nt > 1 && 2.0 * M * N * K > 4e5 && M >= 16 * nt && !onsager_pool_contended()) {        \
            job.per = ((M + nt - 1) / nt + 3) / 4 * 4;   /* whole groups of rows (4, or 2)   */      \
            onsager_parallel_for((M + job.per - 1) / job.per, S##_dot_task, &job);                 \
        } else {                                                                                   \
            S##_dot_task(&job, 0);                                                                 \
        }                                                                                          \
    }                                                                                              \
    /* A product of a few rows (M <= G_FEW_ROWS) with B stored by rows: column ranges of a fixed   \
       width as tasks (gemm_template.h, FN(gemm_few_rows); every C value is computed the same way  \
       by whichever thread gets its columns), K in chunks of about an eighth of L2 of B. */        \
    typedef struct {                                                                               \
        S##_few_fn few;                                                                            \
        long M, N, K, kcb, rsa, csa, rsb, ldc, per;                                                \
        int pf;   /* B over G_FEW_PF_L2 times L2: the next chunk asked for ahead */                \
        double l2;   /* the caller's L2 (a test may force it for its own thread) */                \
        T alpha, beta;                                                                             \
        const T *A, *B, *bias;                                                                     \
        T *C;                                                                                      \
        int relu;                                                                                  \
    } S##_few_job;                                                                                 \
    static void S##_few_task(void *vctx, long t) {                                                 \
        S##_few_job *j = (S##_few_job *)vctx;                                                      \
        long j0 = t * j->per, j1 = j0 + j->per < j->N ? j0 + j->per : j->N;                        \
        long kb = (long)(j->l2 / G_FEW_CHUNK_PART / ((j1 - j0) * (double)sizeof(T)));              \
        kb = kb < 8 ? 8 : kb;                                                                      \
        T *P = kb < j->kcb ? (T *)malloc(sizeof(T) * (size_t)j->M * (size_t)(j1 - j0)) : 0;        \
        if (!P) kb = j->kcb;   /* (no memory: down all rows of a K block at once) */               \
        j->few(j->M, j0, j1, j->K, j->kcb, kb, j->alpha, j->A, j->rsa, j->csa, j->B, j->rsb,       \
               j->beta, j->C, j->ldc, j->bias, j->relu, P, j->pf);                                 \
        free(P);                                                                                   \
    }                                                                                              \
    static void S##_few_rows(long M, long N, long K, T alpha, const T *A, long rsa, long csa,      \
                             const T *B, long rsb, T beta, T *C, long ldc, const T *bias,          \
                             int relu) {                                                           \
        S##_isa isa = S##_pick();                                                                  \
        S##_few_job job = {isa.few, M, N, K, g_k_block_depth(K, isa.blocking[3]), rsa, csa, rsb,   \
                           ldc, N, 0, 0, alpha, beta, A, B, bias, C, relu};                        \
        job.l2 = (double)onsager_l2_cache_bytes();                                                 \
        job.pf = g_few_b_large(K, N, sizeof(T), job.l2);                                           \
        int nt = onsager_get_num_threads();                                                        \
        if (nt > 1 && 2.0 * M * N * K > G_FEW_SPLIT_FLOPS && N > G_FEW_TASK_COLUMNS &&             \
            !onsager_pool_contended()) {                                                           \
            job.per = G_FEW_TASK_COLUMNS;                                                          \
            onsager_parallel_for((N + job.per - 1) / job.per, S##_few_task, &job);                 \
        } else {                                                                                   \
            S##_few_task(&job, 0);                                                                 \
        }                                                                                          \
    }                                                                                              \
    /* The same with B stored by columns (rsb = 1; x·Wᵀ): Cᵀ by the dot products above, W's rows   \
       against A's few rows (gathered when A is stored by columns), into a buffer transposed into  \
       C. 0 when there is no memory for it, A's rows outgrow half of L2, or B is over G_FEW_PF_L2  \
       times L2 and M > 2 (Zen 4, one thread, 4 x 2000 x 2500: 0.95x the packed path; one row      \
       1.8x). */                                                                                   \
    static int S##_few_rows_dot(long M, long N, long K, T alpha, const T *A, long rsa, long csa,   \
                                const T *B, long csb, T beta, T *C, long ldc, const T *bias,       \
                                int relu) {                                                        \
        double l2 = (double)onsager_l2_cache_bytes();                                              \
        if ((double)M * K * sizeof(T) > 0.5 * l2 || (M > 2 && g_few_b_large(K, N, sizeof(T), l2))) \
            return 0;                                                                              \
        T *buf = (T *)malloc(sizeof(T) * (size_t)M * (size_t)(N + (csa != 1 ? K : 0)));            \
        if (!buf) return 0;                                                                        \
        const T *rows = A;                                                                         \
        if (csa != 1) {                                                                            \
            T *g = buf + M * N;                                                                    \
            for (long i = 0; i < M; i++)                                                           \
                for (long k = 0; k < K; k++) g[i * K + k] = A[i * rsa + k * csa];                  \
            rows = g;                                                                              \
            rsa = K;                                                                               \
        }                                                                                          \
        S##_dot_rows(N, M, K, alpha, B, csb, rows, rsa, 0, buf, M, 0, 0);                          \
        for (long i = 0; i < M; i++)                                                               \
            for (long j = 0; j < N; j++) {                                                         \
                T v = buf[j * M + i], *p = C + i * ldc + j;                                        \
                *p = beta != 0 ? beta * *p + v : bias ? v + bias[j] : v;                           \
            }                                                                                      \
        if (relu) relu_block_##S##_portable(M, N, C, ldc, 0);                                      \
        free(buf);                                                                                 \
        return 1;                                                                                  \
    }                                                                                              \
    /* Whether the kernels store C past the caches: one K block, no relu pass, C over twice L2. */ \
    static int S##_streams_c(long M, long N, long K, int relu, long kc) {                          \
        return G_STREAM_C && K <= G_STREAM_MAX_K && K <= kc && !relu &&                            \
               (double)M * N * sizeof(T) > onsager_gemm_stream_min_bytes();                        \
    }                                                                                              \
    /* The FMA kernels' product (gemm_template.h), split between the threads; with kl (not NULL)   \
       A's columns are those listed of Korig, B's rows read through the list (gemm_serial). */     \
    static void S##_planned(long M, long N, long K, T alpha, const T *A, long rsa, long csa, const T *B, \
                            long rsb, long csb, T beta, T *C, long ldc, const T *bias, int relu,   \
                            const g_klist *kl) {                             \
        S##_isa isa = S##_pick();                                                                  \
        long mr = isa.blocking[0], nr = isa.blocking[1], mc = isa.blocking[2];                     \
        S##_job job = {isa.serial, M, N, K, rsa, csa, rsb, csb, ldc, 0, 0, 0, 0, 0, 0, relu, alpha, beta, A, B, 0, bias, 0, C, \
                      kl};                                                                         \
        /* Plan flags from the whole product (see gemm_serial), so that every chunk runs the same \
           plan whatever its share of rows. */                                                    \
        job.deep = (csb != 1 && M <= mc ? G_PLAN_DEEP : 0) | (M <= 256 ? G_PLAN_FEW_ROWS : 0) |    \
                   (kl && kl->keep ? G_PLAN_KLIST : 0);                                            \
        long Korig = kl ? kl->korig : K;                                                           \
        if (S##_streams_c(M, N, Korig, relu, isa.blocking[3])) job.deep |= G_PLAN_STREAM_C;        \
        int nt = onsager_get_num_threads();                                                        \
        double flops = 2.0 * M * N * K;                                                            \
        if (nt > 1 && flops > 4e5 && !onsager_pool_contended()) {                                  \
            /* Split the longer side into whole register tiles, one chunk per thread: more, smaller \
               chunks balance better under load but re-pack the other operand per chunk, which    \
               measured slower on an idle machine (sgemm 1024³ at 2 threads: 198 GFLOPS with 2    \
               chunks, 170 with 8); under load the pool runs jobs in the caller instead (pool.c). \
               Every chunk computes whole tiles of C over all of K, so the result does not depend \
               on who runs which chunk. */                                                        \
            job.split_m = M * 2 >= N;                                                              \
            long len = job.split_m ? M : N, unit = job.split_m ? mr : nr;                          \
            long units = (len + unit - 1) / unit;                                                  \
            long per = (units + nt - 1) / nt;                                                      \
            job.chunk = per * unit;                                                                \
            long ntasks = (len + job.chunk - 1) / job.chunk;                                       \
            T *shared = 0;                                                                         \
            /* B whose K blocks are each at most twice L2 (a weight gradient's batch x N; a square \
               product's blocks of KC rows) is packed by each chunk for itself rather than shared. \
               In one K block its pack is short, and sharing it cost a second fork-join and        \
               smaller tasks. AMD Zen 4, 2 threads, Benchmarks/gemm-shape-ab.sh with DETECT=0, 8   \
               alternations: 784x500x100 (Aᵀ) 1.05x, 784x500x200 1.06x, 2500x784x100 1.06x,        \
               1000x1500x100 1.08x, 500x784x100 1.08x, 2000x2500x100 1.02x, 512³ 1.03x,            \
               1024x1024x256 1.02x. With the pool's contention detection on, the shared path's     \
               extra waits also sent 784x500x100 to one thread in some calls (median 162 against   \
               204 GFLOPS). In several K blocks (G_OWN_B_DEEP; K over KC) too: each chunk packs    \
               its B in its own thread (fused into its first kernels where its rows are one row    \
               block), where a shared B takes a packing job and a join (pack_b 4.0 % of 512³'s     \
               samples at AVX2 and two threads, 1.1 % own) and half of it is read from the other   \
               core's cache. The chunks' K blocks are the whole product's (g_k_block_depth: M >=   \
               256 sets no batch plan), so C keeps its bits. Zen 4, 2 threads, the same lab, 8-12  \
               alternations: AVX2 512³ 1.05x (Bᵀ 1.08x, Aᵀ 1.23x), 640³-1024³ 1.01-1.06x,          \
               384x512x1024 1.05x, 512x512x2048 1.04x, 256x512x1024 0.99x; Intel's blocking        \
               forced on Zen 4 (TUNING=intel) 512³ 1.06x, 768³ 1.04x, 1024³ 1.03x; Double 512³     \
               1.06-1.07x. Blocks of one to two L2 (G_OWN_B_L2 = 2, against 1): AVX2 1536³ 1.18x,  \
               1024x2048x1024 1.24x, 2048³ 1.02x, 1280³ 1.02x, 300x2048x1024 0.99x; Intel's        \
               blocking 1536³ 1.16x, 1024x2048x1024 1.13x; AVX-512 1024x512x1024 1.10x,            \
               2048x500x784 1.06x, 768x384x1024 1.01x; Double 1024³ at AVX2 1.04x. Blocks of four  \
               L2 keep sharing: AVX-512 1024³ 0.99x and 2048x1024² 0.99x (0.97x and 0.98x in an    \
               earlier session), AVX2 1024x4096x1024 0.99x. Not measured on an Intel CPU, where    \
               the shared path's packed panels asked for ahead had measured 1.01-1.11x (above):    \
               with a 2 MB L2 every row split of M >= 256 (nt - 1) now packs per chunk under       \
               Intel's blocking (G_OWN_B_DEEP=0 or G_OWN_B_L2=1 to compare). Each thread packs     \
               (nt - 1) / nt of B more than when sharing, (nt - 1) / 2M copies per flop of its     \
               share: kept to 1/512 (some 1.5 % of the time at a quarter cycle per copy and 32     \
               flops per cycle) by asking for M >= 256 (nt - 1), so that more threads share        \
               again. */                                                                           \
            long ncmax = isa.blocking[4], kc_own = g_k_block_depth(K, isa.blocking[3]);            \
            int own_b = (G_OWN_B_DEEP || K <= isa.blocking[3]) && M >= 256L * (nt - 1) &&          \
                        (double)kc_own * (N < ncmax ? N : ncmax) * sizeof(T) <=                    \
                            G_OWN_B_L2 * (double)onsager_l2_cache_bytes();                         \
            if (ntasks > 1 && job.split_m && M > mc && !(csb == 1 && M <= 256) && !own_b && !kl)   \
                shared = isa.caller_b_buffer();                                                    \
            if (shared && job.chunk > mc) {                                                        \
                /* With B shared, a chunk of rows costs only its own A block (the serial plan's row  \
                   block of MC rows), so the rows go out in tasks of MC: a thread that falls behind  \
                   (its vCPU taken by the host, a neighbour's time slice) holds up one row block,     \
                   and the other threads take the rest. */                                          \
                /* The task count is a multiple of the thread count and the tasks differ by one    \
                   tile at most, so that idle threads finish together: 1024 rows in tasks of 144 (7 \
                   full and 16 rows) left one thread 576 rows and the other 448 at two threads.    \
                   (Any split into whole tiles gives the same C.) */                               \
                long pertask = mc / unit;                                                          \
                ntasks = (units + pertask - 1) / pertask;                                          \
                ntasks = (ntasks + nt - 1) / nt * nt;                                              \
                job.units = units; job.unit = unit; job.parts = ntasks;                            \
            }                                                                                      \
            if (shared) {                                                                          \
                /* Row chunks that would each pack all of B (no chunk reads it in place or packs  \
                   it lazily) share one packed copy instead: the threads pack a share of each     \
                   K x N block, then compute their rows from it. The blocks (K in equal parts of  \
                   at most KC, N in NC) are the serial plan's, so every bit of C is the same. */  \
                long kcmax = isa.blocking[3], kcb = g_k_block_depth(K, kcmax);                     \
                long panels_all = (N + nr - 1) / nr, stride = kcb * panels_all * nr;              \
                /* Several K blocks of one column chunk: all packed in one job, then every row task \
                   runs its rows through them in turn (S##_kblocks_task), rather than a pack and a \
                   compute job per block, each ending in a join whose last task leaves the other  \
                   threads idle. In the B buffer (KC x (NC + NR) values) or, for Float, the       \
                   thread's scratch S##_kblocks grown for it; at most G_ALL_K_MAX_BYTES (Double:  \
                   G_ALL_K_MAX_BYTES_F64). */                                                     \
                long all_k = (K + kcb - 1) / kcb * stride;                                         \
                long all_k_max = (sizeof(T) == 4 ? G_ALL_K_MAX_BYTES : G_ALL_K_MAX_BYTES_F64) / (long)sizeof(T); \
                T *kbuf = 0;                                                                       \
                if (G_ALL_K_BLOCKS && kcb < K && N <= ncmax && all_k <= all_k_max) {               \
                    if (all_k <= kcmax * (ncmax + nr)) kbuf = shared;                              \
                    else if (sizeof(T) == 4)   /* (Double's 4 MB fit its B buffer) */              \
                        kbuf = (T *)onsager_scratch_reserve(&S##_kblocks, all_k * (long)sizeof(T)); \
                }                                                                                  \
                if (kbuf) {                                                                        \
                    shared = kbuf;                                                                 \
                    S##_pack_job pa = {isa.pack_b, K, kcb, N, nr, rsb, csb, (panels_all + nt - 1) / nt, nt, stride, \
                                       B, shared};                                                 \
                    onsager_parallel_for((K + kcb - 1) / kcb * nt, S##_pack_task, &pa);            \
                    S##_kblocks_job kj = {job, kcb, stride};                                       \
                    kj.job.Bpre = shared;                                                          \
                    onsager_parallel_for(ntasks, S##_kblocks_task, &kj);                           \
                    return;                                                                        \
                }                                                                                  \
                for (long jc = 0; jc < N; jc += ncmax) {                                          \
                    long nc = N - jc < ncmax ? N - jc : ncmax, panels = (nc + nr - 1) / nr;        \
                    for (long pc = 0; pc < K; pc += kcb) {                                         \
                        long kc = K - pc < kcb ? K - pc : kcb;                                     \
                        S##_pack_job pj = {isa.pack_b, kc, kc, nc, nr, rsb, csb, (panels + nt - 1) / nt, nt, 0, \
                                           B + pc * rsb + jc * csb, shared};                       \
                        onsager_parallel_for(nt, S##_pack_task, &pj);                              \
                        S##_job blk = job;                                                         \
                        blk.N = nc; blk.K = kc; blk.A = A + pc * csa; blk.C = C + jc;              \
                        blk.beta = pc == 0 ? beta : (T)1; blk.Bpre = shared;                       \
                        blk.bias = bias ? bias + jc : 0;                                           \
                        blk.relu = relu && pc + kc >= K;                                           \
                        onsager_parallel_for(ntasks, S##_task, &blk);                              \
                    }                                                                              \
                }                                                                                  \
                return;                                                                            \
            }                                                                                      \
            if (ntasks > 1 && !job.split_m && !kl) {                                               \
                /* Column chunks of a batch-sized product: A is packed once, its K blocks shared out   \
                   between the threads, instead of all of it by every chunk (the same panels, so C    \
                   is unchanged). Up to 4 MB of packed A; beyond that each chunk packs its own. */     \
                long kcb = 0, need = isa.shared_a_size(M, K, csb, job.deep, &kcb);                     \
                if (need > 0 && need <= (4L << 20) / (long)sizeof(T) && S##_shared_a_cap < need) {    \
                    free(S##_shared_a);                                                            \
                    S##_shared_a = (T *)aligned_alloc(64, (sizeof(T) * (size_t)need + 127) / 64 * 64); \
                    S##_shared_a_cap = S##_shared_a ? need : 0;                                    \
                }                                                                                  \
                if (need > 0 && need <= S##_shared_a_cap) {                                        \
                    S##_pack_a_job aj = {isa.pack_a_block, M, K, rsa, csa, kcb, nt, A, S##_shared_a}; \
                    onsager_parallel_for((K + kcb - 1) / kcb * nt, S##_pack_a_task, &aj);          \
                    job.Apre = S##_shared_a;                                                       \
                }                                                                                  \
            }                                                                                      \
            if (ntasks > 1) { onsager_parallel_for(ntasks, S##_task, &job); return; }              \
        }                                                                                          \
        job.fn(job.M, N, job.K, alpha, job.A, job.rsa, job.csa, B, rsb, csb, beta, C, ldc, job.deep, 0, bias, 0, relu, \
               job.kl);                                                                            \
    }                                                                                              \
    /* B's all-zero columns dropped (S##_skipping): A's rows (those kept, with cmap, whose C rows  \
       it gives: not all zero, nor few nonzeros, sparse_rows.c) in chunks whose compact C rows (Nc values) go to a buffer the size of half  \
       of L2, then spread over C's N columns (onsager_expand_row), streamed past the caches where   \
       the full product would stream C. The chunks run the serial kernels with B read in place     \
       where the ISA does (G_PLAN_FEW_ROWS); B stored by rows, its K blocks are KC's whatever the   \
       rows, so each kept column's sums are the full product's and C has the same bits, whichever  \
       thread runs which chunk. */                                                                 \
    typedef struct {                                                                               \
        S##_serial_fn fn;                                                                          \
        long M, N, Nc, K, rsa, csa, ldc, chunk;                                                    \
        int deep, relu, stream;                                                                    \
        T alpha;                                                                                   \
        const T *A, *Bc, *bias, *fill;                                                             \
        T *C;                                                                                      \
        const uint8_t *keep;                                                                       \
        const int32_t *cmap;                                                                       \
        _Atomic int failed;                                                                        \
    } S##_bcols_job;                                                                               \
    static void S##_bcols_task(void *vctx, long t) {                                               \
        S##_bcols_job *j = (S##_bcols_job *)vctx;                                                  \
        long m0 = t * j->chunk, m1 = m0 + j->chunk < j->M ? m0 + j->chunk : j->M;                  \
        if (m0 >= m1) return;                                                                      \
        T *buf = j->Nc > 0 ? onsager_skip_zeros_chunk_##S((m1 - m0) * j->Nc) : j->C;               \
        if (!buf) { atomic_store(&j->failed, 1); return; }                                         \
        if (j->Nc > 0)                                                                             \
            j->fn(m1 - m0, j->Nc, j->K, j->alpha, j->A + m0 * j->rsa, j->rsa, j->csa, j->Bc, j->Nc, 1, 0, \
                  buf, j->Nc, j->deep, 0, j->bias, 0, j->relu, 0);                                 \
        for (long i = m0; i < m1; i++)                                                             \
            onsager_expand_row_##S(j->N, buf + (i - m0) * j->Nc, j->C + (j->cmap ? j->cmap[i] : i) * j->ldc, \
                                   j->keep, j->fill, j->stream);                                   \
        if (j->stream) onsager_skip_zeros_stream_fence();                                          \
        onsager_skip_zeros_chunk_trim();                                                           \
    }                                                                                              \
    /* Returns 0 when a chunk's buffer could not be allocated. */                                  \
    static int S##_bcols_run(S##_bcols_job *j, long mr) {                                          \
        /* Chunks of whole register tiles, their compact C at most half of L2 (and two tiles); with \
           threads, fewer: a multiple of their count, of equal size (up to a tile), up to all of L2   \
           (each core's own), so that they finish together with fewer hand-overs. Zen 4, 500x784x100 \
           with 35 % of B's columns zero (Benchmarks/skip-zeros-lab.c, best ratio to the path off):  \
           1 thread 1.37x with half of L2, 1.34x with all; 2 threads 1.18-1.19x in 4 chunks of      \
           half, 1.25-1.27x in 2 of all. */                                                        \
        long nt = onsager_get_num_threads();                                                       \
        int split = nt > 1 && 2.0 * j->M * j->Nc * j->K > 4e5 && !onsager_pool_contended();        \
        double share = split ? SZ_BCOLS_CHUNK_L2_THREADS : SZ_BCOLS_CHUNK_L2;                      \
        long rows = (long)(share * onsager_l2_cache_bytes() / ((double)(j->Nc + 16) * sizeof(T))) / mr * mr; \
        j->chunk = rows < 2 * mr ? 2 * mr : rows;                                                  \
        long ntasks = (j->M + j->chunk - 1) / j->chunk;                                            \
        if (split) {                                                                               \
            long tiles = (j->M + mr - 1) / mr, parts = (ntasks + nt - 1) / nt * nt;                 \
            j->chunk = (tiles + parts - 1) / parts * mr;                                           \
            ntasks = (j->M + j->chunk - 1) / j->chunk;                                             \
        }                                                                                          \
        if (split && ntasks > 1) {                                                                 \
            onsager_parallel_for(ntasks, S##_bcols_task, j);                                       \
        } else {                                                                                   \
            for (long t = 0; t < ntasks; t++) S##_bcols_task(j, t);                                \
        }                                                                                          \
        return !atomic_load(&j->failed);                                                           \
    }                                                                                              \
    /* What the kernels store in a row of C whose sums are all +0 (a row or column skipped):      \
       α·0, plus the bias, then relu. */                                                           \
    static void S##_zero_sum_row(long N, T alpha, const T *bias, int relu, T *row) {               \
        for (long j = 0; j < N; j++) row[j] = bias ? alpha * (T)0 + bias[j] : alpha * (T)0;        \
        if (relu) relu_block_##S##_portable(1, N, row, N, 0);                                     \
    }                                                                                              \
    /* The FMA kernels' product with A's all-zero columns or rows, or B's all-zero columns, left  \
       out (skip_zeros.c). */                                                                      \
    static void S##_skipping(long M, long N, long K, T alpha, const T *A, long rsa, long csa, const T *B, \
                             long rsb, long csb, T beta, T *C, long ldc, const T *bias, int relu) {         \
        S##_isa isa = S##_pick();                                                                  \
        g_klist kl = {0, 0, K, 0, 0};                                                              \
        long Kc = 0;                                                                               \
        const T *Ac = onsager_skip_zeros_eligible(M, N, K, csa, rsb, csb, beta == 0, isa.blocking[2]) ? \
                          onsager_drop_zero_columns_##S(M, K, A, rsa, &kl.keep, &kl.rows, &Kc, 0, SZ_MIN_SHARE, 0) : 0; \
        /* A B stored by rows is checked here for an infinity or NaN in the rows left out (it is   \
           read in place); one stored by columns while it is packed (then beta is 0). */           \
        if (Ac && csb == 1 && !onsager_rows_finite_##S(K, N, B, rsb, kl.keep)) Ac = 0;             \
        if (Ac) {                                                                                  \
            /* A's all-zero columns dropped (skip_zeros.c): the same bits, fewer FMAs. */          \
            int bad = 0;                                                                           \
            kl.bad = csb == 1 ? 0 : &bad;                                                          \
            S##_planned(M, N, Kc, alpha, Ac, Kc, 1, B, rsb, csb, beta, C, ldc, bias, relu, &kl);   \
            onsager_skip_zeros_trim(0);                                                             \
            if (!bad) { onsager_skip_zeros_counted(); return; }                                    \
            /* B holds an infinity or NaN: again with every term, so that 0·∞ gives its NaN. */    \
        }                                                                                          \
        /* B's all-zero columns dropped (a weight gradient gᵀ·h whose h has units off for the whole  \
           batch, or gᵀ·x with pixels dark in every image of it), and A's all-zero rows (or rows   \
           with few nonzeros) with them (S##_bcols_task): only with a finite A and alpha, so that  \
           no 0·∞ is left out. */                                                                  \
        /* Rows with few nonzeros computed apart (sparse_rows.c: AVX2 or AVX-512, K in one block), in both \
           paths below that drop A's rows; only without a bias or relu (a weight gradient). */     \
        long sparse = !bias && !relu ? onsager_sparse_row_limit(K, isa.blocking[3]) : 0;          \
        long Nc = 0;                                                                               \
        const uint8_t *nkeep = 0;                                                                  \
        const int32_t *nlist = 0;                                                                  \
        int streamed = S##_streams_c(M, N, K, relu, isa.blocking[3]);                              \
        const T *Bc = !Ac && onsager_skip_bcols_eligible(M, N, K, csb, beta == 0) && alpha - alpha == 0 ? \
                          onsager_drop_zero_columns_##S(K, N, B, rsb, &nkeep, &nlist, &Nc, 1,                \
                                                        streamed ? SZ_BCOLS_MIN_SHARE_STREAMED : SZ_BCOLS_MIN_SHARE, 0) \
                         : 0;                                                                      \
        T *fill = Bc && onsager_matrix_finite_##S(M, K, A, rsa, csa) ? onsager_skip_zeros_fill_##S(N) : 0; \
        if (fill) {                                                                                \
            /* The value the kernels store for a sum of +0, by column; the bias of the kept ones. */ \
            S##_zero_sum_row(N, alpha, bias, relu, fill);                                          \
            T *bias_kept = fill + N + 16;                                                          \
            for (long j = 0, q = 0; bias && j < N; j++) {                                          \
                bias_kept[q] = bias[j];                                                            \
                q += nkeep[j];                                                                     \
            }                                                                                      \
            S##_bcols_job bj = {isa.serial, M, N, Nc, K, rsa, csa, ldc, M, G_PLAN_FEW_ROWS, relu, streamed, \
                                alpha, A, Bc,                                                      \
                                bias ? bias_kept : 0, fill, C, nkeep, 0, 0};                       \
            long Mc = M;                                                                           \
            const uint8_t *rkeep = 0;                                                              \
            /* (Rows with few nonzeros: sparse_rows.c computes them over B's kept columns and      \
               spreads them with the fill.) */                                                     \
            const T *Ar = onsager_skip_rows_eligible(M, Nc, K, rsa, 1, 1) ?                        \
                              onsager_drop_zero_columns_##S(K, M, A, csa, &rkeep, &bj.cmap, &Mc, 0, SZ_MIN_SHARE, \
                                                            sparse) : 0;                           \
            /* (A row left out meets every kept column: those must be finite, as in the rows path.) */ \
            if (Ar && !onsager_rows_finite_##S(K, Nc, Bc, Nc, 0)) { Ar = 0; bj.cmap = 0; }          \
            if (Ar) { bj.M = Mc; bj.A = Ar; bj.rsa = 1; bj.csa = Mc; }                             \
            int done = S##_bcols_run(&bj, isa.blocking[0]);                                        \
            int spread = Ar && sparse > 0 && Nc > 0;   /* (with Nc = 0, every row is the fill) */  \
            if (done && spread)                                                                    \
                done = onsager_sparse_rows_##S(M, Nc, K, alpha, A, csa, rkeep, sparse, Bc, Nc, C, ldc, nkeep, nlist, fill, N); \
            for (long i = 0; done && Ar && !spread && i < M; i++)                                  \
                if (!rkeep[i]) memcpy(C + i * ldc, fill, sizeof(T) * (size_t)N);                   \
            if (Ar) onsager_skip_zeros_trim(0);                                                    \
            onsager_skip_zeros_trim(1);                                                            \
            if (done) { onsager_skip_zeros_counted(); return; }                                    \
            /* (No memory for a chunk's buffer: C is computed again by the paths below.) */         \
        }                                                                                          \
        /* A's all-zero rows dropped (a weight gradient's gᵀ, units off for the whole batch): C's  \
           other rows computed through a map, its rows left out given what the kernels store for   \
           a sum of +0 (their epilogue, relu included). Only with a finite B and alpha, so that    \
           no 0·∞ is left out. With `sparse`, rows with few nonzeros are left out too and computed \
           by sparse_rows.c (the all-zero ones among them; the same bits). */                     \
        long Mc = 0;                                                                               \
        const T *Ar = !Ac && onsager_skip_rows_eligible(M, N, K, rsa, csb, beta == 0) && alpha - alpha == 0 ? \
                          onsager_drop_zero_columns_##S(K, M, A, csa, &kl.keep, &kl.rows, &Mc, 0, SZ_MIN_SHARE, \
                                                        sparse) : 0;                               \
        /* B must be finite where a row is left out: the rows with few nonzeros (sparse > 0; the all- \
           zero ones among them) are computed by sparse_rows.c, whose tasks check B as they copy   \
           it and fail (every row then computed again below), so only without them is B scanned. */\
        if (Ar && (sparse > 0 || onsager_rows_finite_##S(K, N, B, rsb, 0))) {   /* (B by rows) */  \
            g_klist rl = {0, 0, K, 0, kl.rows};                                                    \
            if (Mc > 0) S##_planned(Mc, N, K, alpha, Ar, 1, Mc, B, rsb, csb, 0, C, ldc, bias, relu, &rl);\
            if (sparse > 0 && !onsager_sparse_rows_##S(M, N, K, alpha, A, csa, kl.keep, sparse, B, rsb, C, ldc, 0, 0, 0, N)) { \
                onsager_skip_zeros_trim(0);   /* (no memory, or B not finite: every row again) */  \
                S##_planned(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc, bias, relu, 0); \
                return;                                                                            \
            }                                                                                      \
            const T *first = 0;   /* the first row left out, copied into the others */          \
            for (long i = 0; sparse == 0 && i < M; i++) {                                          \
                if (kl.keep[i]) continue;                                                          \
                T *row = C + i * ldc;                                                              \
                if (first) {                                                                       \
                    memcpy(row, first, sizeof(T) * (size_t)N);                                     \
                } else {                                                                           \
                    S##_zero_sum_row(N, alpha, bias, relu, row);                                   \
                    first = row;                                                                   \
                }                                                                                  \
            }                                                                                      \
            onsager_skip_zeros_trim(0);                                                             \
            onsager_skip_zeros_counted();                                                          \
            return;                                                                                \
        }                                                                                          \
        S##_planned(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc, bias, relu, 0);      \
    }                                                                                              \
    /* bias: NULL, or a row vector added to every row of C (then beta is 0). relu: C ends as    \
       max(C, 0), as the elementwise relu (see gemm_serial). */                                    \
    static void S##_gemm(long M, long N, long K, T alpha, const T *A, long rsa, long csa, const T *B, \
                         long rsb, long csb, T beta, T *C, long ldc, const T *bias, int relu) {    \
        if (M <= 0 || N <= 0) return;                                                              \
        if (N >= 2 && N < 16 && csa == 1 && rsb == 1 && K > 0 && alpha != 0 &&                    \
            (double)N * K * sizeof(T) <= 0.5 * onsager_l2_cache_bytes()) {                         \
            /* Few columns, both operands contiguous along K (x·Wᵀ of a narrow layer): dot        \
               products, nothing packed (gemm_template.h, FN(gemm_dot)), where the paths below    \
               padded C to a full panel or transposed all of A. Emerald Rapids Xeon, one          \
               thread, Benchmarks/gemm-shape-ab.sh against the build before (8 alternations):     \
               100x10x500 1.52x, 100x8x784 2.37x, 100x15x784 1.61x, 1000x10x784 1.50x, 100x2x8    \
               1.32x, 8x8x8 1.17x; two threads 1.55-2.49x; Double 1.86-3.05x. */                  \
            S##_dot_rows(M, N, K, alpha, A, rsa, B, csb, beta, C, ldc, bias, relu);                \
            return;                                                                                \
        }                                                                                          \
        if ((bias || relu) && (K <= 0 || alpha == 0 || N < 16)) {                                  \
            /* The shortcuts below have no epilogue: add the bias and apply the relu after them   \
               (few columns). */                                                                   \
            S##_gemm(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc, 0, 0);                \
            for (long i = 0; bias && i < M; i++)                                                   \
                for (long j = 0; j < N; j++) C[i * ldc + j] += bias[j];                            \
            if (relu) relu_block_##S##_portable(M, N, C, ldc, 0);                                  \
            return;                                                                                \
        }                                                                                          \
        if (K <= 0 || alpha == 0) {                                                                \
            for (long i = 0; i < M; i++)                                                           \
                for (long j = 0; j < N; j++) C[i * ldc + j] = beta == 0 ? 0 : beta * C[i * ldc + j]; \
            return;                                                                                \
        }                                                                                          \
        if (N == 1 && beta == 0 && rsa == 1 && csa != 1 && M >= 16) {                              \
            /* Transposed matrix-vector (xᵀg in a backward pass): the columns of A are contiguous \
               rows of the source, so y accumulates one vectorised axpy per k, in k order. */     \
            T *y = ldc == 1 ? C : (T *)malloc(sizeof(T) * (size_t)M);                              \
            if (y) {                                                                               \
                for (long i = 0; i < M; i++) y[i] = 0;                                             \
                for (long k = 0; k < K; k++) onsager_axpy_##S(M, alpha * B[k * rsb], A + k * csa, y); \
                if (y != C) { for (long i = 0; i < M; i++) C[i * ldc] = y[i]; free(y); }           \
                return;                                                                            \
            }                                                                                      \
        }                                                                                          \
        if (N == 1 && beta == 0 && csa == 1 && rsb == 1) { /* contiguous rows and vector */       \
            onsager_gemv_rows_##S(M, K, alpha, A, rsa, B, C, ldc);                                 \
            return;                                                                                \
        }                                                                                          \
        if (N == 1 && beta == 0) { /* matrix-vector: a dot product per row, no packing */          \
            for (long i = 0; i < M; i++) {                                                         \
                const T *a = A + i * rsa;                                                          \
                T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                               \
                long k = 0;                                                                        \
                if (csa == 1 && rsb == 1)                                                          \
                    for (; k + 8 <= K; k += 8)                                                     \
                        for (int u = 0; u < 8; u++) acc[u] += a[k + u] * B[k + u];                 \
                T s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])); \
                for (; k < K; k++) s += a[k * csa] * B[k * rsb];                                   \
                C[i * ldc] = alpha * s;                                                            \
            }                                                                                      \
            return;                                                                                \
        }                                                                                          \
        if (M <= G_FEW_ROWS && (csb == 1 || rsb == 1)) {                                           \
            /* A few rows (see S##_few_rows): B read once, in place. */                            \
            if (csb == 1) {                                                                        \
                S##_few_rows(M, N, K, alpha, A, rsa, csa, B, rsb, beta, C, ldc, bias, relu);       \
                return;                                                                            \
            }                                                                                      \
            if (S##_few_rows_dot(M, N, K, alpha, A, rsa, csa, B, csb, beta, C, ldc, bias, relu))   \
                return;                                                                            \
        }                                                                                          \
        if (N < 16 && M >= 64 && beta == 0) {                                                      \
            /* Narrow C (e.g. 10 classes): the column panels would be mostly padding. Compute     \
               Cᵀ = Bᵀ Aᵀ, whose long side fills the panels, then transpose it into C. */         \
            T *tmp = (T *)malloc(sizeof(T) * (size_t)M * (size_t)N);                               \
            if (tmp) {                                                                             \
                S##_gemm(N, M, K, alpha, B, csb, rsb, A, csa, rsa, 0, tmp, M, 0, 0);               \
                for (long i = 0; i < M; i++)                                                       \
                    for (long j = 0; j < N; j++) C[i * ldc + j] = tmp[j * M + i];                  \
                free(tmp);                                                                         \
                return;                                                                            \
            }                                                                                      \
        }                                                                                          \
        /* An operand of 0/1 samples (any exactly-bfloat16 A) goes to AMX tiles where the CPU     \
           has them (amx.c); it returns 0 at once otherwise. */                                    \
        if (S##_exact_amx(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc, bias, relu)) return; \
        /* An A with few nonzeros in every row (an RBM's binary samples, images on a dark         \
           background): each row of C from its row's nonzeros alone (sparse_rows.c; the same     \
           bits, K up to 1024 in the kernels' K blocks). */                                          \
        if (onsager_sparse_product_##S(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc, bias, relu, \
                                       g_k_block_depth(K, S##_pick().blocking[3])))                \
            return;                                                                                \
        /* An A of 0s and 1s on AMD's AVX-512 cores: half of C's columns by masked adds, on the   \
           adders beside the FMA units (zero_one_gemm.c; the same bits as below for K <= 1024),    \
           unless A, stored by columns, has rows sparse enough for the rows path below.           */ \
        if (!S##_sparse_rows_first(M, N, K, A, rsa, csa, csb, beta == 0, bias || relu, S##_pick().blocking[3]) && \
            S##_zero_one(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc, bias, relu))     \
            return;                                                                                \
        S##_skipping(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc, bias, relu);          \
    }                                                                                              \
    void NAME(long M, long N, long K, T alpha, const T *A, long rsa, long csa, const T *B,         \
              long rsb, long csb, T beta, T *C, long ldc) {                                        \
        S##_gemm(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc, 0, 0);                    \
    }                                                                                              \
    void NAME##_bias(long M, long N, long K, T alpha, const T *A, long rsa, long csa, const T *B,  \
                     long rsb, long csb, const T *bias, T *C, long ldc) {                          \
        S##_gemm(M, N, K, alpha, A, rsa, csa, B, rsb, csb, 0, C, ldc, bias, 0);                    \
    }                                                                                              \
    void NAME##_bias_relu(long M, long N, long K, T alpha, const T *A, long rsa, long csa,         \
                          const T *B, long rsb, long csb, const T *bias, T *C, long ldc) {         \
        S##_gemm(M, N, K, alpha, A, rsa, csa, B, rsb, csb, 0, C, ldc, bias, 1);                    \
    }

#if defined(__x86_64__)
// Double has one AVX-512 instance for every vendor.
#define gemm_serial_f64_avx512i gemm_serial_f64_avx512
#define pack_b_f64_avx512i pack_b_f64_avx512
#define b_buffer_f64_avx512i b_buffer_f64_avx512
#define blocking_f64_avx512i blocking_f64_avx512
#define shared_a_size_f64_avx512i shared_a_size_f64_avx512
#define pack_a_block_f64_avx512i pack_a_block_f64_avx512
#define gemm_dot_f64_avx512i gemm_dot_f64_avx512
#define gemm_few_rows_f64_avx512i gemm_few_rows_f64_avx512
#define X86_CASES(T, S)                                                                            \
    case 2:                                                                                        \
        if (onsager_gemm_tuning() == ONSAGER_GEMM_TUNING_INTEL)                                    \
            return (S##_isa){gemm_serial_##S##_avx512i, pack_b_##S##_avx512i, b_buffer_##S##_avx512i, blocking_##S##_avx512i, shared_a_size_##S##_avx512i, pack_a_block_##S##_avx512i, gemm_dot_##S##_avx512i, gemm_few_rows_##S##_avx512i}; \
        return (S##_isa){gemm_serial_##S##_avx512, pack_b_##S##_avx512, b_buffer_##S##_avx512, blocking_##S##_avx512, shared_a_size_##S##_avx512, pack_a_block_##S##_avx512, gemm_dot_##S##_avx512, gemm_few_rows_##S##_avx512}; \
    case 1: return (S##_isa){gemm_serial_##S##_avx2, pack_b_##S##_avx2, b_buffer_##S##_avx2, blocking_##S##_avx2, shared_a_size_##S##_avx2, pack_a_block_##S##_avx2, gemm_dot_##S##_avx2, gemm_few_rows_##S##_avx2};
#else
#define X86_CASES(T, S)
#endif

// Products with an exactly-bfloat16 A on AMX (Float only; amx.c).
#define f32_exact_amx onsager_sgemm_exact_amx
#define f64_exact_amx(...) 0
// Products with a 0/1 A by FMAs and masked adds (Float only; zero_one_gemm.c).
#define f32_zero_one onsager_sgemm_zero_one
#define f64_zero_one(...) 0
// Products the masked adds would take that run faster on the rows path (sparse_rows.c).
#define f32_sparse_rows_first onsager_sparse_rows_before_zero_one
#define f64_sparse_rows_first(...) 0
DEFINE_GEMM(float, f32, onsager_sgemm)
DEFINE_GEMM(double, f64, onsager_dgemm)
