// Float products with one operand exactly representable in bfloat16 (0/1 samples, ±1 spins, small
// integers), on Intel AMX tiles (AMX-BF16). The other operand is split exactly into three bfloat16
// parts, x = hi + mid + lo (each truncated: hi keeps the top 8 significant bits of x, mid the next
// 8, lo the last 8), so every product a·part is exact in Float and the tile unit adds them in
// Float, as the AVX-512 kernels do, only in another order: the result has the Float GEMM's
// accuracy, not bfloat16's. Each element of C is summed by one task over all of K in a fixed
// order, so it does not depend on the thread count.
//
// Limits: the tile unit reads bfloat16 subnormals as zero and flushes subnormal results (as
// FTZ/DAZ would), so a value of B under about 2^-103 in magnitude can lose its last bits (its lo
// part falls below 2^-126), and sums below 2^-126 become zero. An A with subnormal values is not
// taken, nor one with infinities or NaNs (an infinity times a zero part would add a NaN). In B,
// infinities and NaNs keep their meaning (hi carries them, mid and lo are zero).
#include "onsager_kernels.h"
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "templates/packed_products.h"
#include "templates/transpose.h"

#if defined(__x86_64__) && defined(__linux__) && defined(__clang__) && !defined(ONSAGER_PORTABLE_ONLY)
#define HAVE_AMX 1
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

static _Atomic int amx_state = -1;      // -1 unknown, 0 unavailable, 1 available
static _Atomic int amx_enabled = -1;    // -1 unset (ONSAGER_AMX or on), 0 off, 1 on
// The calling thread's own switch (-1: follow the process's), so that a test can turn the path off
// without changing what other threads compute; and its count of products run on the tiles.
static _Thread_local int amx_thread = -1;
static _Thread_local long amx_products = 0;

long onsager_amx_product_count(void) { return amx_products; }
void onsager_set_thread_amx(int on) { amx_thread = on < 0 ? -1 : on ? 1 : 0; }
int onsager_get_thread_amx(void) { return amx_thread; }

#if HAVE_AMX
static int amx_detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!(d & (1u << 22)) || !(d & (1u << 24))) return 0;   // AMX-BF16, AMX-TILE
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d) || !(a & (1u << 5))) return 0;   // AVX512_BF16
    if (!__builtin_cpu_supports("avx512bw")) return 0;
    // Linux hands out the 8 KB of tile state only to a process that asks (ARCH_REQ_XCOMP_PERM,
    // XFEATURE_XTILEDATA); the permission covers all its threads. The kernel refuses it while a
    // thread has a signal stack too small for the larger signal frame (the path is then off), and
    // once granted it refuses such small signal stacks (sigaltstack) later in the process.
    return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
}
#endif

int onsager_amx_available(void) {
    int s = atomic_load_explicit(&amx_state, memory_order_relaxed);
    if (s >= 0) return s;
#if HAVE_AMX
    s = amx_detect();
#else
    s = 0;
#endif
    atomic_store(&amx_state, s);
    return s;
}

void onsager_set_amx(int on) { atomic_store(&amx_enabled, on ? 1 : 0); }

int onsager_get_amx(void) {
    int e = amx_thread >= 0 ? amx_thread : atomic_load_explicit(&amx_enabled, memory_order_relaxed);
    if (e < 0) {
        // ONSAGER_AMX=0 turns the path off. Set only if unset: a concurrent onsager_set_amx wins.
        int unset = -1, d = onsager_env_switch("ONSAGER_AMX", 1);
        e = atomic_compare_exchange_strong(&amx_enabled, &unset, d) ? d : unset;
    }
    return e && onsager_amx_available() && onsager_isa_level() >= 2;
}

#if HAVE_AMX

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,avx2,fma,amx-tile,amx-bf16"))), apply_to = function)

typedef struct {
    uint8_t palette, start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

// The lanes that are not a finite, normal (or zero) bfloat16: low 16 bits set, subnormal, or an
// infinity or NaN.
static inline __mmask16 not_exact(__m512i v) {
    const __m512i exp = _mm512_set1_epi32(0x7F800000);
    __mmask16 low = _mm512_test_epi32_mask(v, _mm512_set1_epi32(0xFFFF));
    __mmask16 zero_exp = _mm512_testn_epi32_mask(v, exp);
    __mmask16 nonzero = _mm512_test_epi32_mask(v, _mm512_set1_epi32(0x7FFFFFFF));
    __mmask16 special = _mm512_cmpeq_epi32_mask(_mm512_and_si512(v, exp), exp);
    return low | (zero_exp & nonzero) | special;
}

// The three truncated bfloat16 parts of 16 floats, as 32-bit lanes whose high halves hold them.
static inline void split3(__m512 x, __m512i *hi, __m512i *mid, __m512i *lo) {
    const __m512i top = _mm512_set1_epi32((int)0xFFFF0000u);
    __m512i xi = _mm512_castps_si512(x);
    __m512i h = _mm512_and_si512(xi, top);
    __m512 r = _mm512_sub_ps(x, _mm512_castsi512_ps(h));
    __m512i ri = _mm512_castps_si512(r);
    __m512i m = _mm512_and_si512(ri, top);
    __m512 l = _mm512_sub_ps(r, _mm512_castsi512_ps(m));
    *hi = h;
    *mid = m;
    *lo = _mm512_castps_si512(l);
    // Infinities and NaNs: hi alone carries them (a NaN whose payload sat in the low bits gets a
    // quiet bit, so that it stays a NaN).
    __mmask16 special = _mm512_cmpeq_epi32_mask(_mm512_and_si512(xi, _mm512_set1_epi32(0x7F800000)),
                                                _mm512_set1_epi32(0x7F800000));
    if (__builtin_expect(special != 0, 0)) {
        __mmask16 nan = special & _mm512_test_epi32_mask(xi, _mm512_set1_epi32(0x007FFFFF));
        *hi = _mm512_mask_or_epi32(h, nan, h, _mm512_set1_epi32(0x00400000));
        *mid = _mm512_maskz_mov_epi32(~special, m);
        *lo = _mm512_maskz_mov_epi32(~special, *lo);
    }
}

// Loads n (<= 16) floats from p with stride s (zeros beyond n).
static inline __m512 load16(const float *p, long s, long n) {
    if (s == 1) return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
    float t[16] = {0};
    for (long i = 0; i < n; i++) t[i] = p[i * s];
    return _mm512_loadu_ps(t);
}

// ---- packing ----
typedef int32_t i32x16 __attribute__((vector_size(64)));

// The number of the 16 values from index at (of n) that exist: 0 ... 16.
static inline long take16(long n, long at) { return n - at < 0 ? 0 : n - at < 16 ? n - at : 16; }

// Dwords holding bfloat16 pairs (low half from e, high half from o), from lanes with the value in
// their high 16 bits.
static inline __m512i pair_lanes(__m512i e, __m512i o) {
    return _mm512_ternarylogic_epi32(_mm512_srli_epi32(e, 16), o, _mm512_set1_epi32(0xFFFF), 0xE4);
}

// Dwords holding the bfloat16 pairs of 32 consecutive values (x0 then x1; high halves of lanes):
// dword q = (value 2q, value 2q + 1).
// (The values are bfloat16 already, so the conversion's rounding never changes them.)
static inline __m512i pair_along(__m512i x0, __m512i x1) {
    return (__m512i)_mm512_cvtne2ps_pbh(_mm512_castsi512_ps(x1), _mm512_castsi512_ps(x0));
}

static inline void transpose_store(i32x16 r[16], void *dst) {
    ONSAGER_TRANSPOSE_16(r)
    for (int t = 0; t < 16; t++) _mm512_storeu_si512((char *)dst + 64 * t, (__m512i)r[t]);
}

// A (the exact operand) in tiles of 16 rows x 32 k, row-major bfloat16, zero beyond M and K:
// tile (ib, kb) at Ap + (ib * kblocks + kb) * 512; row blocks ib0 ... ib1 - 1. Returns 0 (at the
// first value that is not a bfloat16) when A is not exact.
static int pack_exact_a(long M, long K, const float *A, long rsa, long csa, long kblocks, uint16_t *Ap, long ib0,
                        long ib1) {
    for (long ib = ib0; ib < ib1; ib++) {
        long i0 = ib * 16, ni = take16(M, i0);
        for (long kb = 0; kb < kblocks; kb++) {
            uint16_t *tile = Ap + (ib * kblocks + kb) * 512;
            long k0 = kb * 32;
            if (rsa == 1 && csa != 1) {
                // Rows of A are columns of the source: pair rows k and k + 1 of the source, then
                // transpose the 16 x 16 dwords.
                i32x16 r[16];
                for (long q = 0; q < 16; q++) {
                    long k = k0 + 2 * q;
                    __m512i e = _mm512_castps_si512(load16(A + k * csa + i0, 1, k < K ? ni : 0));
                    __m512i o = _mm512_castps_si512(load16(A + (k + 1) * csa + i0, 1, k + 1 < K ? ni : 0));
                    if (not_exact(e) | not_exact(o)) return 0;
                    r[q] = (i32x16)pair_lanes(e, o);
                }
                transpose_store(r, tile);
                continue;
            }
            for (long t = 0; t < 16; t++) {
                long i = i0 + t;
                uint16_t *dst = tile + t * 32;
                if (i >= M) { memset(dst, 0, 64); continue; }
                __m512i x0 = _mm512_castps_si512(load16(A + i * rsa + k0 * csa, csa, take16(K, k0)));
                __m512i x1 = _mm512_castps_si512(load16(A + i * rsa + (k0 + 16) * csa, csa, take16(K, k0 + 16)));
                if (not_exact(x0) | not_exact(x1)) return 0;
                _mm512_storeu_si512(dst, pair_along(x0, x1));
            }
        }
    }
    return 1;
}

// One 32-column panel of B (columns j0 ... j0 + 31, zero beyond N and K), split into its three
// parts, in VNNI tiles of 16 k-pairs x 16 columns: tile (kb, part, half) at
// Bp + ((kb * 3 + part) * 2 + half) * 512, its row q holding (B[2q][n], B[2q + 1][n]) for 16 n.
static void pack_split_b(long N, long K, const float *B, long rsb, long csb, long j0, long kblocks, uint16_t *Bp) {
    for (long half = 0; half < 2; half++) {
        long c0 = j0 + half * 16, nc = take16(N, c0);
        for (long kb = 0; kb < kblocks; kb++) {
            long k0 = kb * 32;
            uint32_t *t[3];
            for (int p = 0; p < 3; p++) t[p] = (uint32_t *)(Bp + ((kb * 3 + p) * 2 + half) * 512);
            if (rsb == 1 && csb != 1) {
                // Columns of B are rows of the source: pair along them, then transpose.
                i32x16 r[3][16];
                for (long n = 0; n < 16; n++) {
                    __m512 x0 = n < nc ? load16(B + (c0 + n) * csb + k0, 1, take16(K, k0)) : _mm512_setzero_ps();
                    __m512 x1 = n < nc ? load16(B + (c0 + n) * csb + k0 + 16, 1, take16(K, k0 + 16)) : _mm512_setzero_ps();
                    __m512i h0, m0, l0, h1, m1, l1;
                    split3(x0, &h0, &m0, &l0);
                    split3(x1, &h1, &m1, &l1);
                    r[0][n] = (i32x16)pair_along(h0, h1);
                    r[1][n] = (i32x16)pair_along(m0, m1);
                    r[2][n] = (i32x16)pair_along(l0, l1);
                }
                for (int p = 0; p < 3; p++) transpose_store(r[p], t[p]);
                continue;
            }
            for (long q = 0; q < 16; q++) {
                long k = k0 + 2 * q;
                __m512 e = k < K ? load16(B + k * rsb + c0 * csb, csb, nc) : _mm512_setzero_ps();
                __m512 o = k + 1 < K ? load16(B + (k + 1) * rsb + c0 * csb, csb, nc) : _mm512_setzero_ps();
                __m512i eh, em, el, oh, om, ol;
                split3(e, &eh, &em, &el);
                split3(o, &oh, &om, &ol);
                _mm512_storeu_si512(t[0] + q * 16, pair_lanes(eh, oh));
                _mm512_storeu_si512(t[1] + q * 16, pair_lanes(em, om));
                _mm512_storeu_si512(t[2] + q * 16, pair_lanes(el, ol));
            }
        }
    }
}

// ---- the tile kernel ----
// C rows i0 ... (32 or 16 of them, rows2) x the panel's 32 or 16 columns (cols2), over all K blocks:
// tiles 0-3 accumulate C (0: rows 0-15 x cols 0-15, 1: rows 0-15 x cols 16-31, 2 and 3 the same for
// rows 16-31), 4-5 hold A, 6-7 B. Every k block adds the parts hi, mid, lo in turn.
static void tile_block(const uint16_t *Ap, long kblocks, const uint16_t *Bp, int rows2, int cols2, float *out) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (long kb = 0; kb < kblocks; kb++) {
        _tile_loadd(4, Ap + kb * 512, 64);
        if (rows2) _tile_loadd(5, Ap + (kblocks + kb) * 512, 64);
        for (int p = 0; p < 3; p++) {
            const uint16_t *b = Bp + (kb * 3 + p) * 2 * 512;
            _tile_loadd(6, b, 64);
            _tile_dpbf16ps(0, 4, 6);
            if (rows2) _tile_dpbf16ps(2, 5, 6);
            if (cols2) {
                _tile_loadd(7, b + 512, 64);
                _tile_dpbf16ps(1, 4, 7);
                if (rows2) _tile_dpbf16ps(3, 5, 7);
            }
        }
    }
    _tile_stored(0, out, 128);
    _tile_stored(1, out + 16, 128);
    _tile_stored(2, out + 16 * 32, 128);
    _tile_stored(3, out + 16 * 32 + 16, 128);
}

// out (32 x 32, row stride 32) into C rows i0 ..., columns j0 ...: alpha, bias, beta, relu.
static void store_block(const float *out, long rows, long cols, float alpha, float beta, float *C, long ldc,
                        const float *bias, int relu) {
    for (long r = 0; r < rows; r++) {
        for (long h = 0; h < cols; h += 16) {
            long n = cols - h < 16 ? cols - h : 16;
            __mmask16 m = (__mmask16)((1u << n) - 1);
            __m512 v = _mm512_mul_ps(_mm512_set1_ps(alpha), _mm512_loadu_ps(out + r * 32 + h));
            float *c = C + r * ldc + h;
            if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + h));
            else if (beta != 0) v = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(m, c), v);
            if (relu) {   // as the elementwise relu: NaN stays NaN, -0 becomes +0
                __mmask16 keep = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ) |
                                 _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
                v = _mm512_maskz_mov_ps(keep, v);
            }
            _mm512_mask_storeu_ps(c, m, v);
        }
    }
}

typedef struct {
    long M, N, K, kblocks, mblocks, rsa, csa, rsb, csb, ldc;
    float alpha, beta;
    const float *A, *B, *bias;
    const uint16_t *Ap;
    float *C;
    int relu;
} amx_job;

// Packing buffers kept by each thread for its next product (templates/packed_products.h).
static _Thread_local onsager_scratch panel_buf = {0, 0};
// Set while a task that could not allocate its panel runs it on the vector kernels instead.
static _Thread_local int amx_suppressed = 0;

// One task: a 32-column panel of C, every row, in onsager_interleaved_panel's order.
static void amx_panel_task(void *vctx, long task) {
    amx_job *j = (amx_job *)vctx;
    long t = onsager_interleaved_panel(task, (j->N + 31) / 32);
    long j0 = t * 32, cols = j->N - j0 < 32 ? j->N - j0 : 32;
    uint16_t *panel = (uint16_t *)onsager_scratch_reserve(&panel_buf, j->kblocks * 3 * 2 * 512 * (long)sizeof(uint16_t));
    if (!panel) {
        // Out of memory for 6 KB per 32 values of K: this panel from the vector kernels (other
        // bits than the tiles', but a result rather than a crash).
        amx_suppressed = 1;
        const float *b = j->B + j0 * j->csb, *bias = j->bias ? j->bias + j0 : 0;
        float *c = j->C + j0;
        onsager_sgemm_epilogue(j->M, cols, j->K, j->alpha, j->A, j->rsa, j->csa, b, j->rsb, j->csb, j->beta, c, j->ldc,
                               bias, j->relu);
        amx_suppressed = 0;
        return;
    }
    pack_split_b(j->N, j->K, j->B, j->rsb, j->csb, j0, j->kblocks, panel);
    tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int i = 0; i < 8; i++) { cfg.rows[i] = 16; cfg.colsb[i] = 64; }
    _tile_loadconfig(&cfg);
    float out[32 * 32] __attribute__((aligned(64)));
    for (long ib = 0; ib < j->mblocks; ib += 2) {
        int rows2 = ib + 1 < j->mblocks;
        tile_block(j->Ap + ib * j->kblocks * 512, j->kblocks, panel, rows2, cols > 16, out);
        long i0 = ib * 16, rows = j->M - i0 < 32 ? j->M - i0 : 32;
        store_block(out, rows, cols, j->alpha, j->beta, j->C + i0 * j->ldc + j0, j->ldc, j->bias ? j->bias + j0 : 0,
                    j->relu);
    }
    _tile_release();
    onsager_scratch_trim(&panel_buf);   // a long K's panel is not kept
}

static _Thread_local onsager_scratch a_buf = {0, 0};

// A packed by the threads in runs of row blocks (onsager_pack_in_runs); a value that is not a
// bfloat16 sends the product to the vector kernels.
typedef struct {
    long M, K, rsa, csa, kblocks;
    const float *A;
    uint16_t *Ap;
} amx_pack_ctx;

static int amx_pack_blocks(void *vctx, long ib0, long ib1) {
    amx_pack_ctx *c = (amx_pack_ctx *)vctx;
    return pack_exact_a(c->M, c->K, c->A, c->rsa, c->csa, c->kblocks, c->Ap, ib0, ib1);
}

static int sgemm_exact_amx(long M, long N, long K, float alpha, const float *A, long rsa, long csa, const float *B,
                           long rsb, long csb, float beta, float *C, long ldc, const float *bias, int relu) {
    long kblocks = (K + 31) / 32, mblocks = (M + 15) / 16;
    uint16_t *Ap = (uint16_t *)onsager_scratch_reserve(&a_buf, mblocks * kblocks * 512 * (long)sizeof(uint16_t));
    if (!Ap) return 0;
    amx_pack_ctx pc = {M, K, rsa, csa, kblocks, A, Ap};
    if (!onsager_pack_in_runs(mblocks, amx_pack_blocks, &pc)) return 0;
    amx_job job = {M, N, K, kblocks, mblocks, rsa, csa, rsb, csb, ldc, alpha, beta, A, B, bias, Ap, C, relu};
    long panels = (N + 31) / 32;
    onsager_parallel_for(panels, amx_panel_task, &job);   // in order on this thread at one thread or when contended
    onsager_scratch_trim(&a_buf);
    return 1;
}

#pragma clang attribute pop
#endif

// The entry point gemm.c calls for every Float product on every CPU: plain code (no AVX-512 or
// AMX instructions before the checks), the tiled implementation only where they exist.
int onsager_sgemm_exact_amx(long M, long N, long K, float alpha, const float *A, long rsa, long csa, const float *B,
                            long rsb, long csb, float beta, float *C, long ldc, const float *bias, int relu) {
#if HAVE_AMX
    if (amx_suppressed || !onsager_get_amx()) return 0;
    // The path starts at 2 MFLOP (not measured below: the smallest product timed, 32x128x256,
    // gained 1.13x). K is capped so that a task's packed panel (6 KB per 32 of K) stays under
    // 12 MB, and A's packed copy (2 bytes a value, K rounded up to 32) under about 128 MB.
    if (M < 16 || N < 16 || K < 16 || K > 65536 || 2.0 * M * N * K < 2e6 || (double)M * K > 32e6) return 0;
    // Most products that do not qualify show it in their first values: look before allocating.
    for (long k = 0; k < K && k < 64; k++) {
        float x = A[k * csa];
        uint32_t u;
        memcpy(&u, &x, 4);
        if ((u & 0xFFFF) || (!(u & 0x7F800000) && (u & 0x7FFFFFFF)) || (u & 0x7F800000) == 0x7F800000) return 0;
    }
    if (!sgemm_exact_amx(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc, bias, relu)) return 0;
    amx_products++;
    return 1;
#else
    (void)M; (void)N; (void)K; (void)alpha; (void)A; (void)rsa; (void)csa; (void)B; (void)rsb; (void)csb;
    (void)beta; (void)C; (void)ldc; (void)bias; (void)relu;
    return 0;
#endif
}
