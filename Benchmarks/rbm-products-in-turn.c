// The three products of an RBM update (x·W + b over [data; chains], h·Wᵀ + a, and the weight
// gradient xᵀ·g) called in the epoch's order with an SGD-like pass over W between updates, against
// each product called alone in a loop: whether the products lose speed to each other's cache
// traffic inside an epoch. One thread, median GFLOPS of 300 calls. The alone loops run after the
// loop in turn, not alternated with it, so a drift of the host's speed between the two phases
// shows as a difference: run it several times. Not part of the package build.
// From the repository root:
//   K=Sources/COnsagerKernels
//   clang -O3 -D_GNU_SOURCE -I$K/include -I$K Benchmarks/rbm-products-in-turn.c $K/*.c -o /tmp/rbm-products -lpthread -lm -ldl
//   for i in 1 2 3; do /tmp/rbm-products; done
#include <stdio.h>
#include <stdlib.h>
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

enum { R = 300 };

static double median(double *t) {
    qsort(t, R, sizeof(double), by_value);
    return t[R / 2];
}

int main(void) {
    const long nv = 784, nh = 500;
    float *W = aligned_alloc(64, sizeof(float) * nv * nh), *x = aligned_alloc(64, sizeof(float) * 200 * nv);
    float *h = aligned_alloc(64, sizeof(float) * 100 * nh), *g = aligned_alloc(64, sizeof(float) * 200 * nh);
    float *F = aligned_alloc(64, sizeof(float) * 200 * nh), *V = aligned_alloc(64, sizeof(float) * 100 * nv);
    float *dW = aligned_alloc(64, sizeof(float) * nv * nh), *a = calloc(nv, sizeof(float)), *b = calloc(nh, sizeof(float));
    if (!W || !x || !h || !g || !F || !V || !dW || !a || !b) return 1;
    srand(1);
    for (long i = 0; i < nv * nh; i++) W[i] = (rand() / (float)RAND_MAX - 0.5f) * 0.02f;
    for (long i = 0; i < 200 * nv; i++) x[i] = rand() % 3 == 0;
    for (long i = 0; i < 100 * nh; i++) h[i] = rand() % 2;
    for (long i = 0; i < 200 * nh; i++) g[i] = (rand() / (float)RAND_MAX - 0.5f) * 0.01f;
    onsager_set_num_threads(1);
    static double t1[R], t2[R], t3[R], s1[R], s2[R], s3[R];
    for (int r = 0; r < R; r++) {
        double t = now();
        onsager_sgemm_bias(200, nh, nv, 1, x, nv, 1, W, nh, 1, b, F, nh);
        t1[r] = now() - t;
        t = now();
        onsager_sgemm_bias(100, nv, nh, 1, h, nh, 1, W, 1, nh, a, V, nv);
        t2[r] = now() - t;
        t = now();
        onsager_sgemm(nv, nh, 200, 1, x, 1, nv, g, nh, 1, 0, dW, nh);
        t3[r] = now() - t;
        for (long i = 0; i < nv * nh; i++) W[i] -= 1e-9f * dW[i];   // the update reads W and dW
    }
    for (int r = 0; r < R; r++) {
        double t = now();
        onsager_sgemm_bias(200, nh, nv, 1, x, nv, 1, W, nh, 1, b, F, nh);
        s1[r] = now() - t;
    }
    for (int r = 0; r < R; r++) {
        double t = now();
        onsager_sgemm_bias(100, nv, nh, 1, h, nh, 1, W, 1, nh, a, V, nv);
        s2[r] = now() - t;
    }
    for (int r = 0; r < R; r++) {
        double t = now();
        onsager_sgemm(nv, nh, 200, 1, x, 1, nv, g, nh, 1, 0, dW, nh);
        s3[r] = now() - t;
    }
    double f1 = 2.0 * 200 * nh * nv, f2 = 2.0 * 100 * nv * nh, f3 = 2.0 * nv * nh * 200;
    printf("in turn: x·W+b %.1f, h·Wᵀ+a %.1f, xᵀ·g %.1f GFLOPS; alone: %.1f, %.1f, %.1f\n", f1 / median(t1) / 1e9,
           f2 / median(t2) / 1e9, f3 / median(t3) / 1e9, f1 / median(s1) / 1e9, f2 / median(s2) / 1e9, f3 / median(s3) / 1e9);
    return 0;
}
