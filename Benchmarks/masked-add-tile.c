// The register tile of Sources/COnsagerKernels/zero_one_gemm.c from L1, with masked adds in half
// its columns against FMAs in all of them, in 512-bit vectors (the path's tile) and in 256-bit
// ones. On Zen 4 a 512-bit FMA or add occupies both 256-bit pipes of its kind for a cycle, so the
// 512-bit tile measures Zen 4 itself; a 256-bit FMA or add takes one pipe, so the 256-bit tile on
// Zen 4 runs in the regime of Zen 5's 512-bit tile: two FMAs and two adds a cycle, each in one
// pass, beside the same loads. No Zen 5 was available when the path was written; this is the
// nearest measurement a Zen 4 allows. Beside them, the same terms with B's value broadcast once
// into a register and used by two row vectors (16 loads per k instead of 26).
// AMD EPYC Zen 4 (family 25, model 17), best of 9, GFLOPS-equivalent, mixed against all-FMA in the
// same layout (three runs alike within 0.3 %):
//   512-bit, B from memory (the path's tile)   188.1 against 117.5  1.60x
//   512-bit, B in registers                    117.3 against 117.6  1.00x
//   256-bit, B from memory                     107.8 against 112.0  0.96x
//   256-bit, B in registers                    114.7 against  98.0  1.17x (1.02x the best FMA form)
// In the 256-bit regime no form beat FMAs alone by more than 2.5 %: the tile from memory is bound
// by its loads (26 per k at two a cycle: 13 cycles for 12 FMAs and 12 adds that two pipes of each
// kind run in 6; its all-FMA form needs no mask, 25 loads: 12.5 cycles, the 0.96x exactly). Hence the path is on by default on Zen 4 only (onsager_zero_one_default_for);
// whether Zen 5 runs more than two such loads a cycle is for a Zen 5 to measure with this file.
// Each variant: a tile over K = 128, repeated: 16 (or 8) rows x 24 columns with A's column k, its
// mask and B's 24 values broadcast from memory inside the instructions (the path's tile), or 32
// (or 16) rows x 12 columns with B's values in registers; the best of 9 runs of 20,000 tiles, in
// GFLOPS-equivalent (2 per term, adds counted as FMAs). Not
// part of the package build. From the repository root:
//   clang -O3 Benchmarks/masked-add-tile.c -o /tmp/masked-add-tile && /tmp/masked-add-tile
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define K 128
#define NR 24

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"))), apply_to = function)

// NF of the 24 columns by FMA, the rest by masked adds; 16-lane vectors.
#define TILE16(NAME, NF)                                                                              \
    static __attribute__((noinline)) float NAME(const float *a, const uint16_t *m, const float *b, long reps) { \
        __m512 acc[NR];                                                                               \
        for (int j = 0; j < NR; j++) acc[j] = _mm512_setzero_ps();                                   \
        for (long r = 0; r < reps; r++)                                                               \
            for (long k = 0; k < K; k++) {                                                            \
                __m512 av = _mm512_load_ps(a + k * 16);                                               \
                __mmask16 mk = _load_mask16((__mmask16 *)(m + k));                                    \
                const float *bk = b + k * NR;                                                         \
                _Pragma("clang loop unroll(full)") for (int j = 0; j < NF; j++)                       \
                    acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(bk[j]), av, acc[j]);                      \
                _Pragma("clang loop unroll(full)") for (int j = NF; j < NR; j++)                      \
                    acc[j] = _mm512_mask_add_ps(acc[j], mk, acc[j], _mm512_set1_ps(bk[j]));          \
            }                                                                                         \
        __m512 s = acc[0];                                                                            \
        for (int j = 1; j < NR; j++) s = _mm512_add_ps(s, acc[j]);                                   \
        return _mm512_reduce_add_ps(s);                                                               \
    }

// The same on 8-lane vectors (the path's row-tail tile).
#define TILE8(NAME, NF)                                                                               \
    static __attribute__((noinline)) float NAME(const float *a, const uint16_t *m, const float *b, long reps) { \
        __m256 acc[NR];                                                                               \
        for (int j = 0; j < NR; j++) acc[j] = _mm256_setzero_ps();                                   \
        for (long r = 0; r < reps; r++)                                                               \
            for (long k = 0; k < K; k++) {                                                            \
                __m256 av = _mm256_load_ps(a + k * 16);                                               \
                __mmask8 mk = (__mmask8)m[k];                                                         \
                const float *bk = b + k * NR;                                                         \
                _Pragma("clang loop unroll(full)") for (int j = 0; j < NF; j++)                       \
                    acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(bk[j]), av, acc[j]);                      \
                _Pragma("clang loop unroll(full)") for (int j = NF; j < NR; j++)                      \
                    acc[j] = _mm256_mask_add_ps(acc[j], mk, acc[j], _mm256_set1_ps(bk[j]));          \
            }                                                                                         \
        __m256 s = acc[0];                                                                            \
        for (int j = 1; j < NR; j++) s = _mm256_add_ps(s, acc[j]);                                   \
        float t[8];                                                                                   \
        _mm256_storeu_ps(t, s);                                                                       \
        return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];                                \
    }

TILE16(zmm_mixed, 12)
TILE16(zmm_fma, 24)
TILE8(ymm_mixed, 12)
TILE8(ymm_fma, 24)

// Two row vectors (32 rows in 512-bit, 16 in 256-bit) x 12 columns, each B value broadcast once
// into a register and used by both vectors: 16 loads per k instead of 26 (the FMA kernel's
// layout, transposed). NF of the 12 columns by FMA.
#define TILE2V(NAME, VT, LANES, SET1, LOAD, FMADD, MADD, ADD, ZERO, MT, NF)                           \
    static __attribute__((noinline)) float NAME(const float *a, const uint16_t *m, const float *b, long reps) { \
        VT acc[2][12];                                                                                \
        for (int j = 0; j < 12; j++) acc[0][j] = acc[1][j] = ZERO();                                 \
        for (long r = 0; r < reps; r++)                                                               \
            for (long k = 0; k < K; k++) {                                                            \
                VT a0 = LOAD(a + k * 32), a1 = LOAD(a + k * 32 + 16);                                \
                MT m0 = (MT)m[2 * k], m1 = (MT)m[2 * k + 1];                                          \
                const float *bk = b + k * NR;                                                         \
                _Pragma("clang loop unroll(full)") for (int j = 0; j < 12; j++) {                     \
                    VT bv = SET1(bk[j]);                                                              \
                    if (j < NF) {                                                                     \
                        acc[0][j] = FMADD(bv, a0, acc[0][j]);                                         \
                        acc[1][j] = FMADD(bv, a1, acc[1][j]);                                         \
                    } else {                                                                          \
                        acc[0][j] = MADD(acc[0][j], m0, acc[0][j], bv);                               \
                        acc[1][j] = MADD(acc[1][j], m1, acc[1][j], bv);                               \
                    }                                                                                 \
                }                                                                                     \
            }                                                                                         \
        VT s = acc[0][0];                                                                             \
        for (int j = 0; j < 12; j++) s = ADD(ADD(s, acc[0][j]), acc[1][j]);                          \
        float t[LANES];                                                                               \
        __builtin_memcpy(t, &s, sizeof t);                                                            \
        float sum = 0;                                                                                \
        for (int i = 0; i < LANES; i++) sum += t[i];                                                  \
        return sum;                                                                                   \
    }

TILE2V(zmm2_mixed, __m512, 16, _mm512_set1_ps, _mm512_load_ps, _mm512_fmadd_ps, _mm512_mask_add_ps, _mm512_add_ps, _mm512_setzero_ps, __mmask16, 6)
TILE2V(zmm2_fma, __m512, 16, _mm512_set1_ps, _mm512_load_ps, _mm512_fmadd_ps, _mm512_mask_add_ps, _mm512_add_ps, _mm512_setzero_ps, __mmask16, 12)
TILE2V(ymm2_mixed, __m256, 8, _mm256_set1_ps, _mm256_load_ps, _mm256_fmadd_ps, _mm256_mask_add_ps, _mm256_add_ps, _mm256_setzero_ps, __mmask8, 6)
TILE2V(ymm2_fma, __m256, 8, _mm256_set1_ps, _mm256_load_ps, _mm256_fmadd_ps, _mm256_mask_add_ps, _mm256_add_ps, _mm256_setzero_ps, __mmask8, 12)

#pragma clang attribute pop

typedef float (*tile_fn)(const float *, const uint16_t *, const float *, long);

int main(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512bw")) {
        printf("needs AVX-512 (F, VL, BW)\n");
        return 0;
    }
    float *a = aligned_alloc(64, K * 32 * sizeof(float)), *b = aligned_alloc(64, K * NR * sizeof(float));
    uint16_t *m = aligned_alloc(64, 2 * K * sizeof(uint16_t));
    srand(1);
    // A's values serve both layouts: 16 per k for the one-vector tiles, 32 for the two-vector
    // ones (the first K of the 2K masks are the one-vector tiles').
    for (long i = 0; i < 2 * K; i++) {
        uint16_t bits = 0;
        for (int t = 0; t < 16; t++) {
            int one = rand() & 1;
            a[i * 16 + t] = (float)one;
            bits |= (uint16_t)(one << t);
        }
        m[i] = bits;
    }
    for (long i = 0; i < K * NR; i++) b[i] = (float)(rand() % 1000) / 1000.0f - 0.5f;
    // Terms per tile and k: rows x columns.
    struct { const char *name; tile_fn f; int terms; } v[] = {
        {"16 x 24, 512-bit, B from memory, 12 FMA + 12 add columns", zmm_mixed, 16 * 24},
        {"16 x 24, 512-bit, B from memory, 24 FMA columns", zmm_fma, 16 * 24},
        {"32 x 12, 512-bit, B in registers, 6 FMA + 6 add columns", zmm2_mixed, 32 * 12},
        {"32 x 12, 512-bit, B in registers, 12 FMA columns", zmm2_fma, 32 * 12},
        {"8 x 24, 256-bit, B from memory, 12 FMA + 12 add columns", ymm_mixed, 8 * 24},
        {"8 x 24, 256-bit, B from memory, 24 FMA columns", ymm_fma, 8 * 24},
        {"16 x 12, 256-bit, B in registers, 6 FMA + 6 add columns", ymm2_mixed, 16 * 12},
        {"16 x 12, 256-bit, B in registers, 12 FMA columns", ymm2_fma, 16 * 12},
    };
    enum { V = sizeof v / sizeof v[0] };
    const long reps = 20000;
    double best[V] = {0};
    volatile float sink = 0;
    for (int round = 0; round < 9; round++)
        for (int i = 0; i < V; i++) {
            double t0 = now();
            sink += v[i].f(a, m, b, reps);
            double g = 2.0 * v[i].terms * K * reps / (now() - t0) / 1e9;
            if (g > best[i]) best[i] = g;
        }
    for (int i = 0; i < V; i++) printf("%-60s %7.1f GFLOPS-equivalent\n", v[i].name, best[i]);
    printf("mixed / all-FMA: 512-bit from memory %.2fx, in registers %.2fx; 256-bit from memory %.2fx, in registers %.2fx\n",
           best[0] / best[1], best[2] / best[3], best[4] / best[5], best[6] / best[7]);
    return 0;
}
