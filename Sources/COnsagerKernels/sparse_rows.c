// A weight gradient gᵀ·x whose gᵀ has rows (hidden units) that are mostly zero: a ReLU unit is
// mostly off or mostly on over a batch of non-negative inputs (a unit's sum leans one way), so a
// quarter to a half of the rows of gᵀ hold under a fifth of nonzeros. gemm.c gives the FMA kernels
// the other rows (through a row map) and this file the sparse ones: each row of C accumulates, in k
// order, only the rows of B its nonzeros select (Gustavson's order), B packed in blocks of 64 Float
// (32 Double) columns that every sparse row reads in turn (in L1 for a batch of 100: 25.6 KB).
// A product whose A is sparse in every row (an RBM's binary samples times W) is computed here whole
// (onsager_sparse_product; its blocks, K up to 1024, are read from L2, or part by part from L1 by
// every row in turn where they pass L1: sr_sub_rows).
//
// The same bits as the kernels: within a K block (K <= KC: one), the kernels compute each element
// of C as one chain of FMAs over k from +0, then store α·sum (+ bias) for the first block and
// 1·C + α·sum for the others; this loop runs the same chains without their terms of a zero value,
// which leave a finite sum unchanged, and folds them into C alike (B is finite: the tasks check it as
// they copy it; the exception is a sum that underflowed to -0, skip_zeros.c). A value that is ∞ or NaN is nonzero,
// so it is kept. With AVX-512 (rows listed by loads, or by gathers from an A stored by columns
// where a strip of it is not transposed first, and compresses in registers, four 512-bit
// sums a row) and with AVX2 (rows listed eight values at a time from an A stored by rows or, for
// Float, from a transposed strip of an A stored by columns, else value by value down a column;
// eight 256-bit sums a row: the AVX2
// kernels' FMAs, the same chain); not with the portable kernels, which round a·b before adding,
// so that no loop could match them.
#include "onsager_kernels.h"
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include "templates/packed_products.h"
#include "templates/transpose.h"
#if defined(__x86_64__) && defined(__clang__) && !defined(ONSAGER_PORTABLE_ONLY)
#define SR_X86 1
#include <immintrin.h>
#endif

// A row of A is sparse (computed here) when at most this share of its K values is nonzero. The
// loop loads a vector of B for every FMA: 0.57 of the FMA peak per term on Zen 4 against the
// kernels' 0.92, so rows pay up to about 0.6 nonzero there (limits of 0.6-0.7 ran 1.33-1.34x the
// all-zero rows alone, 0.5 1.29x: Benchmarks/SPEED-LOG.md); half leaves a margin for cores whose
// FMA rate is higher beside their loads (two 512-bit FMA units; not measured).
#ifndef SR_SHARE
#define SR_SHARE 0.5
#endif
// A product whose A is sparse in every row (an RBM's binary samples, images with a dark
// background) is computed by the loop whole, row by row, when A holds at most this share of
// nonzeros and each row at most SR_PRODUCT_ROW_SHARE (see onsager_sparse_product; measured in
// Benchmarks/SPEED-LOG.md, twenty-ninth session), or SR_PRODUCT_SHARE_PASSES where its B block is
// read in passes (sr_sub_rows: 40 % ones ran 1.00x the FMA kernels then, 35 % 1.12x).
#ifndef SR_PRODUCT_SHARE
#define SR_PRODUCT_SHARE 0.25
#endif
#ifndef SR_PRODUCT_SHARE_PASSES
#define SR_PRODUCT_SHARE_PASSES 0.35
#endif
#ifndef SR_PRODUCT_ROW_SHARE
#define SR_PRODUCT_ROW_SHARE 0.5
#endif

static _Thread_local onsager_scratch sr_list_k, sr_list_v, sr_rows, sr_block, sr_strip, sr_state;
static _Thread_local int sr_thread = 1;   // the calling thread's switch (tests and labs)
static _Thread_local int sr_thread_sub = -1;   // and of the passes (sr_sub_rows; -1: the default, on)
static _Thread_local long sr_products = 0;

void onsager_set_thread_sparse_rows(int on) { sr_thread = on != 0; }
void onsager_set_thread_sparse_passes(int on) { sr_thread_sub = on < 0 ? -1 : on != 0; }
long onsager_sparse_rows_product_count(void) { return sr_products; }

long onsager_sparse_row_limit(long K, long kc) {
#if SR_X86
    if (sr_thread && onsager_isa_level() >= 1 && K <= kc && K > 0) return (long)(SR_SHARE * (double)K);
#endif
    (void)K;
    (void)kc;
    return 0;
}

// Whether a Float product the masked adds would take (zero_one_gemm.c: a 0/1 A on AMD's AVX-512
// cores) runs faster on gemm.c's rows path, its sparse rows computed here and the others by the FMA
// kernels: A stored by columns (an RBM's vᵀ of samples in its weight gradient vᵀ·h), no epilogue,
// the rows path eligible. Estimated from four windows of 16 rows spread over A, in units of a
// kernel's term: a row of n nonzeros (n within the limit) costs SR_TERM_COST·n here, a denser row
// K in the kernels, and any row ZO_TERM_COST·K in the masked adds. Zen 4, 784x500x100, A by
// columns with 0/1 values (Benchmarks/sparse-product-lab.c, TRANSA=1): 10 % ones 2.56x the masked
// adds at one thread, 13 % 1.65x at two; 30 % 1.37x and 1.09x; 40 % 1.09x and 0.90x; 50 % (half
// the rows over the limit) 0.80x at one thread. The costs put the even point at 35 % in rows under
// the limit (the loop's term at half the kernels' rate, the masked adds at 1.43x theirs).
#define SR_TERM_COST 2.0
#define ZO_TERM_COST 0.7
int onsager_sparse_rows_before_zero_one(long M, long N, long K, const float *A, long rsa, long csa, long csb,
                                        int beta_zero, int epilogue, long kc) {
    if (rsa != 1 || csa == 1 || epilogue || !onsager_get_zero_one() ||
        !onsager_skip_rows_eligible(M, N, K, rsa, csb, beta_zero))
        return 0;
    long limit = onsager_sparse_row_limit(K, kc);
    if (limit <= 0 || M < 64) return 0;
    // First the masked adds' own look: an A of other values (an MLP's gᵀ) is not theirs, and its
    // scan would be wasted.
    if (!onsager_zero_one_look(M, K, A, rsa, csa)) return 0;
    double rows_path = 0, masked_adds = 0;
    for (long w = 0; w < 4; w++) {
        long i0 = w * (M - 16) / 3, count[16] = {0};
        for (long k = 0; k < K; k++)
            for (int t = 0; t < 16; t++) count[t] += A[i0 + t + k * csa] != 0;
        for (int t = 0; t < 16; t++) {
            rows_path += count[t] <= limit ? SR_TERM_COST * (double)count[t] : (double)K;
            masked_adds += ZO_TERM_COST * (double)K;
        }
    }
    return rows_path < masked_adds;
}

#if SR_X86
// A row's nonzeros (a[k·lda]: lda is M for a weight gradient's gᵀ stored by columns, 1 for an A
// stored by rows), in k order, to kidx and vals (room for limit + 16); returns how many, or a
// number over limit once there are more (then stops). Value by value here (AVX2, and where the
// offsets pass 32 bits).
#define SR_ROW_SCALAR(T, S)                                                                        \
    static long S##_sr_row_scalar(long K, const T *a, long lda, long limit, int32_t *kidx, T *vals) { \
        long p = 0;                                                                                \
        for (long k = 0; k < K && p <= limit; k++) {                                               \
            kidx[p] = (int32_t)k;                                                                  \
            vals[p] = a[k * lda];                                                                  \
            p += vals[p] != 0;                                                                     \
        }                                                                                          \
        return p;                                                                                  \
    }
SR_ROW_SCALAR(float, f32)
SR_ROW_SCALAR(double, f64)
// With AVX2, for an A stored by rows (lda 1): eight values of k at a time, the nonzeros and their
// k packed to the front of a register by a permutation from a table (onsager_compress_permutations)
// and stored whole. Zen 4 with its AVX2 kernels, rbm-cd1-mnist (its v·W and h·Wᵀ by the sparse
// product; perf of the whole run): the listing 5.5 % of the samples value by value, 3.1 % so. (A
// weight gradient's gᵀ, read down its columns, is listed from transposed strips where they pay,
// f32_sr_strip_avx2 below, else value by value: AVX-512's gathers listed it no faster than the
// scalar loop.)
__attribute__((target("avx2,popcnt"))) static long f32_sr_row_avx2(long K, const float *a, long limit, int32_t *kidx, float *vals,
                                                           const uint8_t (*perm)[8]) {
    long p = 0, k = 0;
    const __m256i step = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (; k + 8 <= K && p <= limit; k += 8) {
        __m256 v = _mm256_loadu_ps(a + k);
        unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NEQ_UQ));
        __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)perm[m]));
        __m256i ks = _mm256_add_epi32(step, _mm256_set1_epi32((int)k));
        _mm256_storeu_si256((__m256i *)(kidx + p), _mm256_permutevar8x32_epi32(ks, idx));
        _mm256_storeu_ps(vals + p, _mm256_permutevar8x32_ps(v, idx));
        p += __builtin_popcount(m);
    }
    for (; k < K && p <= limit; k++) {
        kidx[p] = (int32_t)k;
        vals[p] = a[k];
        p += vals[p] != 0;
    }
    return p;
}
// The same with AVX-512: sixteen (eight) values of k at a time gathered (loaded, from an A stored
// by rows), the nonzeros compressed in registers and stored whole (a compressing store to memory
// is slow on Zen 4).
__attribute__((target("avx512f"))) static long f32_sr_row(long K, const float *a, long lda, long limit, int32_t *kidx, float *vals) {
    long p = 0, k = 0;
    if ((double)K * lda < 2e9 / sizeof(float)) {
        const __m512i step = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        const __m512i off = _mm512_mullo_epi32(step, _mm512_set1_epi32((int)lda));
        for (; k < K && p <= limit; k += 16) {
            __mmask16 in = K - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1);
            __m512 v = lda == 1 ? _mm512_maskz_loadu_ps(in, a + k)   /* (A by rows: in place) */
                                : _mm512_mask_i32gather_ps(_mm512_setzero_ps(), in, off, a + k * lda, 4);
            __mmask16 nz = _mm512_mask_cmp_ps_mask(in, v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
            __m512i ks = _mm512_add_epi32(step, _mm512_set1_epi32((int)k));
            _mm512_storeu_si512(kidx + p, _mm512_maskz_compress_epi32(nz, ks));
            _mm512_storeu_ps(vals + p, _mm512_maskz_compress_ps(nz, v));
            p += __builtin_popcount(nz);
        }
        return p;
    }
    return f32_sr_row_scalar(K, a, lda, limit, kidx, vals);
}
__attribute__((target("avx512f,avx512vl"))) static long f64_sr_row(long K, const double *a, long lda, long limit, int32_t *kidx, double *vals) {
    long p = 0, k = 0;
    if ((double)K * lda < 2e9 / sizeof(double)) {
        const __m256i step = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
        const __m256i off = _mm256_mullo_epi32(step, _mm256_set1_epi32((int)lda));
        for (; k < K && p <= limit; k += 8) {
            __mmask8 in = K - k >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (K - k)) - 1);
            __m512d v = lda == 1 ? _mm512_maskz_loadu_pd(in, a + k)
                                 : _mm512_mask_i32gather_pd(_mm512_setzero_pd(), in, off, a + k * lda, 8);
            __mmask8 nz = _mm512_mask_cmp_pd_mask(in, v, _mm512_setzero_pd(), _CMP_NEQ_UQ);
            __m256i ks = _mm256_add_epi32(step, _mm256_set1_epi32((int)k));
            _mm256_storeu_si256((__m256i *)(kidx + p), _mm256_maskz_compress_epi32(nz, ks));
            _mm512_storeu_pd(vals + p, _mm512_maskz_compress_pd(nz, v));
            p += __builtin_popcount(nz);
        }
        return p;
    }
    return f64_sr_row_scalar(K, a, lda, limit, kidx, vals);
}
// A weight gradient's gᵀ is stored by columns (row i of A is column i of g): its rows, read in
// place, take a gather per sixteen (eight) values. Where a strip of sixteen (eight) consecutive
// rows holds several to list, it is transposed once into buf (row t at buf + t·ldb, zeros past K)
// by loads across the strip and in-register transposes, and each row is then listed from there
// by plain loads: the same values, so the same lists. 784x500x200 with A 30 % ones (an RBM's
// weight gradient over [data; chains]; Intel Xeon model 207, one thread): the listing 13 % of
// the product's samples by gathers.
typedef float sr_f32x16 __attribute__((vector_size(64)));
typedef double sr_f64x8 __attribute__((vector_size(64)));
__attribute__((target("avx512f"))) static void f32_sr_strip(long K, long cols, const float *a, long lda, float *buf, long ldb) {
    __mmask16 cm = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
    for (long k0 = 0; k0 < K; k0 += 16) {
        sr_f32x16 r[16];
        _Pragma("clang loop unroll(full)") for (int t = 0; t < 16; t++)
            r[t] = k0 + t < K ? (sr_f32x16)_mm512_maskz_loadu_ps(cm, a + (k0 + t) * lda) : (sr_f32x16){0};
        ONSAGER_TRANSPOSE_16(r)
        for (long q = 0; q < cols; q++) _mm512_storeu_ps(buf + q * ldb + k0, (__m512)r[q]);
    }
}
__attribute__((target("avx512f"))) static void f64_sr_strip(long K, long cols, const double *a, long lda, double *buf, long ldb) {
    __mmask8 cm = cols >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << cols) - 1);
    for (long k0 = 0; k0 < K; k0 += 8) {
        sr_f64x8 r[8];
        _Pragma("clang loop unroll(full)") for (int t = 0; t < 8; t++)
            r[t] = k0 + t < K ? (sr_f64x8)_mm512_maskz_loadu_pd(cm, a + (k0 + t) * lda) : (sr_f64x8){0};
        ONSAGER_TRANSPOSE_8(r)
        for (long q = 0; q < cols; q++) _mm512_storeu_pd(buf + q * ldb + k0, (__m512d)r[q]);
    }
}
// The same with AVX2 for Float, in strips of eight rows (8 x 8 blocks), a strip taken where it
// holds two rows to list: value by value, a strided read and a store per value of A, the listing
// of mlp-small-step's weight gradient gᵀ took 1.5 % of the step on Zen 4 with its AVX2 kernels,
// 0.9 % so.
typedef float sr_f32x8 __attribute__((vector_size(32)));
__attribute__((target("avx2"))) static void f32_sr_strip_avx2(long K, long cols, const float *a, long lda, float *buf, long ldb) {
    const __m256i cm = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(cols < 8 ? cols : 8)),
                                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (long k0 = 0; k0 < K; k0 += 8) {
        sr_f32x8 r[8];
        _Pragma("clang loop unroll(full)") for (int t = 0; t < 8; t++)
            r[t] = k0 + t < K ? (sr_f32x8)_mm256_maskload_ps(a + (k0 + t) * lda, cm) : (sr_f32x8){0};
        ONSAGER_TRANSPOSE_8(r)
        for (long q = 0; q < cols; q++) _mm256_storeu_ps(buf + q * ldb + k0, (__m256)r[q]);
    }
}
// A block of W = 256 bytes of B's columns (64 Float, 32 Double): 4 vectors of sums a row with
// AVX-512, 8 with AVX2 (half the registers either way).
#define SR_JOB(T, S)                                                                               \
    enum { S##_SR_W = 256 / (int)sizeof(T) };                                                      \
    typedef struct {                                                                               \
        long N, K, rsb, ldc, ns, per, row_parts;                                                   \
        long kcb;   /* the kernels' K block: C's sums folded in at its ends (K: one block) */      \
        long sub;   /* rows of B per pass over the rows (0: all of K in one pass) */               \
        int relu;                                                                                  \
        T alpha, one;   /* (one: the kernels' β of later K blocks, a value not a constant) */      \
        const T *B, *bias, *vals;                                                                  \
        const int32_t *kidx, *start, *end, *rows, *clist;   /* (a row's list: start ... end) */    \
        const uint8_t *ckeep;                                                                      \
        const T *fill;                                                                             \
        long Cn;                                                                                   \
        T *C;                                                                                      \
        _Atomic int failed;                                                                        \
    } S##_sr_job;
SR_JOB(float, f32)
SR_JOB(double, f64)
// Task t: column blocks (t / row_parts)·per ... of C's sparse rows, the (t % row_parts)-th of
// row_parts equal runs of them, with vectors of BYTES (ISA: the suffix, TARGET: its target
// attribute).
#define SR_TASK(T, S, ISA, BYTES, TARGET)                                                          \
    typedef T S##_srv_##ISA __attribute__((vector_size(BYTES)));                                   \
    typedef T S##_sruv_##ISA __attribute__((vector_size(BYTES), aligned(sizeof(T))));              \
    __attribute__((target(TARGET))) static void S##_sr_task_##ISA(void *vctx, long t) {            \
        typedef S##_srv_##ISA V;                                                                   \
        typedef S##_sruv_##ISA UV;                                                                 \
        enum { VL = BYTES / (int)sizeof(T), NV = 256 / BYTES };                                    \
        S##_sr_job *j = (S##_sr_job *)vctx;                                                        \
        const long W = S##_SR_W;                                                                   \
        T *buf = (T *)onsager_scratch_reserve(&sr_block, j->K * W * (long)sizeof(T));              \
        if (!buf) { atomic_store(&j->failed, 1); return; }                                         \
        long nb = (j->N + W - 1) / W;                                                              \
        long tb = t / j->row_parts, tr = t % j->row_parts;                                         \
        long s0 = tr * j->ns / j->row_parts, s1 = (tr + 1) * j->ns / j->row_parts;                 \
        /* With sub: every row's sums carried from one sub-block of B to the next here (acc, then  \
           c at a K block's end) and its place in its list; none when there is no memory. */       \
        long sub = j->sub;                                                                         \
        V *state = sub ? (V *)onsager_scratch_reserve(&sr_state, (s1 - s0) * (2 * NV * (long)sizeof(V) + 8)) : 0; \
        if (!state) sub = 0;                                                                       \
        long *pos = state ? (long *)(state + 2 * NV * (s1 - s0)) : 0;                              \
        for (long jb = tb * j->per; jb < nb && jb < (tb + 1) * j->per; jb++) {                     \
            if (atomic_load_explicit(&j->failed, memory_order_relaxed)) break;   /* (another task's B) */ \
            long j0 = jb * W, cols = j->N - j0 < W ? j->N - j0 : W;                                \
            /* B's block copied (a ragged block padded with zeros) and checked as it is: a zero term \
               left out must not be 0·∞ (bad: x - x summed, NaN where B is not finite). */         \
            V bad = (V){0};                                                                        \
            for (long k = 0; k < j->K; k++) {                                                      \
                const T *src = j->B + k * j->rsb + j0;                                             \
                T *dst = buf + k * W;   /* (64-byte aligned: buf is, and a row is 256 bytes) */    \
                if (cols < W) {                                                                    \
                    memcpy(dst, src, sizeof(T) * (size_t)cols);                                    \
                    memset(dst + cols, 0, sizeof(T) * (size_t)(W - cols));                         \
                    src = dst;                                                                     \
                }                                                                                  \
                _Pragma("clang loop unroll(full)") for (int u = 0; u < NV; u++) {                  \
                    V x = *(const UV *)(src + u * VL);                                             \
                    *(V *)(dst + u * VL) = x;                                                      \
                    bad += x - x;                                                                  \
                }                                                                                  \
            }                                                                                      \
            int finite = 1;                                                                        \
            _Pragma("clang loop unroll(full)") for (int l = 0; l < VL; l++) finite &= bad[l] == 0; \
            if (!finite) {                                                                         \
                atomic_store(&j->failed, 1);                                                       \
                break;                                                                             \
            }                                                                                      \
            /* The block's bias (a ragged block's padded with zeros), and whether a row's sums go  \
               to C in place or through `out` (relu, a ragged block, B's compact columns). */      \
            T padded[S##_SR_W];                                                                    \
            const T *bb = j->bias && cols < W ? padded : j->bias ? j->bias + j0 : 0;               \
            if (bb == padded) {                                                                    \
                memset(padded, 0, sizeof padded);                                                  \
                memcpy(padded, j->bias + j0, sizeof(T) * (size_t)cols);                            \
            }                                                                                      \
            int staged = j->ckeep || j->relu || cols < W;                                          \
            /* Passes over the rows: one for all of K, each row's sums in registers throughout;    \
               with sub, one per sub-block of B within a K block (B's rows q0 ... q1 - 1, read     \
               from L1 by every row in turn), the sums kept in state between them. */              \
            for (long q0 = 0; q0 < j->K;) {                                                        \
                long kb0 = q0 / j->kcb * j->kcb, kb1 = kb0 + j->kcb < j->K ? kb0 + j->kcb : j->K;  \
                long q1 = !sub ? j->K : q0 + sub < kb1 ? q0 + sub : kb1;                           \
                /* One row at a time: its vectors of sums stay in registers over its nonzeros (two \
                   rows interleaved, eight chains in flight, ran 0.96x with AVX-512: the loads, not \
                   the FMA latency, bound the loop). */                                            \
                for (long s = s0; s < s1; s++) {                                                   \
                    V acc[NV], c[NV];                                                              \
                    V *st = sub ? state + 2 * NV * (s - s0) : 0;                                   \
                    const int32_t *kk = j->kidx + j->start[s];                                     \
                    const T *vv = j->vals + j->start[s];                                           \
                    long p = sub && q0 > 0 ? pos[s - s0] : 0, e = j->end[s] - j->start[s];         \
                    if (sub && q0 > kb0)                                                           \
                        _Pragma("clang loop unroll(full)") for (int u = 0; u < NV; u++) acc[u] = st[u]; \
                    else                                                                           \
                        _Pragma("clang loop unroll(full)") for (int u = 0; u < NV; u++) acc[u] = (V){0}; \
                    if (sub && kb0 > 0)                                                            \
                        _Pragma("clang loop unroll(full)") for (int u = 0; u < NV; u++) c[u] = st[NV + u]; \
                    /* K block by K block as the kernels: each block's chain from +0, then stored as \
                       they store it (α·sum + bias, then 1·C + α·sum), each one expression contracted \
                       alike; an empty block too (-0 + +0 is +0). A sub-block's chain goes on from \
                       where the one before left it (stored and loaded: the same values). */       \
                    for (long k0 = kb0; k0 < q1; k0 += j->kcb) {   /* (one block with sub) */      \
                        long k1 = k0 + j->kcb < q1 ? k0 + j->kcb : q1;                             \
                        if (k0 > kb0)                                                              \
                            _Pragma("clang loop unroll(full)") for (int u = 0; u < NV; u++) acc[u] = (V){0}; \
                        for (; p < e && kk[p] < k1; p++) {                                         \
                            V a = vv[p] - (V){0};                                                  \
                            const T *b = buf + (long)kk[p] * W;                                    \
                            _Pragma("clang loop unroll(full)") for (int u = 0; u < NV; u++)        \
                                acc[u] = __builtin_elementwise_fma(a, *(const V *)(b + u * VL), acc[u]); \
                        }                                                                          \
                        if (k1 < kb1 && sub) break;   /* (the sub-block ends inside its K block) */ \
                        if (k0 > 0)                                                                \
                            _Pragma("clang loop unroll(full)") for (int u = 0; u < NV; u++)        \
                                c[u] = j->one * c[u] + j->alpha * acc[u];                          \
                        else if (bb)                                                               \
                            _Pragma("clang loop unroll(full)") for (int u = 0; u < NV; u++)        \
                                c[u] = j->alpha * acc[u] + *(const UV *)(bb + u * VL);             \
                        else                                                                       \
                            _Pragma("clang loop unroll(full)") for (int u = 0; u < NV; u++)        \
                                c[u] = j->alpha * acc[u];                                          \
                    }                                                                              \
                    if (sub && q1 < j->K) {                                                        \
                        pos[s - s0] = p;                                                           \
                        if (q1 < kb1)                                                              \
                            _Pragma("clang loop unroll(full)") for (int u = 0; u < NV; u++) st[u] = acc[u]; \
                        else                                                                       \
                            _Pragma("clang loop unroll(full)") for (int u = 0; u < NV; u++) st[NV + u] = c[u]; \
                        continue;                                                                  \
                    }                                                                              \
                    T *row = j->C + (long)j->rows[s] * j->ldc;                                     \
                    T out[S##_SR_W + 16];   /* (onsager_expand_row reads 16 past what it uses) */  \
                    T *dst = staged ? out : row + j0;                                              \
                    _Pragma("clang loop unroll(full)") for (int u = 0; u < NV; u++) *(UV *)(dst + u * VL) = c[u]; \
                    if (!staged) continue;                                                         \
                    /* max(C, 0) as the kernels' epilogue (NaN kept, -0 made +0). */               \
                    for (long c = 0; j->relu && c < cols; c++)                                     \
                        out[c] = out[c] > 0 ? out[c] : (out[c] == out[c] ? (T)0 : out[c]);         \
                    if (j->ckeep) {                                                                \
                        /* B's compact columns: spread over C's columns from this block's first kept \
                           one (C's first, for the first block) to the next block's. */            \
                        long o0 = jb == 0 ? 0 : j->clist[j0], o1 = j0 + W < j->N ? j->clist[j0 + W] : j->Cn; \
                        onsager_expand_row_##S(o1 - o0, out, row + o0, j->ckeep + o0, j->fill + o0, 0); \
                    } else {                                                                       \
                        memcpy(row + j0, out, sizeof(T) * (size_t)cols);                           \
                    }                                                                              \
                }                                                                                  \
                q0 = q1;                                                                           \
            }                                                                                      \
        }                                                                                          \
        onsager_scratch_trim(&sr_block);                                                           \
        onsager_scratch_trim(&sr_state);                                                           \
    }
SR_TASK(float, f32, avx512, 64, "avx512f")
SR_TASK(double, f64, avx512, 64, "avx512f")
SR_TASK(float, f32, avx2, 32, "avx2,fma")
SR_TASK(double, f64, avx2, 32, "avx2,fma")
#endif

// C's rows whose keep mark is 0 (every row, without keep) = α·A·B (+ bias, then max(·, 0) with
// relu), A (M x K) with A[i·rsa + k·csa], B (K x N) by rows (rsb apart), each row at most `limit`
// nonzeros and all of them at most max_total (or any number, with -1). With ckeep, B is the compact
// copy of a B whose all-zero columns were dropped (gemm.c's B-columns path): each row is spread
// over C's Cn columns, fill's value where ckeep marks 0 (clist: the columns kept). B must be
// finite (a zero term left out must not be 0·∞): the tasks check each block as they copy it and
// fail (gemm.c's rows path and the sparse product rely on this). Returns 0 without
// AVX2, memory or rows within the limits, or for a B not finite (C's rows then unfinished: the
// caller computes them).
#if SR_X86
// Rows of B per pass over the rows (0: one pass) for a product of K rows in K blocks of kcb.
// Each row's terms read its block of B, K x 256 bytes, from L2 once that passes L1; in passes over
// parts of at most SR_SUB_L1 of L1 (a K block in parts of one size, its last part and a shorter
// last block's the rest) every row reads the part from L1 and carries its sums to the next pass.
// Intel Xeon model 207 (48 KB L1), one thread, 200x500x784
// with A 30 % ones (Benchmarks/sparse-product-lab.c): 0.96x the FMA kernels in one pass; 1.23-1.26x
// with one pass per K block of 196 (Intel's blocking: SR_SUB_L1 1.05-2.5), 1.18x in halves of it
// (0.6-0.8); under the general blocking (one K block) 1.04x, 1.36x, 1.40x, 1.30x, 1.22x in parts
// of 0.8, 1.05, 1.5 and 2.5 of L1. 13 % ones 2.01 -> 2.06x, 40 % 0.73 -> 1.00x; the AVX2 loop 30 %
// ones 1.40 -> 1.79x its kernels. Zen 4 (32 KB L1, one K block), 200x500x784: 30 % ones 1.91x
// the FMA kernels and 1.38x the masked adds (zero_one_gemm.c) in parts of 1.25 of L1 (1.27-1.36x
// in parts of 0.8-1.5, 1.21x in 2.5), where one pass was not taken; 13 % 3.13 -> 3.40x; AVX2
// 30 % 1.77x its kernels. Not measured on Zen 5.
#ifndef SR_SUB_L1
#define SR_SUB_L1 1.25
#endif
static long sr_sub_rows(long K, long kcb) {
    int on = sr_thread_sub != 0;
    long fit = (long)(SR_SUB_L1 * (double)onsager_l1_cache_bytes()) / 256;
    long kb = kcb < K ? kcb : K;
    if (!on || K <= fit) return 0;
    long parts = (kb + fit - 1) / fit;
    return (kb + parts - 1) / parts;
}
#define SR_PRODUCT(T, S)                                                                           \
    /* Listing rows s0 ... s1 - 1 (of ns, A's rows `rows`) into kidx and vals. */                  \
    typedef struct {                                                                               \
        long K, M, rsa, csa, limit, max_total;                                                     \
        int level;                                                                                 \
        long ns, chunks;                                                                           \
        const T *A;                                                                                \
        const int32_t *rows;                                                                       \
        int32_t *start, *end;   /* each row's list: start ... end (chunks leave room between) */   \
        int32_t *kidx;                                                                             \
        T *vals;                                                                                   \
        _Atomic int failed;                                                                        \
    } S##_sr_list_job;                                                                             \
    /* From position p: their starts (and ends) written, the position after them returned, or -1 (a \
       row over the limit, the total over max_total, no memory for a strip). */                    \
    static long S##_sr_list_rows(S##_sr_list_job *L, long s0, long s1, long p) {                   \
        const long p0 = p;   /* (a chunk's count: p - p0) */                                       \
        const long K = L->K, M = L->M, csa = L->csa, limit = L->limit;                             \
        const int level = L->level;                                                                \
        const int32_t *rows = L->rows;                                                             \
        const T *A = L->A;                                                                         \
        int32_t *kidx = L->kidx;                                                                   \
        T *vals = L->vals;                                                                         \
        const uint8_t (*perm)[8] = (const uint8_t (*)[8])onsager_compress_permutations();          \
        /* A by columns (a weight gradient's gᵀ): strips of VS rows (16 Float or 8 Double with     \
           AVX-512, 8 Float with AVX2) holding at least 4 (AVX2: 2) to list are transposed         \
           (S##_sr_strip, f32_sr_strip_avx2) and listed from there. */                             \
        const int strips = (level >= 2 || (level == 1 && sizeof(T) == 4)) && L->rsa == 1 &&        \
                           csa != 1;                                                               \
        const long VS = (level >= 2 ? 64 : 32) / (long)sizeof(T);                                  \
        const long ldb = (K + VS - 1) / VS * VS, least = level >= 2 ? 4 : 2;                       \
        T *strip = strips ? (T *)onsager_scratch_reserve(&sr_strip, VS * ldb * (long)sizeof(T)) : 0; \
        if (strips && !strip) return -1;                                                           \
        long strip0 = -1;   /* the first row of the strip in strip (-1: none) */                   \
        for (long s = s0, window = -1; s < s1; s++) {                                              \
            L->start[s] = (int32_t)p;                                                              \
            const T *a = A + rows[s] * L->rsa;                                                     \
            long lda = csa;                                                                        \
            if (strips && (window < 0 || rows[s] >= window + VS)) {                                \
                window = rows[s];                                                                  \
                long c = 1;                                                                        \
                while (c < least && s + c < s1 && rows[s + c] < window + VS) c++;                  \
                strip0 = c < least ? -1 : window;                                                  \
                long cols = M - window < VS ? M - window : VS;                                     \
                if (strip0 >= 0 && level >= 2)                                                     \
                    S##_sr_strip(K, cols, A + strip0, csa, strip, ldb);                            \
                else if (strip0 >= 0)   /* (AVX2: Float only, see strips) */                       \
                    f32_sr_strip_avx2(K, cols, (const float *)A + strip0, csa, (float *)strip, ldb); \
            }                                                                                      \
            if (strips && strip0 >= 0) {                                                           \
                a = strip + (rows[s] - strip0) * ldb;                                              \
                lda = 1;                                                                           \
            }                                                                                      \
            long n = level >= 2 ? S##_sr_row(K, a, lda, limit, kidx + p, vals + p)                 \
                     : sizeof(T) == 4 && lda == 1                                                  \
                         ? f32_sr_row_avx2(K, (const float *)a, limit, kidx + p, (float *)(vals + p), perm) \
                         : S##_sr_row_scalar(K, a, lda, limit, kidx + p, vals + p);                \
            if (n > limit) return -1; /* (a weight gradient's marks promise at most limit) */      \
            p += n;                                                                                \
            L->end[s] = (int32_t)p;                                                                \
            if (L->max_total >= 0 && p - p0 > L->max_total) return -1;                             \
        }                                                                                          \
        return p;                                                                                  \
    }                                                                                              \
    /* Chunk t of the rows, from its slots: each row's at its limit, 16 values between chunks. */  \
    static void S##_sr_list_task(void *vctx, long t) {                                             \
        S##_sr_list_job *L = (S##_sr_list_job *)vctx;                                              \
        long s0 = t * L->ns / L->chunks, s1 = (t + 1) * L->ns / L->chunks;                         \
        if (S##_sr_list_rows(L, s0, s1, s0 * L->limit + 16 * t) < 0) atomic_store(&L->failed, 1);  \
    }                                                                                              \
    static int S##_sr_list_and_run(long M, long N, long K, T alpha, const T *A, long rsa, long csa, \
                                   const uint8_t *keep, long limit, long max_total, const T *B, long rsb, \
                                   const T *bias, int relu, T *C, long ldc, const uint8_t *ckeep,  \
                                   const int32_t *clist, const T *fill, long Cn, long kcb, int level) { \
        long ns = 0;                                                                               \
        volatile T one = 1;   /* (a value, so that 1·C + α·sum contracts as the kernels' β·C + α·sum) */ \
        int32_t *rows = (int32_t *)onsager_scratch_reserve(&sr_rows, (3 * M + 1) * (long)sizeof(int32_t)); \
        if (!rows) return 0;                                                                       \
        for (long i = 0; i < M; i++)                                                               \
            if (!keep || !keep[i]) rows[ns++] = (int32_t)i;                                        \
        int32_t *start = rows + M, *end = rows + 2 * M;                                            \
        /* Many rows: listed in chunks as pool tasks, each row in a slot at its limit (a chunk's   \
           slots 16 values apart from the next's: a row's list may be written 16 values past its   \
           end), each row's end kept; a total to check (the sparse product's) summed after them (a \
           chunk alone rarely passes it: an A over the total is listed whole before it is left). */ \
        long nt = onsager_get_num_threads();                                                       \
        long chunks = nt > 1 && ns >= 64 && (double)ns * K >= 5e4 && !onsager_pool_contended() ? 2 * nt : 1; \
        if (chunks > 1 && (double)ns * limit + 16.0 * chunks > INT32_MAX - 16) chunks = 1;   /* (32-bit starts) */ \
        /* Room for every row at its limit, or in one run for the total allowed and one row more. */ \
        long room = chunks == 1 && max_total >= 0 && max_total + limit < ns * limit ? max_total + limit \
                                                                                  : ns * limit + 16 * (chunks - 1); \
        if (room > INT32_MAX - 16) return 0;   /* (the lists' starts are 32-bit) */                \
        int32_t *kidx = (int32_t *)onsager_scratch_reserve(&sr_list_k, (room + 16) * (long)sizeof(int32_t)); \
        T *vals = (T *)onsager_scratch_reserve(&sr_list_v, (room + 16) * (long)sizeof(T));         \
        if (!kidx || !vals) return 0;                                                              \
        S##_sr_list_job lj = {K, M, rsa, csa, limit, max_total, level, ns, chunks, A, rows, start, end, kidx, vals, 0}; \
        if (chunks > 1) {                                                                          \
            onsager_parallel_for(chunks, S##_sr_list_task, &lj);                                   \
            if (atomic_load(&lj.failed)) return 0;                                                 \
            if (max_total >= 0) {   /* (a chunk held its own rows to the total, not all of them) */ \
                long total = 0;                                                                    \
                for (long s = 0; s < ns; s++) total += end[s] - start[s];                          \
                if (total > max_total) return 0;                                                   \
            }                                                                                      \
        } else if (S##_sr_list_rows(&lj, 0, ns, 0) < 0) {                                          \
            return 0;                                                                              \
        }                                                                                          \
        S##_sr_job job = {N, K, rsb, ldc, ns, 1, 1, kcb, sr_sub_rows(K, kcb), relu, alpha, one, B, bias, \
                          vals, kidx, start, end, rows, clist,                                     \
                          ckeep, fill, Cn, C, 0};                                                  \
        void (*task)(void *, long) = level >= 2 ? S##_sr_task_avx512 : S##_sr_task_avx2;           \
        long nb = (N + S##_SR_W - 1) / S##_SR_W;                                                   \
        int split = nt > 1 && 2.0 * N * K * ns > 4e5 && !onsager_pool_contended();                 \
        if (split) {                                                                               \
            /* Column blocks in equal runs, a multiple of the thread count (each packs its own B   \
               block; the rows' sums do not depend on who runs which block); with fewer blocks     \
               than two a thread, the rows in runs too (each run packs the block again). */        \
            long parts = nb < 4 * nt ? nb : 4 * nt;                                                \
            job.per = (nb + parts - 1) / parts;                                                    \
            long tasks = (nb + job.per - 1) / job.per;                                             \
            long want = (2 * nt + tasks - 1) / tasks;   /* row runs for two tasks a thread */      \
            if (tasks < 2 * nt) job.row_parts = want < ns ? want : (ns > 0 ? ns : 1);              \
            onsager_parallel_for(tasks * job.row_parts, task, &job);                               \
        } else {                                                                                   \
            job.per = nb;                                                                          \
            task(&job, 0);                                                                         \
        }                                                                                          \
        if (atomic_load(&job.failed)) return 0;                                                    \
        sr_products++;                                                                             \
        return 1;                                                                                  \
    }                                                                                              \
    static int S##_sr_run(long M, long N, long K, T alpha, const T *A, long rsa, long csa, const uint8_t *keep, \
                          long limit, long max_total, const T *B, long rsb,                        \
                          const T *bias, int relu, T *C, long ldc, const uint8_t *ckeep,           \
                          const int32_t *clist, const T *fill, long Cn, long kcb) {                \
        int level = onsager_isa_level();                                                           \
        if (level < 1 || limit <= 0) return 0;                                                     \
        int done = S##_sr_list_and_run(M, N, K, alpha, A, rsa, csa, keep, limit, max_total, B, rsb, bias, relu, \
                                       C, ldc, ckeep, clist, fill, Cn, kcb, level);                \
        /* (Whether done or not: a large A's lists are not kept.) */                               \
        onsager_scratch_trim(&sr_list_k);                                                          \
        onsager_scratch_trim(&sr_list_v);                                                          \
        onsager_scratch_trim(&sr_rows);                                                            \
        onsager_scratch_trim(&sr_strip);                                                           \
        return done;                                                                               \
    }                                                                                              \
    int onsager_sparse_rows_##S(long M, long N, long K, T alpha, const T *A, long lda, const uint8_t *keep, \
                                long limit, const T *B, long rsb, T *C, long ldc, const uint8_t *ckeep, \
                                const int32_t *clist, const T *fill, long Cn) {                    \
        return S##_sr_run(M, N, K, alpha, A, 1, lda, keep, limit, -1, B, rsb, 0, 0, C, ldc, ckeep, clist, fill, Cn, K); \
    }                                                                                              \
    int onsager_sparse_product_##S(long M, long N, long K, T alpha, const T *A, long rsa, long csa, const T *B, \
                                   long rsb, long csb, T beta, T *C, long ldc, const T *bias, int relu, long kcb) { \
        /* A and B stored by rows (x·W of an RBM's visible samples): a B stored by columns (x·Wᵀ)  \
           is transposed block by block, which ran 0.89-1.02x the masked adds at a fifth nonzero   \
           (B by rows 1.40x), and an A by columns is a weight gradient's (the hybrid above). */    \
        /* (K up to 1024: a task's block of B, K x 256 bytes, stays in L2.) */                     \
        if (!sr_thread || beta != 0 || K > 1024 || K < 64 || M < 16 || N < 64 || 2.0 * M * N * K < 2e6 || \
            csa != 1 || csb != 1 || onsager_isa_level() < 1 || !onsager_get_skip_zeros())          \
            return 0;                                                                              \
        /* Eight rows spread over A first: together at most the share (a tenth over), or A is      \
           not listed at all (a dense A is given up after three or four rows). */                  \
        double share = sr_sub_rows(K, kcb) ? SR_PRODUCT_SHARE_PASSES : SR_PRODUCT_SHARE;           \
        long seen = 0;                                                                             \
        for (long r = 0; r < 8; r++) {                                                             \
            const T *a = A + (r * (M - 1) / 7) * rsa;                                              \
            for (long k = 0; k < K; k++) seen += a[k] != 0;   /* (csa is 1) */                     \
            if (seen > 1.1 * share * 8 * K) return 0;                                              \
        }                                                                                          \
        /* (B's values are checked as the tasks copy its blocks: a B not finite fails them.) */    \
        return S##_sr_run(M, N, K, alpha, A, rsa, 1, 0, (long)(SR_PRODUCT_ROW_SHARE * K),          \
                          (long)(share * M * K), B, rsb, bias, relu, C, ldc, 0, 0, 0, N, kcb);     \
    }
#else
#define SR_PRODUCT(T, S)                                                                           \
    int onsager_sparse_rows_##S(long M, long N, long K, T alpha, const T *A, long lda, const uint8_t *keep, \
                                long limit, const T *B, long rsb, T *C, long ldc, const uint8_t *ckeep, \
                                const int32_t *clist, const T *fill, long Cn) {                    \
        (void)M; (void)N; (void)K; (void)alpha; (void)A; (void)lda; (void)keep; (void)limit;       \
        (void)B; (void)rsb; (void)C; (void)ldc; (void)ckeep; (void)clist; (void)fill; (void)Cn;    \
        return 0;                                                                                  \
    }                                                                                              \
    int onsager_sparse_product_##S(long M, long N, long K, T alpha, const T *A, long rsa, long csa, const T *B, \
                                   long rsb, long csb, T beta, T *C, long ldc, const T *bias, int relu, long kcb) { \
        (void)M; (void)N; (void)K; (void)alpha; (void)A; (void)rsa; (void)csa; (void)B; (void)rsb; \
        (void)csb; (void)beta; (void)C; (void)ldc; (void)bias; (void)relu; (void)kcb;              \
        return 0;                                                                                  \
    }
#endif
SR_PRODUCT(float, f32)
SR_PRODUCT(double, f64)
