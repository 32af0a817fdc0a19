// Products with a 0/1 left operand as sums of selected rows: the lead measured and not taken in
// the twentieth session (Benchmarks/SPEED-LOG.md, Emerald Rapids, seventh session). In an RBM
// update every product has a binary operand: the visible rows of x·W + b, the hidden sample of
// h·Wᵀ + a and the rows of xᵀ·g. Row i of A·B is then the sum of the rows of B that A's ones in
// row i select: p·K vector additions per row and column vector (p = the density of ones)
// against K multiply-adds, but each addition needs its own load, where the GEMM's micro-kernel
// reuses a loaded value of B for MR = 12 rows. This times, on one thread (AVX-512 only):
//   dense   the library's onsager_sgemm on the same 0/1 values (packing included);
//   build   the index lists of A's ones (a CSR: for each row, its ones' k in order), from A
//           row-major or, with transA, from its transpose (a weight gradient's xᵀ);
//   pack    B copied into 32-column panels over all of K (the GEMM packs B too);
//   rows    the sums: per row, two panels (64 columns, four vectors) at a time, all of the row's
//           ones, two partial sums of each vector.
// The ratio "kernel" is dense ÷ rows, "all" dense ÷ (build + pack + rows). Not part of the package
// build. From the repository root:
//   K=Sources/COnsagerKernels
//   clang -O3 -D_GNU_SOURCE -I$K/include -I$K Benchmarks/binary-rows-lab.c $K/*.c -o /tmp/binary-rows -lpthread -lm -ldl
//   for p in 0.13 0.3 0.4 0.5; do /tmp/binary-rows 200 500 784 0 $p; /tmp/binary-rows 100 784 500 0 $p; /tmp/binary-rows 784 500 200 1 $p; done
// Arguments: M N K transA density [reps]. B is row-major K x N (for 100x784x500 the RBM's Wᵀ is
// stored row-major here, which its product would have to pack the same way).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "onsager_kernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))), apply_to = function)
typedef float vf __attribute__((vector_size(64)));

// The CSR of A's ones: A row-major M x K, or with transA A[i, k] = src[k * M + i].
static void build(long M, long K, const float *A, int transA, int *rowptr, int *idx) {
    if (!transA) {
        long n = 0;
        for (long i = 0; i < M; i++) {
            rowptr[i] = (int)n;
            for (long k = 0; k < K; k++) {
                idx[n] = (int)k;
                n += A[i * K + k] != 0;
            }
        }
        rowptr[M] = (int)n;
        return;
    }
    for (long i = 0; i <= M; i++) rowptr[i] = 0;
    for (long k = 0; k < K; k++)
        for (long i = 0; i < M; i++) rowptr[i + 1] += A[k * M + i] != 0;
    for (long i = 0; i < M; i++) rowptr[i + 1] += rowptr[i];
    int *pos = malloc(sizeof(int) * (size_t)M);
    memcpy(pos, rowptr, sizeof(int) * (size_t)M);
    for (long k = 0; k < K; k++)
        for (long i = 0; i < M; i++)
            if (A[k * M + i] != 0) idx[pos[i]++] = (int)k;
    free(pos);
}

// B (K x N, row-major) in 32-column panels over all of K, zero-padded to a whole number of pairs.
static void pack(long N, long K, const float *B, float *Bp) {
    for (long j0 = 0; j0 < N; j0 += 32) {
        long w = N - j0 < 32 ? N - j0 : 32;
        float *d = Bp + j0 * K;
        for (long k = 0; k < K; k++)
            for (long j = 0; j < 32; j++) d[k * 32 + j] = j < w ? B[k * N + j0 + j] : 0;
    }
}

static void rows(long M, long N, long K, const int *rowptr, const int *idx, const float *Bp, float *C) {
    for (long j0 = 0; j0 < N; j0 += 64) {
        const float *P = Bp + j0 * K, *Q = P + 32 * K;
        long w = N - j0 < 64 ? N - j0 : 64;
        for (long i = 0; i < M; i++) {
            vf a0 = {}, a1 = {}, a2 = {}, a3 = {}, b0 = {}, b1 = {}, b2 = {}, b3 = {};
            const int *p = idx + rowptr[i], *e = idx + rowptr[i + 1];
            for (; p + 2 <= e; p += 2) {
                long r = (long)p[0] * 32, s = (long)p[1] * 32;
                a0 += *(const vf *)(P + r); a1 += *(const vf *)(P + r + 16);
                a2 += *(const vf *)(Q + r); a3 += *(const vf *)(Q + r + 16);
                b0 += *(const vf *)(P + s); b1 += *(const vf *)(P + s + 16);
                b2 += *(const vf *)(Q + s); b3 += *(const vf *)(Q + s + 16);
            }
            if (p < e) {
                long r = (long)p[0] * 32;
                a0 += *(const vf *)(P + r); a1 += *(const vf *)(P + r + 16);
                a2 += *(const vf *)(Q + r); a3 += *(const vf *)(Q + r + 16);
            }
            vf t[4] = {a0 + b0, a1 + b1, a2 + b2, a3 + b3};
            for (long j = 0; j < w; j++) C[i * N + j0 + j] = t[j / 16][j % 16];
        }
    }
}
#pragma clang attribute pop

int main(int argc, char **argv) {
    if (argc < 6 || !__builtin_cpu_supports("avx512f")) {
        fprintf(stderr, "usage: %s M N K transA density [reps] (needs AVX-512)\n", argv[0]);
        return 2;
    }
    long M = atol(argv[1]), N = atol(argv[2]), K = atol(argv[3]);
    int transA = atoi(argv[4]), reps = argc > 6 ? atoi(argv[6]) : 200;
    double p = atof(argv[5]);
    if (M < 1 || N < 1 || K < 1 || reps < 1) return 2;
    long Np = (N + 63) / 64 * 64;
    float *A = malloc(sizeof(float) * (size_t)(M * K)), *B = malloc(sizeof(float) * (size_t)(K * N));
    float *Bp = aligned_alloc(64, sizeof(float) * (size_t)(Np * K));
    float *C0 = malloc(sizeof(float) * (size_t)(M * N)), *C1 = malloc(sizeof(float) * (size_t)(M * N));
    int *rowptr = malloc(sizeof(int) * (size_t)(M + 1)), *idx = malloc(sizeof(int) * (size_t)(M * K));
    double *td = malloc(sizeof(double) * (size_t)reps), *tb = malloc(sizeof(double) * (size_t)reps);
    double *tp = malloc(sizeof(double) * (size_t)reps), *tr = malloc(sizeof(double) * (size_t)reps);
    if (!A || !B || !Bp || !C0 || !C1 || !rowptr || !idx || !td || !tb || !tp || !tr) return 1;
    srand(1);
    for (long i = 0; i < M * K; i++) A[i] = rand() < p * (double)RAND_MAX ? 1.f : 0.f;
    for (long i = 0; i < K * N; i++) B[i] = (float)(rand() / (double)RAND_MAX - 0.5);
    memset(Bp, 0, sizeof(float) * (size_t)(Np * K));
    onsager_set_num_threads(1);
    long rsa = transA ? 1 : K, csa = transA ? M : 1;
    for (int r = 0; r < reps; r++) {
        double t = now();
        onsager_sgemm(M, N, K, 1, A, rsa, csa, B, N, 1, 0, C0, N);
        td[r] = now() - t;
        t = now();
        build(M, K, A, transA, rowptr, idx);
        tb[r] = now() - t;
        t = now();
        pack(N, K, B, Bp);
        tp[r] = now() - t;
        t = now();
        rows(M, N, K, rowptr, idx, Bp, C1);
        tr[r] = now() - t;
    }
    double err = 0;
    for (long i = 0; i < M * N; i++) err = fmax(err, fabs(C1[i] - C0[i]));
    qsort(td, (size_t)reps, sizeof(double), by_value);
    qsort(tb, (size_t)reps, sizeof(double), by_value);
    qsort(tp, (size_t)reps, sizeof(double), by_value);
    qsort(tr, (size_t)reps, sizeof(double), by_value);
    double d = td[reps / 2], b = tb[reps / 2], pk = tp[reps / 2], s = tr[reps / 2];
    printf("%ldx%ldx%ld transA=%d density %.2f (%d ones): dense %.0f us, build %.0f us, pack %.0f us, rows %.0f us; "
           "kernel %.2fx, all %.2fx; max |difference| %.1e\n",
           M, N, K, transA, p, rowptr[M], d * 1e6, b * 1e6, pk * 1e6, s * 1e6, d / s, d / (b + pk + s), err);
    return 0;
}
