// Nanoseconds per element of the float elementwise kernels an RBM update spends its non-GEMM time
// in (exp, sigmoid, softplus, the fused softplus row sum with sigma, sampling from logits and from
// probabilities) and the microseconds of its linear term's matrix-vector product, on one thread:
// the numbers behind the fusions in Sources/COnsagerKernels/elementwise.c. Not part of the
// package build. From the root:
//   K=Sources/COnsagerKernels
//   clang -O2 -D_GNU_SOURCE -I$K/include Benchmarks/kernel-micro.c $K/elementwise.c $K/pool.c $K/cpu.c $K/gemm.c \
//       -o /tmp/kernel-micro -lpthread -lm && /tmp/kernel-micro
// Best of 20 repetitions of 100 calls on a [200, 500] field (an RBM batch of data and chains).
#include "onsager_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
    const long rows = 200, n = 500, N = rows * n;
    float *x = malloc(4 * N), *sig = malloc(4 * N), *sum = malloc(4 * rows), *y = malloc(4 * N);
    for (long i = 0; i < N; i++) x[i] = (float)((i * 7919 % 2000) - 1000) / 100.f;   // fields in [-10, 10)
    onsager_set_num_threads(1);
    const char *names[] = {"exp", "sigmoid", "softplus", "softplus row sum + sigma (fused)", "bernoulli from logits", "bernoulli"};
    for (long i = 0; i < N; i++) sig[i] = (float)(i % 97) / 96.f;   // probabilities for "bernoulli"
    for (int op = 0; op < 6; op++) {
        double best = 1e9;
        for (int r = 0; r < 20; r++) {
            double t0 = now();
            for (int k = 0; k < 100; k++) {
                switch (op) {
                case 0: onsager_unary_f32(ONS_EXP, x, y, N); break;
                case 1: onsager_unary_f32(ONS_SIGMOID, x, y, N); break;
                case 2: onsager_unary_f32(ONS_SOFTPLUS, x, y, N); break;
                case 3: onsager_softplus_rowsum_f32(x, rows, n, sum, sig); break;
                case 4: onsager_rand_bernoulli_logits_f32(1, (uint64_t)k * N, x, y, N); break;
                default: onsager_rand_bernoulli_f32(1, (uint64_t)k * N, sig, y, N); break;
                }
            }
            double t = (now() - t0) / 100 / N * 1e9;
            if (t < best) best = t;
        }
        printf("%-34s %.3f ns/element\n", names[op], best);
    }
    // The linear term a·v of F(v) for [data; chains]: [200, 784]·[784].
    const long M = 200, Kd = 784;
    float *A = malloc(4 * M * Kd), *v = malloc(4 * Kd), *out = malloc(4 * M);
    for (long i = 0; i < M * Kd; i++) A[i] = (float)(i % 97) * 0.01f;
    for (long i = 0; i < Kd; i++) v[i] = (float)(i % 13) * 0.1f;
    double best = 1e9;
    for (int r = 0; r < 20; r++) {
        double t0 = now();
        for (int k = 0; k < 200; k++) onsager_sgemm(M, 1, Kd, 1, A, Kd, 1, v, 1, 1, 0, out, 1);
        double t = (now() - t0) / 200 * 1e6;
        if (t < best) best = t;
    }
    printf("%-34s %.2f us\n", "matrix-vector [200, 784]·[784]", best);
    return 0;
}
