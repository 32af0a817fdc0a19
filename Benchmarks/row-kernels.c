// Nanoseconds per element of the Float row kernels behind softmax, log-softmax and LayerNorm
// (forward and backward), beside an elementwise product and exp over the same array: the numbers
// behind the row kernels' comments in Sources/COnsagerKernels/templates/elementwise_template.h.
// One thread, best of 15 repetitions. Not part of the package build. From the root:
//   K=Sources/COnsagerKernels
//   clang -O2 -D_GNU_SOURCE -I$K/include Benchmarks/row-kernels.c $K/allocator.c $K/cpu.c $K/elementwise.c \
//       $K/gemm.c $K/pool.c -o /tmp/row-kernels -lpthread -lm && /tmp/row-kernels 4096 128 100
// Arguments: rows, row length, calls per repetition (default 4096 128 100: op-softmax's 2 MB).
#include "onsager_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    long rows = argc > 1 ? atol(argv[1]) : 4096, n = argc > 2 ? atol(argv[2]) : 128;
    int calls = argc > 3 ? atoi(argv[3]) : 100;
    if (rows < 1 || n < 1 || calls < 1) { fprintf(stderr, "usage: %s [rows n calls]\n", argv[0]); return 2; }
    long N = rows * n;
    float *x = malloc(4 * N), *y = malloc(4 * N), *w = malloc(4 * N), *g = malloc(4 * N);
    float *gamma = malloc(4 * n), *beta = malloc(4 * n), *dgamma = malloc(4 * n), *dbeta = malloc(4 * n);
    float *rstd = malloc(4 * rows), *xhat = malloc(4 * N);
    if (!x || !y || !w || !g || !gamma || !beta || !dgamma || !dbeta || !rstd || !xhat) return 1;
    for (long i = 0; i < N; i++) {
        x[i] = (float)((i * 7919 % 2000) - 1000) / 300.f;
        w[i] = 0.5f;
        g[i] = (float)(i % 13) / 13.f - 0.5f;
    }
    for (long j = 0; j < n; j++) { gamma[j] = 1 + (float)(j % 5) / 10.f; beta[j] = (float)(j % 3) / 10.f; }
    onsager_set_num_threads(1);
    const char *names[] = {"softmax", "softmax backward", "log-softmax", "layer norm with scale and shift",
                           "its backward to x", "its scale's and shift's gradients", "product of two arrays", "exp"};
    long shape[1] = {N}, unit[1] = {1};
    for (int op = 0; op < 8; op++) {
        double best = 1e9;
        for (int rep = 0; rep < 15; rep++) {
            double t0 = now();
            for (int k = 0; k < calls; k++) {
                switch (op) {
                case 0: onsager_softmax_rows_f32(x, rows, n, y); break;
                case 1: onsager_softmax_rows_backward_f32(y, g, rows, n, w); break;
                case 2: onsager_log_softmax_rows_f32(x, rows, n, y); break;
                case 3: onsager_normalize_rows_affine_f32(x, rows, n, 1e-5f, gamma, beta, xhat, rstd, y); break;
                case 4: onsager_normalize_rows_affine_backward_f32(xhat, rstd, g, gamma, rows, n, w); break;
                case 5: onsager_layer_norm_param_grads_f32(xhat, g, rows, n, dgamma, dbeta); break;
                case 6: onsager_binary_f32(ONS_MUL, 1, shape, x, unit, g, unit, y); break;
                default: onsager_unary_f32(ONS_EXP, x, y, N); break;
                }
            }
            double t = (now() - t0) / calls;
            if (t < best) best = t;
        }
        printf("%-36s [%ld, %ld]: %8.1f us, %.3f ns/element\n", names[op], rows, n, best * 1e6, best * 1e9 / N);
    }
    return 0;
}
