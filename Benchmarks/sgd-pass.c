// The SGD pass of an mlp-big step alone: θ ← θ − lr·∇θ over the five weight matrices of the
// 784-2500-2000-1500-1000-500-10 network (48 MB of weights, 48 MB of gradients; read, read and
// written), with 64 MB of other memory touched between passes as the step's GEMMs would. The term
// beside the GEMMs in the bound on mlp-big-step ≥ 1.2× JAX (README, "Where the targets stand").
// Not part of the package build. From the repository root:
//   K=Sources/COnsagerKernels
//   clang -O3 -D_GNU_SOURCE -I$K/include -I$K Benchmarks/sgd-pass.c $K/*.c -o /tmp/sgd-pass -lpthread -lm -ldl
//   ONSAGER_THREADS=1 /tmp/sgd-pass
#include "onsager_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void) {
    enum { LAYERS = 5, REPS = 15 };
    const long sizes[LAYERS] = {784 * 2500, 2500 * 2000, 2000 * 1500, 1500 * 1000, 1000 * 500};
    long n = 0;
    for (int i = 0; i < LAYERS; i++) n += sizes[i];
    float *w = aligned_alloc(64, n * sizeof(float)), *g = aligned_alloc(64, n * sizeof(float));
    const long other = 64L << 20;
    char *elsewhere = malloc(other);
    if (!w || !g || !elsewhere) return 1;
    for (long i = 0; i < n; i++) { w[i] = 1; g[i] = 0.5f; }
    double t[REPS];
    for (int r = 0; r < REPS; r++) {
        for (long i = 0; i < other; i += 64) elsewhere[i] = (char)r;   // the GEMMs' traffic
        double t0 = now();
        for (long i = 0, off = 0; i < LAYERS; off += sizes[i], i++) onsager_axpy_f32(sizes[i], -0.01f, g + off, w + off);
        t[r] = now() - t0;
    }
    qsort(t, REPS, sizeof t[0], by_value);
    printf("SGD pass over %ld floats (%.1f MB of weights), threads %d: median %.2f ms, %.1f GB/s "
           "(weights read and written, gradients read)\n",
           n, n * 4 / 1e6, onsager_get_num_threads(), t[REPS / 2] * 1e3, 3.0 * n * 4 / t[REPS / 2] / 1e9);
    return 0;
}
