// Lab: products whose A is about half zeros (a ReLU layer's activations, and the gradients its mask
// zeroes), with the zero terms skipped: each row of C accumulates, in k order, only the rows of B
// that its nonzero values select (row by row, Gustavson's order; B, K x N row-major, packed in
// blocks of kc rows x LAB_NC columns, the running sums kept between blocks, the next block
// prefetched), against the library's dense sgemm on the same data. Prints both as dense-equivalent
// GFLOPS (2MNK over the time, the listing of A's nonzeros included in the second) and whether C
// matches bit for bit: it does for K <= 1024 (a skipped 0·b, b finite, leaves a sum that starts at
// +0 unchanged); longer K is summed here in one run, where the dense kernels add K blocks, so its
// bits differ. One thread, AVX-512 only. Not part of the package build. From the repository root:
//   K=Sources/COnsagerKernels
//   clang -O3 -D_GNU_SOURCE -I$K/include -I$K [-DLAB_NC=128] Benchmarks/sparse-rows-lab.c $K/*.c -o /tmp/sparse-rows-lab -lpthread -lm -ldl
//   /tmp/sparse-rows-lab M N K transA density reps kc     # e.g. 500 784 100 1 0.5 15 100: mlp-small's gᵀ·x
// transA 1 stores A as its K x M transpose (a weight gradient's gᵀ); density is the chance that a
// value of A is nonzero (the share drawn is printed in brackets). UNITS=1 instead draws each row's
// chance as Phi(2z), z standard normal: the hidden units of the MLP steps, which over a batch of
// non-negative inputs are mostly off or mostly on (measured in mlp-big-step's weight gradients, rows
// by tenths of their share of nonzeros: 22-29 % of the units under a tenth, 8-14 % all zero, 9-17 %
// all nonzero; each sample, by contrast, has about half its units nonzero). A second line times a
// hybrid: the rows over THR (default 0.3) nonzero by the dense sgemm on a gathered copy of them,
// scattered into C, the others by the loop on their own list.
//
// Its hybrid is now in the library, without the copies: the rows of a weight gradient's gᵀ with few
// nonzeros go to this loop (Sources/COnsagerKernels/sparse_rows.c), the others to the FMA kernels
// through their row map (twenty-eighth session; Benchmarks/skip-zeros-lab.c units times it).
// Why this lab's forms were not (AMD Zen 4, 2026-12-06): per nonzero value the loop loads four
// 512-bit vectors of B, a broadcast of the value and its index for four FMAs (LAB_NC=64), where the
// FMA kernels' register tiles load B a fraction as often; it ran at 50-60 % of the FMA peak on the
// nonzeros (75-80 % from L1 in a synthetic case; the listing included). At about half zeros it ran
// 1.08-1.29x the dense product (500x784x100 1.29x, 100x2000x2500 1.08x, 2000x2500x100 1.09x; 40 %
// nonzero 1.21-1.58x, 60 % 0.94-1.10x; rows of B read in place, unaligned, 0.36-0.66x). Inside the
// library (a path after the masked adds, patch not committed) the MLP steps' products held 52-56 %
// nonzero values and ran 0.86-1.12x the dense kernels (96-125 against 104-112 GFLOPS; the
// transposing pack of a layer's Wᵀ the slowest), and the steps 0.93-0.97x (mlp-big) and 1.00-1.01x
// (mlp-small) their speed without it. Benchmarks/SPEED-LOG.md ("Skipping the MLP products' zero
// terms") has the readings. With the units' structure (UNITS=1, 500x784x100 and 2000x2500x100)
// the loop alone read 1.10-1.27x and the hybrid 1.11-1.19x at THR 0.3, 1.08-1.13x at 0.5 and
// 0.97-0.98x at 0.1: the scatter of the dense rows (a copy of most of C) costs what their share
// saves. On cores with two 512-bit FMA units and two 512-bit loads a cycle the
// loads would cap the loop further below their FMA rate (an estimate; not measured).
#include "onsager_kernels.h"
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}
static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

// A's nonzeros row by row: row i's at nz[start[i] .. start[i + 1]), each with k * LAB_NC (its row's
// offset in a packed block of B) beside its value.
#ifndef LAB_NC
#define LAB_NC 64
#endif
#define LAB_NV (LAB_NC / 16)
typedef struct { int32_t off; float v; } nz_t;
typedef struct { long *start; nz_t *nz; } rows_t;

static void compress(long M, long K, const float *A, long rsa, long csa, rows_t *r) {
    long n = 0;
    r->start[0] = 0;
    for (long i = 0; i < M; i++) {
        for (long k = 0; k < K; k++) {
            float v = A[i * rsa + k * csa];
            r->nz[n].off = (int32_t)(k * LAB_NC); r->nz[n].v = v;
            n += v != 0;
        }
        r->start[i + 1] = n;
    }
}

// The first n lanes of a vector (none for n <= 0, all for n >= 16).
static inline __mmask16 lanes(long n) { return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

// C (M x N, beta 0) = A B, B row-major (ldb), LAB_NC columns at a time (packed, zero-padded, into buf:
// kc x LAB_NC) and K in blocks of kc, the running sums kept in S (M x LAB_NC) between blocks.
__attribute__((target("avx512f"))) static void sparse_product(long M, long N, long K, const rows_t *r, const float *B,
                                                               long ldb, float *C, long ldc, long kc, float *S,
                                                               long *cur, float *buf, const long *rowmap) {
    for (long j0 = 0; j0 < N; j0 += LAB_NC) {
        long cols = N - j0 < LAB_NC ? N - j0 : LAB_NC;
        for (long i = 0; i < M; i++) cur[i] = r->start[i];
        for (long k0 = 0; k0 < K; k0 += kc) {
            long k1 = k0 + kc < K ? k0 + kc : K;
            int first = k0 == 0, final = k1 == K;
            for (long k = k0; k < k1; k++) {
                float *d = buf + (k - k0) * LAB_NC;
                for (long u = 0; u < LAB_NC; u += 16)
                    _mm512_store_ps(d + u, _mm512_maskz_loadu_ps(lanes(cols - u), B + k * ldb + j0 + u));
            }
            const char *base = (const char *)buf - k0 * LAB_NC * 4;
            const int32_t end_off = (int32_t)(k1 * LAB_NC);
            const nz_t *nz = r->nz;
            // The next block's rows of B, fetched a share before each row of C.
            long nk0 = k1 < K ? k1 : 0, nj0 = k1 < K ? j0 : j0 + LAB_NC, nk1 = nk0 + kc < K ? nk0 + kc : K;
            long lines = nj0 < N ? (nk1 - nk0) * (LAB_NC / 16) : 0, per = (lines + M - 1) / M, next = 0;
            for (long i = 0; i < M; i++) {
                for (long q = 0; q < per && next < lines; q++, next++)
                    __builtin_prefetch(B + (nk0 + next / (LAB_NC / 16)) * ldb + nj0 + 16 * (next % (LAB_NC / 16)), 0, 2);
                __m512 acc[LAB_NV];
                float *s = S + i * LAB_NC;
#pragma clang loop unroll(full)
                for (int u = 0; u < LAB_NV; u++) acc[u] = first ? _mm512_setzero_ps() : _mm512_load_ps(s + 16 * u);
                long p = cur[i], e = r->start[i + 1];
                for (; p < e && nz[p].off < end_off; p++) {
                    __m512 a = _mm512_set1_ps(nz[p].v);
                    const float *b = (const float *)(base + 4L * nz[p].off);
#pragma clang loop unroll(full)
                    for (int u = 0; u < LAB_NV; u++) acc[u] = _mm512_fmadd_ps(a, _mm512_load_ps(b + 16 * u), acc[u]);
                }
                cur[i] = p;
                if (final) {
                    for (int u = 0; u < LAB_NV; u++)
                        _mm512_mask_storeu_ps(C + (rowmap ? rowmap[i] : i) * ldc + j0 + 16 * u, lanes(cols - 16 * u), acc[u]);
                } else {
#pragma clang loop unroll(full)
                    for (int u = 0; u < LAB_NV; u++) _mm512_store_ps(s + 16 * u, acc[u]);
                }
            }
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 8) { fprintf(stderr, "usage: M N K transA density reps kc\n"); return 2; }
    long M = atol(argv[1]), N = atol(argv[2]), K = atol(argv[3]);
    int transA = atoi(argv[4]);
    double density = atof(argv[5]);
    int reps = atoi(argv[6]);
    long kc = atol(argv[7]), nc = LAB_NC;
    if (M < 1 || N < 1 || K < 1 || kc < 1 || reps < 1 || density < 0 || density > 1) {
        fprintf(stderr, "usage: M N K transA density reps kc (sizes, kc and reps at least 1, density 0-1)\n");
        return 2;
    }
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) { printf("sparse-rows-lab: needs AVX-512\n"); return 0; }
    onsager_set_num_threads(1);
    float *A = malloc(sizeof(float) * M * K), *B = aligned_alloc(64, sizeof(float) * K * N + 64);
    float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
    float *S = aligned_alloc(64, sizeof(float) * M * nc);
    long *cur = malloc(sizeof(long) * M);
    srand(1);
    int units = getenv("UNITS") != 0;
    double *pr = malloc(sizeof(double) * M);
    for (long i = 0; i < M; i++) {
        // UNITS=1: row i's share of nonzeros is Phi(2z), z standard normal, as the hidden units of an
        // MLP on non-negative inputs (mostly on or mostly off over a batch); else `density`.
        double u1 = (rand() + 1.0) / ((double)RAND_MAX + 2), u2 = rand() / (double)RAND_MAX;
        double z = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
        pr[i] = units ? 0.5 * erfc(-2 * z / sqrt(2.0)) : density;
    }
    for (long i = 0; i < M; i++)
        for (long k = 0; k < K; k++) {
            double u = rand() / (double)RAND_MAX;
            A[transA ? k * M + i : i * K + k] = u < pr[i] ? (float)(rand() / (double)RAND_MAX - 0.3) : 0.0f;
        }
    for (long t = 0; t < K * N; t++) B[t] = (float)(rand() / (double)RAND_MAX - 0.5);
    long rsa = transA ? 1 : K, csa = transA ? M : 1;
    rows_t r = {malloc(sizeof(long) * (M + 1)), malloc(sizeof(nz_t) * M * K)};
    float *buf = aligned_alloc(64, sizeof(float) * kc * LAB_NC);
    double thr = getenv("THR") ? atof(getenv("THR")) : 0.3;
    long *dense_rows = malloc(sizeof(long) * M), *sparse_rows = malloc(sizeof(long) * M);
    float *Ad = malloc(sizeof(float) * M * K), *T = malloc(sizeof(float) * M * N), *C3 = malloc(sizeof(float) * M * N);
    rows_t rs = {malloc(sizeof(long) * (M + 1)), malloc(sizeof(nz_t) * M * K)};
    double *th = malloc(sizeof(double) * reps);
    double *td = malloc(sizeof(double) * reps), *ts = malloc(sizeof(double) * reps), *tc = malloc(sizeof(double) * reps);
    for (int t = 0; t < reps; t++) {
        double t0 = now();
        onsager_sgemm(M, N, K, 1, A, rsa, csa, B, N, 1, 0, C1, N);
        double t1 = now();
        compress(M, K, A, rsa, csa, &r);
        double t2 = now();
        sparse_product(M, N, K, &r, B, N, C2, N, kc, S, cur, buf, 0);
        double t3 = now();
        td[t] = t1 - t0; tc[t] = t2 - t1; ts[t] = t3 - t1;
        // The hybrid: rows of A over `thr` nonzero by the dense sgemm on a gathered copy (into T,
        // then scattered to C), the others by the loop above on their own list.
        double t4 = now();
        long md = 0, ms = 0;
        for (long i = 0; i < M; i++) {
            long nzr = r.start[i + 1] - r.start[i];
            if (nzr > thr * K) dense_rows[md++] = i; else sparse_rows[ms++] = i;
        }
        for (long q = 0; q < md; q++)
            for (long k = 0; k < K; k++) Ad[q * K + k] = A[dense_rows[q] * rsa + k * csa];
        if (md) onsager_sgemm(md, N, K, 1, Ad, K, 1, B, N, 1, 0, T, N);
        for (long q = 0; q < md; q++) memcpy(C3 + dense_rows[q] * N, T + q * N, sizeof(float) * N);
        long n2 = 0;
        for (long q = 0; q < ms; q++) {
            long i = sparse_rows[q];
            rs.start[q] = n2;
            for (long p = r.start[i]; p < r.start[i + 1]; p++) rs.nz[n2++] = r.nz[p];
        }
        rs.start[ms] = n2;
        if (ms) sparse_product(ms, N, K, &rs, B, N, C3, N, kc, S, cur, buf, sparse_rows);
        th[t] = now() - t4 + tc[t];
    }
    qsort(td, reps, sizeof(double), by_value);
    qsort(ts, reps, sizeof(double), by_value);
    qsort(tc, reps, sizeof(double), by_value);
    qsort(th, reps, sizeof(double), by_value);
    double f = 2.0 * M * N * K * 1e-9;
    long nz = r.start[M];
    printf("%ldx%ldx%ld transA=%d density %.2f (%.3f) kc=%ld nc=%ld: dense %.1f GFLOPS, skipping zeros %.1f "
           "(compress %.1f%% of it) -> %.2fx; bits %s\n",
           M, N, K, transA, density, (double)nz / (M * K), kc, nc, f / td[reps / 2], f / ts[reps / 2],
           100 * tc[reps / 2] / ts[reps / 2], td[reps / 2] / ts[reps / 2],
           memcmp(C1, C2, sizeof(float) * M * N) ? "differ" : "equal");
    printf("  hybrid (rows over %.2f nonzero dense): %.1f GFLOPS -> %.2fx the dense; bits %s\n", thr, f / th[reps / 2],
           td[reps / 2] / th[reps / 2], memcmp(C1, C3, sizeof(float) * M * N) ? "differ" : "equal");
    return 0;
}
