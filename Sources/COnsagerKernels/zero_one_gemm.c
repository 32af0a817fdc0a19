// Float products whose A holds only 0 and 1 (an RBM's visible and hidden samples, binarised
// data), on AVX-512 CPUs whose adders are separate units from their FMA units (AMD Zen 4 and
// Zen 5; on by default on Zen 4 only, where it was measured: see onsager_zero_one_default_for).
// A product term a·b with a in {0, 1} is b or nothing, so half of C's columns take plain
// adds under a mask (the lanes whose a is 1) while the other half take FMAs: both kinds of unit
// work at once. On Zen 4 (one 512-bit FMA and one 512-bit add a cycle) a register tile of 16 rows
// x 24 columns, 12 columns each way, ran 1.59-1.62x the same tile with FMAs only, from L1 (184 against
// 115 GFLOPS-equivalent; 10 or 14 FMA columns 1.48x and 1.46x; with the value broadcast once into
// a register and reused across two vectors, as the FMA kernel's 12 x 32 tile does, 1.16x: those
// broadcasts occupy the same pipes).
//
// The vectors run down C's columns (16 rows of A's column k: the FMA operand, and as a 16-bit mask
// the add's), B's values are broadcast from memory inside the instructions, and each tile is
// transposed in registers before it is stored. Every element of C is summed over k in order from
// zero, as the FMA kernels sum it within one K block, and b + c rounds as 1·b + c while 0·b + c is
// c (the sum is never -0: it starts at +0, and x + -x is +0 when rounding to nearest, the only
// mode the kernels assume): for K up to the FMA kernels' K block under the general blocking
// (1024; AMD's, gemm.c) the result is bit-identical to theirs, at any thread count. Longer K is
// summed in one run rather than in blocks (other bits, the same accuracy), as it is under a forced
// Intel blocking.
//
// A column panel of B holding an infinity or NaN takes FMAs in all its columns, so that 0·inf
// gives its NaN (the FMA kernels' bits for every finite result; a NaN's sign can differ); an A with
// any value other than 0 and 1 (checked while packing it) leaves the product to the FMA kernels.
// A task that cannot allocate its panel of B hands its columns to the FMA kernels, whose bits
// there can differ (a narrow slice of C takes their dot-product path).
#include "onsager_kernels.h"
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "templates/packed_products.h"
#include "templates/transpose.h"

#if defined(__x86_64__) && defined(__clang__) && !defined(ONSAGER_PORTABLE_ONLY)
#define HAVE_ZERO_ONE 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static _Atomic int zo_enabled = -1;   // -1 unset (ONSAGER_ZERO_ONE, else the CPU's default), 0 off, 1 on
// The calling thread's own switch (-1 follow the process's; 1 runs the path on any AVX-512 CPU, so
// that tests check it on Intel too), and its count of products run on the path.
static _Thread_local int zo_thread = -1;
static _Thread_local long zo_products = 0;
// Set while a task runs a panel on the FMA kernels (B not finite, or no memory for its panel).
static _Thread_local int zo_suppressed = 0;

long onsager_zero_one_product_count(void) { return zo_products; }
void onsager_set_thread_zero_one(int on) { zo_thread = on < 0 ? -1 : on ? 1 : 0; }
void onsager_set_zero_one(int on) { atomic_store(&zo_enabled, on ? 1 : 0); }

int onsager_zero_one_available(void) {
#if HAVE_ZERO_ONE
    static _Atomic int cached = -1;
    int s = atomic_load_explicit(&cached, memory_order_relaxed);
    if (s >= 0) return s;
    __builtin_cpu_init();
    // AMD's AVX-512 cores (Zen 4, Zen 5) have their FP adders apart from the FMA units. Intel's
    // add on the FMA ports, where this path would only add work.
    s = __builtin_cpu_is("amd") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    atomic_store(&cached, s);
    return s;
#else
    return 0;
#endif
}

int onsager_zero_one_default_for(int amd, int family) {
    // Measured to pay on Zen 4 (family 25), whose 512-bit FMAs and adds each occupy both 256-bit
    // pipes of their kind for a cycle: the tile runs one FMA and one add a cycle. Zen 5 (family
    // 26) runs two 512-bit FMAs and two adds a cycle, each in one pass; in that regime (256-bit
    // vectors on Zen 4, Benchmarks/masked-add-tile.c) the tile ran 0.96x the all-FMA tile, bound
    // by its 26 loads per k at two a cycle. Whether Zen 5 gains depends on how many of those
    // broadcast loads it runs a cycle: off there (and on later families) until measured.
    return amd && family == 25;
}

int onsager_cpuid_family(unsigned eax) {
    unsigned family = (eax >> 8) & 0xF;
    if (family == 0xF) family += (eax >> 20) & 0xFF;   // the extended family counts only above 15
    return (int)family;
}

int onsager_zero_one_default(void) {
#if HAVE_ZERO_ONE
    if (!onsager_zero_one_available()) return 0;
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return onsager_zero_one_default_for(1, onsager_cpuid_family(a));
#else
    return 0;
#endif
}

int onsager_get_zero_one(void) {
    if (onsager_isa_level() < 2) return 0;
    if (zo_thread >= 0) return zo_thread;
    int e = atomic_load_explicit(&zo_enabled, memory_order_relaxed);
    if (e < 0) {
        // ONSAGER_ZERO_ONE=0 turns the path off, =1 on (where it can run); unset, the CPU's
        // default. Set only if unset: a concurrent onsager_set_zero_one wins.
        int unset = -1, d = onsager_env_switch("ONSAGER_ZERO_ONE", onsager_zero_one_default());
        e = atomic_compare_exchange_strong(&zo_enabled, &unset, d) ? d : unset;
    }
    return e && onsager_zero_one_available();
}

#if HAVE_ZERO_ONE
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"))), apply_to = function)

#define ZO_MR 16   // rows of a tile: one vector
#define ZO_NR 24   // columns of a tile: ZO_NF by FMA, the rest by masked adds
#define ZO_NF 12

typedef float f32x16 __attribute__((vector_size(64)));

// The packed A: row panels of 16 rows; panel p holds, for each k, the 16 values A[16p .. 16p+15, k]
// (zero beyond M) at floats + (p * K + k) * 16, and their mask (bit t: the value is 1) at
// masks[p * K + k].
typedef struct {
    float *floats;
    uint16_t *masks;
} zo_packed_a;

// Lanes of v that are neither 0 nor 1 (NaN included), among the first n.
static inline __mmask16 not_zero_one(__m512 v, __mmask16 n) {
    __mmask16 ok = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_EQ_OQ) |
                   _mm512_cmp_ps_mask(v, _mm512_set1_ps(1.0f), _CMP_EQ_OQ);
    return n & ~ok;
}

static inline __mmask16 first(long n) { return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

// Stores column k of a row panel (its 16 values, the lanes of `valid` the panel's rows) and its
// mask; returns 0 when a value is neither 0 nor 1.
static inline int put_column(zo_packed_a pa, long p, long K, long k, __m512 v, __mmask16 valid) {
    if (not_zero_one(v, valid)) return 0;
    _mm512_store_ps(pa.floats + (p * K + k) * 16, v);
    pa.masks[p * K + k] = _mm512_cmp_ps_mask(v, _mm512_set1_ps(1.0f), _CMP_EQ_OQ);
    return 1;
}

// Packs row panels p0 ... p1 - 1. Returns 0 at the first value that is neither 0 nor 1.
static int pack_a(long M, long K, const float *A, long rsa, long csa, zo_packed_a pa, long p0, long p1) {
    for (long p = p0; p < p1; p++) {
        long i0 = p * ZO_MR, rows = M - i0 < ZO_MR ? M - i0 : ZO_MR;
        __mmask16 rm = first(rows);
        if (rsa == 1) {   // a column of A is contiguous
            for (long k = 0; k < K; k++)
                if (!put_column(pa, p, K, k, _mm512_maskz_loadu_ps(rm, A + i0 + k * csa), rm)) return 0;
        } else if (csa == 1) {   // rows contiguous: 16 x 16 blocks transposed in registers
            for (long k0 = 0; k0 < K; k0 += 16) {
                __mmask16 km = first(K - k0);
                f32x16 r[16];
                for (int t = 0; t < 16; t++)
                    r[t] = t < rows ? (f32x16)_mm512_maskz_loadu_ps(km, A + (i0 + t) * rsa + k0) : (f32x16){0};
                ONSAGER_TRANSPOSE_16(r)
                for (long q = 0; q < 16 && k0 + q < K; q++)
                    if (!put_column(pa, p, K, k0 + q, (__m512)r[q], rm)) return 0;
            }
        } else {
            for (long k = 0; k < K; k++) {
                float t[16] = {0};
                for (long r = 0; r < rows; r++) t[r] = A[(i0 + r) * rsa + k * csa];
                if (!put_column(pa, p, K, k, _mm512_loadu_ps(t), rm)) return 0;
            }
        }
    }
    return 1;
}

// Lanes that are an infinity or NaN.
static inline __mmask16 special(__m512 v) {
    __m512i e = _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7F800000));
    return _mm512_cmpeq_epi32_mask(e, _mm512_set1_epi32(0x7F800000));
}

// Stores row k of a panel of B (its first 16 values in x0, the other 8 in x1's low half) and
// returns the lanes that are an infinity or NaN.
static inline __mmask16 put_row(float *Bp, long k, __m512 x0, __m512 x1) {
    _mm512_storeu_ps(Bp + k * 24, x0);
    _mm256_storeu_ps(Bp + k * 24 + 16, _mm512_castps512_ps256(x1));
    return special(x0) | (special(x1) & 0xFF);
}

// Columns j0 ... j0 + cols - 1 of B (cols <= 24) as a panel: for each k, 24 values (zero beyond
// cols) at Bp + k * 24. Returns 0 when the panel holds an infinity or NaN.
static int pack_b(long K, const float *B, long rsb, long csb, long j0, long cols, float *Bp) {
    __mmask16 bad = 0, m0 = first(cols), m1 = first(cols - 16);
    if (csb == 1) {   // rows of B contiguous
        for (long k = 0; k < K; k++) {
            const float *src = B + k * rsb + j0;
            bad |= put_row(Bp, k, _mm512_maskz_loadu_ps(m0, src), _mm512_maskz_loadu_ps(m1, src + 16));
        }
    } else if (rsb == 1) {   // columns of B contiguous (a layer's Wᵀ): 16 x 16 blocks transposed
        // A half (columns 0-15, then 16-23) at a time: both at once, 32 vectors, spilled registers
        // (100x784x500 0.96x).
        for (long k0 = 0; k0 < K; k0 += 16) {
            __mmask16 km = first(K - k0);
            for (long half = 0; half < 2; half++) {
                f32x16 r[16];
                for (long t = 0; t < 16; t++) {
                    long j = half * 16 + t;
                    __m512 v = j < cols ? _mm512_maskz_loadu_ps(km, B + (j0 + j) * csb + k0) : _mm512_setzero_ps();
                    bad |= special(v);
                    r[t] = (f32x16)v;
                }
                ONSAGER_TRANSPOSE_16(r)
                for (long q = 0; q < 16 && k0 + q < K; q++) {
                    if (half == 0) _mm512_storeu_ps(Bp + (k0 + q) * 24, (__m512)r[q]);
                    else _mm256_storeu_ps(Bp + (k0 + q) * 24 + 16, _mm512_castps512_ps256((__m512)r[q]));
                }
            }
        }
    } else {
        for (long k = 0; k < K; k++) {
            float t[32] = {0};
            for (long j = 0; j < cols; j++) t[j] = B[k * rsb + (j0 + j) * csb];
            bad |= put_row(Bp, k, _mm512_loadu_ps(t), _mm512_loadu_ps(t + 16));
        }
    }
    return bad == 0;
}

// Rows 0 ... rows - 1 of a tile into C, row t from r[t] (columns 0-15) and s[t] (16-23): the FMA
// kernels' epilogue, written the same way so that it rounds the same way.
static inline __attribute__((always_inline)) void store_rows(const f32x16 *r, const f32x16 *s, long rows, long cols,
                                                             float alpha, float beta, float *C, long ldc,
                                                             const float *bias, int relu) {
    __mmask16 m0 = first(cols), m1 = first(cols - 16);
    f32x16 b0 = {0}, b1 = {0};
    if (bias) {
        b0 = (f32x16)_mm512_maskz_loadu_ps(m0, bias);
        b1 = (f32x16)_mm512_maskz_loadu_ps(m1, bias + 16);
    }
    for (long t = 0; t < rows; t++) {
        float *c = C + t * ldc;
        f32x16 v0, v1;
        if (bias) {
            v0 = alpha * r[t] + b0;
            v1 = alpha * s[t] + b1;
        } else if (beta == 0) {
            v0 = alpha * r[t];
            v1 = alpha * s[t];
        } else {
            v0 = beta * (f32x16)_mm512_maskz_loadu_ps(m0, c) + alpha * r[t];
            v1 = beta * (f32x16)_mm512_maskz_loadu_ps(m1, c + 16) + alpha * s[t];
        }
        if (relu) {   // as the elementwise relu: NaN stays NaN, -0 becomes +0
            __mmask16 k0 = _mm512_cmp_ps_mask((__m512)v0, _mm512_setzero_ps(), _CMP_GT_OQ) |
                           _mm512_cmp_ps_mask((__m512)v0, (__m512)v0, _CMP_UNORD_Q);
            __mmask16 k1 = _mm512_cmp_ps_mask((__m512)v1, _mm512_setzero_ps(), _CMP_GT_OQ) |
                           _mm512_cmp_ps_mask((__m512)v1, (__m512)v1, _CMP_UNORD_Q);
            v0 = (f32x16)_mm512_maskz_mov_ps(k0, (__m512)v0);
            v1 = (f32x16)_mm512_maskz_mov_ps(k1, (__m512)v1);
        }
        _mm512_mask_storeu_ps(c, m0, (__m512)v0);
        if (m1) _mm512_mask_storeu_ps(c + 16, m1, (__m512)v1);
    }
}

// The tile's rows of C, fetched for writing while the k loop runs (as the FMA kernels do).
static inline void prefetch_rows(const float *C, long ldc, long rows, long cols) {
    for (long t = 0; t < rows; t++) {
        __builtin_prefetch(C + t * ldc, 1, 3);
        __builtin_prefetch(C + t * ldc + cols - 1, 1, 3);
    }
}

// One tile: C rows i0 ... i0 + rows - 1 (rows <= 16), columns of the panel (cols <= 24), over all K.
// (K blocks of 128 or 256, so that the panel's block stays in L1 while the row panels pass it, ran
// 0.94-0.98x on 100x500x784, Zen 4: B's broadcasts are not what limits the tile.)
static inline __attribute__((always_inline)) void tile(long K, const float *restrict a, const uint16_t *restrict m,
                                                       const float *restrict b, long rows, long cols, float alpha,
                                                       float beta, float *C, long ldc, const float *bias, int relu,
                                                       const int NF) {
    __m512 acc[ZO_NR];
#pragma clang loop unroll(full)
    for (int j = 0; j < ZO_NR; j++) acc[j] = _mm512_setzero_ps();
    prefetch_rows(C, ldc, rows, cols);
    for (long k = 0; k < K; k++) {
        __m512 av = _mm512_load_ps(a + k * 16);
        __mmask16 mk = _load_mask16((__mmask16 *)(m + k));
        const float *bk = b + k * ZO_NR;
#pragma clang loop unroll(full)
        for (int j = 0; j < NF; j++) acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(bk[j]), av, acc[j]);
#pragma clang loop unroll(full)
        for (int j = NF; j < ZO_NR; j++) acc[j] = _mm512_mask_add_ps(acc[j], mk, acc[j], _mm512_set1_ps(bk[j]));
    }
    // acc[j] holds column j of the tile; transposed, r[t] holds row t (columns 0-15, then 16-23).
    f32x16 r[16], s[16];
#pragma clang loop unroll(full)
    for (int j = 0; j < 16; j++) {
        r[j] = (f32x16)acc[j];
        s[j] = j < ZO_NR - 16 ? (f32x16)acc[16 + j] : (f32x16){0};
    }
    ONSAGER_TRANSPOSE_16(r)
    ONSAGER_TRANSPOSE_16(s)
    store_rows(r, s, rows, cols, alpha, beta, C, ldc, bias, relu);
}

typedef float f32x8 __attribute__((vector_size(32)));

// The same for a last panel of at most 8 rows, on 8-lane vectors: half the work of a 16-row tile
// (M = 100: 6 tiles and a half per column panel instead of 7; 100x500x784 141 -> 144 GFLOPS: the
// 8-lane tile is bound by its 26 loads per k more than by its arithmetic).
static inline __attribute__((always_inline)) void tile8(long K, const float *restrict a, const uint16_t *restrict m,
                                                        const float *restrict b, long rows, long cols, float alpha,
                                                        float beta, float *C, long ldc, const float *bias, int relu,
                                                        const int NF) {
    __m256 acc[ZO_NR];
#pragma clang loop unroll(full)
    for (int j = 0; j < ZO_NR; j++) acc[j] = _mm256_setzero_ps();
    prefetch_rows(C, ldc, rows, cols);
    for (long k = 0; k < K; k++) {
        __m256 av = _mm256_load_ps(a + k * 16);
        __mmask8 mk = (__mmask8)m[k];
        const float *bk = b + k * ZO_NR;
#pragma clang loop unroll(full)
        for (int j = 0; j < NF; j++) acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(bk[j]), av, acc[j]);
#pragma clang loop unroll(full)
        for (int j = NF; j < ZO_NR; j++) acc[j] = _mm256_mask_add_ps(acc[j], mk, acc[j], _mm256_set1_ps(bk[j]));
    }
    // Three 8 x 8 transposes: x[q][t] holds row t, columns 8q ... 8q + 7.
    f32x8 x[3][8];
#pragma clang loop unroll(full)
    for (int q = 0; q < 3; q++) {
#pragma clang loop unroll(full)
        for (int j = 0; j < 8; j++) x[q][j] = (f32x8)acc[8 * q + j];
        ONSAGER_TRANSPOSE_8(x[q])
    }
    f32x16 r[16], s[16];
#pragma clang loop unroll(full)
    for (int t = 0; t < 8; t++) {
        r[t] = __builtin_shufflevector(x[0][t], x[1][t], 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        s[t] = __builtin_shufflevector(x[2][t], (f32x8){0}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    }
    store_rows(r, s, rows, cols, alpha, beta, C, ldc, bias, relu);
}

// The tile for a row panel of A: masked adds for ZO_NR - ZO_NF columns, or, for a panel of B that
// holds an infinity or NaN, FMAs for all 24 (0·∞ must give its NaN): the FMA kernels' order, so
// their bits for every finite value. (Computing such a panel with the FMA kernels themselves, on a
// slice of C, gave other bits: a narrow slice takes their dot-product path.)
#define ZO_TILE_ARGS                                                                                \
    long K, const float *restrict a, const uint16_t *restrict m, const float *restrict b, long rows, long cols, \
        float alpha, float beta, float *C, long ldc, const float *bias, int relu
static void tile_adds(ZO_TILE_ARGS) { tile(K, a, m, b, rows, cols, alpha, beta, C, ldc, bias, relu, ZO_NF); }
static void tile8_adds(ZO_TILE_ARGS) { tile8(K, a, m, b, rows, cols, alpha, beta, C, ldc, bias, relu, ZO_NF); }
static void tile_fmas(ZO_TILE_ARGS) { tile(K, a, m, b, rows, cols, alpha, beta, C, ldc, bias, relu, ZO_NR); }
static void tile8_fmas(ZO_TILE_ARGS) { tile8(K, a, m, b, rows, cols, alpha, beta, C, ldc, bias, relu, ZO_NR); }
typedef void (*zo_tile_fn)(ZO_TILE_ARGS);

typedef struct {
    long M, N, K, panels_a, rsb, csb, ldc, rsa, csa;
    float alpha, beta;
    const float *A, *B, *bias;
    zo_packed_a pa;
    float *C;
    int relu;
} zo_job;

// Each thread's buffers for its B panels and A's packed copy (templates/packed_products.h).
static _Thread_local onsager_scratch panel_buf = {0, 0};
static _Thread_local onsager_scratch a_buf = {0, 0};

// Columns j0 ... j0 + cols - 1 of C by the FMA kernels (the path suppressed meanwhile), when a
// task cannot allocate its panel: a result rather than a crash, though not always their bits.
static void panel_by_fma(const zo_job *j, long j0, long cols) {
    // Neither this path nor AMX tiles (on a CPU with both, as in tests): the FMA kernels' bits.
    int amx = onsager_get_thread_amx();
    onsager_set_thread_amx(0);
    zo_suppressed = 1;
    onsager_sgemm_epilogue(j->M, cols, j->K, j->alpha, j->A, j->rsa, j->csa, j->B + j0 * j->csb, j->rsb, j->csb, j->beta,
                           j->C + j0, j->ldc, j->bias ? j->bias + j0 : 0, j->relu);
    zo_suppressed = 0;
    onsager_set_thread_amx(amx);
}

// One task: a 24-column panel of C, every row, in onsager_interleaved_panel's order.
static void panel_task(void *vctx, long task) {
    zo_job *j = (zo_job *)vctx;
    long t = onsager_interleaved_panel(task, (j->N + ZO_NR - 1) / ZO_NR);
    long j0 = t * ZO_NR, cols = j->N - j0 < ZO_NR ? j->N - j0 : ZO_NR;
    float *panel = (float *)onsager_scratch_reserve(&panel_buf, j->K * ZO_NR * (long)sizeof(float));
    if (!panel) {
        panel_by_fma(j, j0, cols);
        return;
    }
    int finite = pack_b(j->K, j->B, j->rsb, j->csb, j0, cols, panel);
    zo_tile_fn full = finite ? tile_adds : tile_fmas, tail = finite ? tile8_adds : tile8_fmas;
    for (long p = 0; p < j->panels_a; p++) {
        long i0 = p * ZO_MR, rows = j->M - i0 < ZO_MR ? j->M - i0 : ZO_MR;
        (rows <= 8 ? tail : full)(j->K, j->pa.floats + p * j->K * 16, j->pa.masks + p * j->K, panel, rows, cols, j->alpha,
                                  j->beta, j->C + i0 * j->ldc + j0, j->ldc, j->bias ? j->bias + j0 : 0, j->relu);
    }
    // (Asking for the next panel's B into L2 a share before each tile measured 0.98-1.00x.) The
    // panel is kept: K <= 16384 holds it under 1.5 MB.
}

// A packed by the threads in runs of row panels (onsager_pack_in_runs).
typedef struct {
    long M, K, rsa, csa;
    const float *A;
    zo_packed_a pa;
} zo_pack_ctx;

static int pack_panels(void *vctx, long p0, long p1) {
    zo_pack_ctx *c = (zo_pack_ctx *)vctx;
    return pack_a(c->M, c->K, c->A, c->rsa, c->csa, c->pa, p0, p1);
}

static int sgemm_zero_one(long M, long N, long K, float alpha, const float *A, long rsa, long csa, const float *B,
                          long rsb, long csb, float beta, float *C, long ldc, const float *bias, int relu) {
    long panels_a = (M + ZO_MR - 1) / ZO_MR;
    long float_bytes = panels_a * K * 16 * (long)sizeof(float);
    char *packed = (char *)onsager_scratch_reserve(&a_buf, float_bytes + panels_a * K * (long)sizeof(uint16_t));
    if (!packed) return 0;
    zo_packed_a pa = {(float *)packed, (uint16_t *)(packed + float_bytes)};
    zo_pack_ctx pc = {M, K, rsa, csa, A, pa};
    if (!onsager_pack_in_runs(panels_a, pack_panels, &pc)) return 0;
    zo_job job = {M, N, K, panels_a, rsb, csb, ldc, rsa, csa, alpha, beta, A, B, bias, pa, C, relu};
    long panels = (N + ZO_NR - 1) / ZO_NR;
    onsager_parallel_for(panels, panel_task, &job);   // in order on this thread at one thread or when contended
    onsager_scratch_trim(&a_buf);   // a large A's copy is not kept
    return 1;
}

#pragma clang attribute pop
#endif

// Most products that do not qualify show it in their first values: a look before packing, in the
// first and the middle row (the first row of a transposed batch of images is their first pixel,
// often 0 in all of them).
int onsager_zero_one_look(long M, long K, const float *A, long rsa, long csa) {
    for (long k = 0; k < K && k < 64; k++) {
        float x = A[k * csa], y = A[(M / 2) * rsa + k * csa];
        if ((x != 0.0f && x != 1.0f) || (y != 0.0f && y != 1.0f)) return 0;
    }
    return 1;
}

// The entry point gemm.c calls for every Float product: plain code before the checks.
int onsager_sgemm_zero_one(long M, long N, long K, float alpha, const float *A, long rsa, long csa, const float *B,
                           long rsb, long csb, float beta, float *C, long ldc, const float *bias, int relu) {
#if HAVE_ZERO_ONE
    if (zo_suppressed || !onsager_get_zero_one()) return 0;
    // From 2 MFLOP; K capped so that a task's B panel (96 bytes per k) stays under 1.5 MB, and A's
    // packed copy (66 bytes per 16 values) under about 130 MB.
    if (M < 16 || N < 16 || K < 16 || K > 16384 || 2.0 * M * N * K < 2e6 || (double)M * K > 32e6) return 0;
    if (!onsager_zero_one_look(M, K, A, rsa, csa)) return 0;
    if (!sgemm_zero_one(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc, bias, relu)) return 0;
    zo_products++;
    return 1;
#else
    (void)M; (void)N; (void)K; (void)alpha; (void)A; (void)rsa; (void)csa; (void)B; (void)rsb; (void)csb;
    (void)beta; (void)C; (void)ldc; (void)bias; (void)relu;
    return 0;
#endif
}
