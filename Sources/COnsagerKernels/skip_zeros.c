// Products whose A has columns (or rows) of zeros only skip them. In a network's products those
// are units that are off for every sample of a batch: a ReLU layer's output read by the next
// layer's forward product, the gradient the ReLU mask zeroed read by the backward product g·W
// (columns), and gᵀ in the weight gradient gᵀ·x (rows). A term a·b with a = ±0 leaves a sum
// unchanged when b is finite and the sum is not -0: it starts at +0, and a sum of finite terms is
// -0 only when every term before was -0 or a term underflowed to -0 (a product of magnitude under
// half the smallest subnormal, rounded to -0 by the FMA), after which a skipped +0 term would have
// made it +0. Short of that underflow, dropping the terms changes no bit of C: the FMA kernels
// (gemm_template.h, G_PLAN_KLIST) keep the K blocks of the product without them and read B's rows
// through the columns kept. A B stored by rows (read in place) has its rows left out checked for
// an infinity or NaN first (gemm.c); one stored by columns is checked while it is packed, and the
// product is then computed again with every term (0·∞ must give its NaN), which is why only
// products that overwrite C (beta = 0) take that layout. Rows (gemm.c): C's other rows computed
// through a row map, the rows left out given what the kernels store for a sum of +0, or, where
// they are rows with few nonzeros (counted: max_nonzeros), computed from those (sparse_rows.c). B's columns
// (gemm.c; a weight gradient gᵀ·h whose h has units off for the whole batch, or gᵀ·x with pixels
// dark in every image): C's other columns computed compact, chunk by chunk of rows, into a buffer
// from which each row is spread over C (onsager_expand_row), the columns left out given that same
// value; A must be finite (and the kept columns of B too where A's zero rows are dropped with them).
#include "onsager_kernels.h"
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include "templates/packed_products.h"
#if defined(__x86_64__) && defined(__clang__) && !defined(ONSAGER_PORTABLE_ONLY)
#include <immintrin.h>
#include <pthread.h>
#define SZ_AVX512 1
#endif


static _Atomic int sz_enabled = -1;   // -1 unset (ONSAGER_SKIP_ZEROS, else on), 0 off, 1 on
static _Thread_local int sz_thread = -1;   // the calling thread's own switch (-1: the process's)
static _Thread_local long sz_products = 0;
// Per slot (0: A's columns or rows, 1: B's columns, which a product with A's rows dropped nests
// inside): the marks, the list and the compact copy; and the fill row and compact bias of slot 1.
static _Thread_local onsager_scratch sz_mask[2], sz_list[2], sz_a[2], sz_fill;

int onsager_get_skip_zeros(void) {
    if (sz_thread >= 0) return sz_thread;
    int e = atomic_load_explicit(&sz_enabled, memory_order_relaxed);
    if (e < 0) {   // set only if unset: a concurrent onsager_set_skip_zeros wins
        int unset = -1, d = onsager_env_switch("ONSAGER_SKIP_ZEROS", 1);
        e = atomic_compare_exchange_strong(&sz_enabled, &unset, d) ? d : unset;
    }
    return e;
}
void onsager_set_skip_zeros(int on) { atomic_store(&sz_enabled, on ? 1 : 0); }
void onsager_set_thread_skip_zeros(int on) { sz_thread = on < 0 ? -1 : on ? 1 : 0; }
long onsager_skip_zeros_product_count(void) { return sz_products; }
void onsager_skip_zeros_counted(void) { sz_products++; }

int onsager_skip_zeros_eligible(long M, long N, long K, long csa, long rsb, long csb, int beta_zero, long mc) {
    // A batch-sized A stored by rows, so that the scan below reads it in order; a B stored by rows
    // (up to 256 rows of A: read in place, or packed once for one row block) or by columns (up to a
    // row block, mc rows: its panels are packed just before use, again for every row block); enough
    // columns of C that the scan (M·K values) is small beside the product.
    return csa == 1 && K >= 64 && N >= 64 && ((rsb == 1 && beta_zero && M <= mc) || (csb == 1 && M <= 256)) &&
           2.0 * M * N * K >= 2e6 && onsager_get_skip_zeros();
}

int onsager_skip_bcols_eligible(long M, long N, long K, long csb, int beta_zero) {
    // B stored by rows (a batch of ReLU outputs, or x, in a weight gradient gᵀ·h), so that the scan
    // reads it in order; C overwritten (its columns are computed compact, then spread over it).
    return beta_zero && csb == 1 && M >= 64 && N >= 64 && K >= 1 && 2.0 * M * N * K >= 2e6 &&
           onsager_get_skip_zeros();
}

int onsager_skip_rows_eligible(long M, long N, long K, long rsa, long csb, int beta_zero) {
    // A stored by columns (a weight gradient's gᵀ: each sample's values of all units contiguous),
    // so that the scan reads it in order; B stored by rows (x), whose K blocks do not depend on M
    // (by columns they can: G_PLAN_DEEP is set from M, which the dropped rows would change).
    return beta_zero && rsa == 1 && csb == 1 && M >= 64 && N >= 64 && K >= 1 && 2.0 * M * N * K >= 2e6 &&
           onsager_get_skip_zeros();
}

// The n values of src that keep marks, in order, to dst (which has room for n + 16 values; past
// the values kept it may be overwritten); returns how many. On AVX-512, 16 at a time compressed in
// a register and stored whole (a compressing store to memory is slow on Zen 4); value by value,
// through a list, it took over half of the scan and copy.
#if SZ_AVX512
__attribute__((target("avx512f,avx512bw,avx512vl"))) static long sz_compress_f32_avx512(long n, const float *src, const uint8_t *keep,
                                                                                       float *dst) {
    long q = 0, k = 0;
    for (; k + 16 <= n; k += 16) {
        __m128i kb = _mm_loadu_si128((const __m128i *)(keep + k));
        __mmask16 m = _mm_test_epi8_mask(kb, kb);
        _mm512_storeu_ps(dst + q, _mm512_maskz_compress_ps(m, _mm512_loadu_ps(src + k)));
        q += __builtin_popcount(m);
    }
    for (; k < n; k++) {
        dst[q] = src[k];
        q += keep[k];
    }
    return q;
}
__attribute__((target("avx512f,avx512bw,avx512vl"))) static long sz_compress_f64_avx512(long n, const double *src, const uint8_t *keep,
                                                                                       double *dst) {
    long q = 0, k = 0;
    for (; k + 8 <= n; k += 8) {
        __m128i kb = _mm_loadl_epi64((const __m128i *)(keep + k));
        __mmask8 m = (__mmask8)_mm_test_epi8_mask(kb, kb);
        _mm512_storeu_pd(dst + q, _mm512_maskz_compress_pd(m, _mm512_loadu_pd(src + k)));
        q += __builtin_popcount(m);
    }
    for (; k < n; k++) {
        dst[q] = src[k];
        q += keep[k];
    }
    return q;
}
#endif
// On AVX2, 8 at a time: a permutation from a table by the 8 marks' bits gathers the values kept to
// the front of a register, stored whole. Zen 4 with its AVX2 kernels (ONSAGER_ISA=avx2), the small
// MLP's step (its weight gradient's scan and copy of gᵀ, 100 x 500): value by value this copy was
// some 60 % of the scan and copy and 1.1 % of the step (perf).
static uint8_t sz_perm8[256][8];
#if SZ_AVX512
static pthread_once_t sz_perm8_once = PTHREAD_ONCE_INIT;
static void sz_perm8_init(void) {
    for (int m = 0; m < 256; m++)
        for (int b = 0, q = 0; b < 8; b++)
            if (m >> b & 1) sz_perm8[m][q++] = (uint8_t)b;
}
#endif
const uint8_t *onsager_compress_permutations(void) {
#if SZ_AVX512
    pthread_once(&sz_perm8_once, sz_perm8_init);
#endif
    return &sz_perm8[0][0];
}
#if SZ_AVX512
__attribute__((target("avx2,popcnt"))) static long sz_compress_f32_avx2(long n, const float *src, const uint8_t *keep, float *dst) {
    const uint8_t (*perm)[8] = (const uint8_t (*)[8])onsager_compress_permutations();
    long q = 0, k = 0;
    for (; k + 8 <= n; k += 8) {
        __m128i kb = _mm_loadl_epi64((const __m128i *)(keep + k));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(kb, _mm_setzero_si128())) & 0xFF;
        __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)perm[m]));
        _mm256_storeu_ps(dst + q, _mm256_permutevar8x32_ps(_mm256_loadu_ps(src + k), idx));
        q += __builtin_popcount(m);
    }
    for (; k < n; k++) {
        dst[q] = src[k];
        q += keep[k];
    }
    return q;
}
#define SZ_COMPRESS_AVX2_f32 if (onsager_isa_level() == 1) return sz_compress_f32_avx2(n, src, keep, dst);
#else
#define SZ_COMPRESS_AVX2_f32
#endif
#define SZ_COMPRESS_AVX2_f64   // (Double: value by value)
#define SZ_COMPRESS(T, S)                                                                          \
    static long sz_compress_##S(long n, const T *src, const uint8_t *keep, T *dst) {               \
        SZ_COMPRESS_AVX512(S)                                                                      \
        SZ_COMPRESS_AVX2_##S                                                                       \
        long q = 0;                                                                                \
        for (long k = 0; k < n; k++) {                                                             \
            dst[q] = src[k];                                                                       \
            q += keep[k];                                                                          \
        }                                                                                          \
        return q;                                                                                  \
    }
#if SZ_AVX512
#define SZ_COMPRESS_AVX512(S) if (onsager_isa_level() >= 2) return sz_compress_##S##_avx512(n, src, keep, dst);
#else
#define SZ_COMPRESS_AVX512(S)
#endif
SZ_COMPRESS(float, f32)
SZ_COMPRESS(double, f64)

// cnt[k] += 1 for each nonzero (NaN included) of the n values of row.
#if SZ_AVX512
__attribute__((target("avx512f"))) static void sz_count_f32_avx512(long n, const float *row, int32_t *cnt) {
    const __m512i one = _mm512_set1_epi32(1);
    for (long k = 0; k < n; k += 16) {
        __mmask16 in = n - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - k)) - 1);
        __mmask16 nz = _mm512_mask_cmp_ps_mask(in, _mm512_maskz_loadu_ps(in, row + k), _mm512_setzero_ps(), _CMP_NEQ_UQ);
        __m512i c = _mm512_maskz_loadu_epi32(in, cnt + k);
        _mm512_mask_storeu_epi32(cnt + k, in, _mm512_mask_add_epi32(c, nz, c, one));
    }
}
__attribute__((target("avx512f,avx512vl"))) static void sz_count_f64_avx512(long n, const double *row, int32_t *cnt) {
    const __m256i one = _mm256_set1_epi32(1);
    for (long k = 0; k < n; k += 8) {
        __mmask8 in = n - k >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (n - k)) - 1);
        __mmask8 nz = _mm512_mask_cmp_pd_mask(in, _mm512_maskz_loadu_pd(in, row + k), _mm512_setzero_pd(), _CMP_NEQ_UQ);
        __m256i c = _mm256_maskz_loadu_epi32(in, cnt + k);
        _mm256_mask_storeu_epi32(cnt + k, in, _mm256_mask_add_epi32(c, nz, c, one));
    }
}
// With AVX2, 8 (Float) or 4 (Double) at a time: a compare's all-ones lanes are -1, subtracted.
__attribute__((target("avx2"))) static void sz_count_f32_avx2(long n, const float *row, int32_t *cnt) {
    long k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256i nz = _mm256_castps_si256(_mm256_cmp_ps(_mm256_loadu_ps(row + k), _mm256_setzero_ps(), _CMP_NEQ_UQ));
        __m256i *c = (__m256i *)(cnt + k);
        _mm256_storeu_si256(c, _mm256_sub_epi32(_mm256_loadu_si256(c), nz));
    }
    for (; k < n; k++) cnt[k] += row[k] != 0;
}
__attribute__((target("avx2"))) static void sz_count_f64_avx2(long n, const double *row, int32_t *cnt) {
    long k = 0;
    for (; k + 4 <= n; k += 4) {
        __m256i nz = _mm256_castpd_si256(_mm256_cmp_pd(_mm256_loadu_pd(row + k), _mm256_setzero_pd(), _CMP_NEQ_UQ));
        // (each 64-bit lane's low 32 bits, in order: the four counts' -1s)
        __m128i nz32 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(nz, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
        __m128i *c = (__m128i *)(cnt + k);
        _mm_storeu_si128(c, _mm_sub_epi32(_mm_loadu_si128(c), nz32));
    }
    for (; k < n; k++) cnt[k] += row[k] != 0;
}
#define SZ_COUNT_VECTOR(S)                                                                         \
    if (onsager_isa_level() >= 2) { sz_count_##S##_avx512(n, row, cnt); return; }                  \
    if (onsager_isa_level() == 1) { sz_count_##S##_avx2(n, row, cnt); return; }
#else
#define SZ_COUNT_VECTOR(S)
#endif
#define SZ_COUNT(T, S)                                                                             \
    static void sz_count_##S(long n, const T *row, int32_t *cnt) {                                 \
        SZ_COUNT_VECTOR(S)                                                                         \
        for (long k = 0; k < n; k++) cnt[k] += row[k] != 0;                                        \
    }
SZ_COUNT(float, f32)
SZ_COUNT(double, f64)

// Columns whose values are all ±0 (max_nonzeros 0), or that have at most max_nonzeros nonzero
// values, are dropped when they are at least 1/min_share of K (gemm.c:
// SZ_MIN_SHARE for A's columns and rows, SZ_BCOLS_MIN_SHARE for B's columns): A's other columns are copied into a compact M x kc
// matrix (returned; rows kc apart), *keep gets a byte per column (1: kept) and *rows the indices
// of those kept. Returns NULL (nothing to gain, or no memory) otherwise. A scan whose first rows
// already leave too few candidates is given up after them (checked every 8 rows for all-zero
// columns, which is exact: candidates only fall): a dense A costs 8 rows. With max_nonzeros > 0 a
// column stays a candidate until it passes that count, so at the checks before the last (after
// 8, 16, 32, ... rows) a column nonzero in every row scanned is taken as dense: a sparse column
// rarely is, and only which path runs depends on it (the last check and the list are exact).
// Without that a dense A was counted for 56 of a weight gradient's 100 rows (max_nonzeros 50),
// 0.9-1.1 % of 784x500x100 (Zen 4, perf), and now 0.2 %.
#define SZ_DEFINE(T, S)                                                                            \
    const T *onsager_drop_zero_columns_##S(long M, long K, const T *A, long rsa, const uint8_t **keep,    \
                                           const int32_t **rows, long *kc, int slot, long min_share, \
                                           long max_nonzeros) {                                    \
        uint8_t *nz = (uint8_t *)onsager_scratch_reserve(&sz_mask[slot], K);                       \
        int32_t *kl = (int32_t *)onsager_scratch_reserve(&sz_list[slot], K * (long)sizeof(int32_t)); \
        if (!nz || !kl) return 0;                                                                  \
        /* Counted: the list's room holds the counts until the list is made. */                    \
        int32_t *cnt = kl;                                                                         \
        memset(cnt, 0, sizeof(int32_t) * (size_t)K);                                               \
        for (long i = 0; i < M; i++) {                                                             \
            sz_count_##S(K, A + i * rsa, cnt);                                                     \
            /* (every 8 rows for all-zero columns; after 8, 16, 32... rows for few nonzeros) */    \
            if ((i % 8 == 7 && (max_nonzeros == 0 || ((i + 1) & i) == 0)) || i == M - 1) {         \
                /* (before the last check, a column nonzero in every row so far is taken as        \
                   dense: rare for one of few nonzeros; only which path runs depends on it) */     \
                long most = (max_nonzeros < i || i == M - 1) ? max_nonzeros : i, few = 0;          \
                int32_t most32 = most > INT32_MAX ? INT32_MAX : (int32_t)most;                     \
                for (long k = 0; k < K; k++) few += cnt[k] <= most32;                              \
                if (few * min_share < K) return 0;                                                 \
            }                                                                                      \
        }                                                                                          \
        long n = 0;                                                                                \
        for (long k = 0; k < K; k++) {   /* (the list overwrites counts already read) */          \
            nz[k] = cnt[k] > max_nonzeros;                                                         \
            if (nz[k]) kl[n++] = (int32_t)k;                                                       \
        }                                                                                          \
        T *a = (T *)onsager_scratch_reserve(&sz_a[slot], (M * n + 16) * (long)sizeof(T));          \
        if (!a) return 0;                                                                          \
        for (long i = 0; i < M; i++) sz_compress_##S(K, A + i * rsa, nz, a + i * n);               \
        *keep = nz;                                                                                \
        *rows = kl;                                                                                \
        *kc = n;                                                                                   \
        return a;                                                                                  \
    }                                                                                              \
    int onsager_rows_finite_##S(long K, long N, const T *B, long rsb, const uint8_t *keep) {          \
        if (!keep && rsb == N) return onsager_count_nonfinite_##S(B, K * N) == 0;                 \
        for (long k = 0; k < K; k++)                                                               \
            if ((!keep || !keep[k]) && onsager_count_nonfinite_##S(B + k * rsb, N)) return 0;      \
        return 1;                                                                                  \
    }                                                                                              \
    int onsager_matrix_finite_##S(long M, long K, const T *A, long rsa, long csa) {                \
        if (rsa == 1) return onsager_rows_finite_##S(K, M, A, csa, 0);                             \
        if (csa == 1) return onsager_rows_finite_##S(M, K, A, rsa, 0);                             \
        for (long i = 0; i < M; i++)                                                               \
            for (long k = 0; k < K; k++)                                                           \
                if (A[i * rsa + k * csa] - A[i * rsa + k * csa] != 0) return 0;                    \
        return 1;                                                                                  \
    }                                                                                              \
    T *onsager_skip_zeros_fill_##S(long n) {                                                       \
        return (T *)onsager_scratch_reserve(&sz_fill, (2 * n + 32) * (long)sizeof(T));             \
    }
SZ_DEFINE(float, f32)
SZ_DEFINE(double, f64)

void onsager_skip_zeros_trim(int slot) {
    onsager_scratch_trim(&sz_a[slot]);
    onsager_scratch_trim(&sz_mask[slot]);
    onsager_scratch_trim(&sz_list[slot]);
    if (slot == 1) onsager_scratch_trim(&sz_fill);
}

// Spreading a row's values computed for B's kept columns (src) over its N columns (dst): the
// columns left out get fill's value. On AVX-512, 16 columns at a time expanded in a register; with
// stream, C's aligned vectors are stored past the caches (as the kernels store a C of over twice
// L2 in one K block, gemm.c: written through the caches, its lines would first be read).
#if SZ_AVX512
__attribute__((target("avx512f,avx512bw,avx512vl"))) static void sz_expand_f32_avx512(long n, const float *src, float *dst,
                                                                                     const uint8_t *keep, const float *fill,
                                                                                     int stream) {
    long q = 0, j = 0;
    for (; stream && j < n && ((uintptr_t)(dst + j) & 63); j++) {
        dst[j] = keep[j] ? src[q] : fill[j];
        q += keep[j];
    }
    for (; j + 16 <= n; j += 16) {
        __m128i kb = _mm_loadu_si128((const __m128i *)(keep + j));
        __mmask16 m = _mm_test_epi8_mask(kb, kb);
        __m512 v = _mm512_mask_expand_ps(_mm512_loadu_ps(fill + j), m, _mm512_loadu_ps(src + q));   // (src has 16 spare)
        if (stream) _mm512_stream_ps(dst + j, v);
        else _mm512_storeu_ps(dst + j, v);
        q += __builtin_popcount(m);
    }
    for (; j < n; j++) {
        dst[j] = keep[j] ? src[q] : fill[j];
        q += keep[j];
    }
}
__attribute__((target("avx512f,avx512bw,avx512vl"))) static void sz_expand_f64_avx512(long n, const double *src, double *dst,
                                                                                     const uint8_t *keep, const double *fill,
                                                                                     int stream) {
    long q = 0, j = 0;
    for (; stream && j < n && ((uintptr_t)(dst + j) & 63); j++) {
        dst[j] = keep[j] ? src[q] : fill[j];
        q += keep[j];
    }
    for (; j + 8 <= n; j += 8) {
        __m128i kb = _mm_loadl_epi64((const __m128i *)(keep + j));
        __mmask8 m = (__mmask8)_mm_test_epi8_mask(kb, kb);
        __m512d v = _mm512_mask_expand_pd(_mm512_loadu_pd(fill + j), m, _mm512_loadu_pd(src + q));
        if (stream) _mm512_stream_pd(dst + j, v);
        else _mm512_storeu_pd(dst + j, v);
        q += __builtin_popcount(m);
    }
    for (; j < n; j++) {
        dst[j] = keep[j] ? src[q] : fill[j];
        q += keep[j];
    }
}
#define SZ_EXPAND_AVX512(S) if (onsager_isa_level() >= 2) { sz_expand_##S##_avx512(N, src, dst, keep, fill, stream); return; }
#else
#define SZ_EXPAND_AVX512(S)
#endif
static _Thread_local onsager_scratch sz_chunk;
#define SZ_EXPAND(T, S)                                                                            \
    void onsager_expand_row_##S(long N, const T *src, T *dst, const uint8_t *keep, const T *fill, int stream) { \
        SZ_EXPAND_AVX512(S)                                                                        \
        (void)stream;                                                                              \
        for (long j = 0, q = 0; j < N; j++) {                                                      \
            dst[j] = keep[j] ? src[q] : fill[j];                                                   \
            q += keep[j];                                                                          \
        }                                                                                          \
    }                                                                                              \
    T *onsager_skip_zeros_chunk_##S(long n) {                                                      \
        return (T *)onsager_scratch_reserve(&sz_chunk, (n + 16) * (long)sizeof(T));                \
    }
SZ_EXPAND(float, f32)
SZ_EXPAND(double, f64)

void onsager_skip_zeros_stream_fence(void) {
#if SZ_AVX512
    _mm_sfence();
#endif
}
void onsager_skip_zeros_chunk_trim(void) { onsager_scratch_trim(&sz_chunk); }
