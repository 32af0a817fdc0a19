// Products with their left operand's all-zero columns or rows skipped (skip_zeros.c), timed
// against the same product with the path off, call by call in alternation on one thread.
//   columns: C = A·B with A a batch (M x K, by rows) whose columns are zero with probability z
//            (units off for the whole batch) and half its other values zero (a ReLU's); B by rows
//            (g·W) or by columns (x·Wᵀ); relu(AB + bias) as a layer's forward.
//   rows:    C = A·B with A (M x K) by columns, as a weight gradient's gᵀ, whose rows are zero with
//            probability z; B a batch by rows.
// Prints the best and mean time ratios (off / on: > 1, the path is faster) and GFLOPS counted
// as the full product. The path is taken from a sixteenth of zero columns or rows; build with
// -DSZ_MIN_SHARE=1000 (it applies to the kernels compiled on the same line) to time it on fewer,
// down to its cost with none dropped.
//   K=Sources/COnsagerKernels
//   clang -O3 -D_GNU_SOURCE -I$K/include -I$K [-DSZ_MIN_SHARE=1000] Benchmarks/skip-zeros-lab.c $K/*.c \
//       -o /tmp/skip-zeros-lab -lpthread -lm -ldl
//   /tmp/skip-zeros-lab columns 100 2500 2000 rows-major 0.1 20
//   /tmp/skip-zeros-lab columns 100 2000 2500 columns-major 0.1 20
//   /tmp/skip-zeros-lab rows 2000 2500 100 - 0.1 20
#include "onsager_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long long state = 88172645463325252ULL;
static double draw(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (double)(state >> 11) * (1.0 / 9007199254740992.0);
}
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 8) {
        fprintf(stderr, "usage: %s columns|rows M N K rows-major|columns-major|- zero-share reps\n", argv[0]);
        return 2;
    }
    int rows = strcmp(argv[1], "rows") == 0;
    long M = atol(argv[2]), N = atol(argv[3]), K = atol(argv[4]);
    int bcols = strcmp(argv[5], "columns-major") == 0;
    double z = atof(argv[6]);
    int reps = atoi(argv[7]);
    if (M <= 0 || N <= 0 || K <= 0 || reps <= 0 || z < 0 || z > 1 || (!rows && strcmp(argv[1], "columns") != 0)) {
        fprintf(stderr, "skip-zeros-lab: bad arguments\n");
        return 2;
    }
    long lines = rows ? M : K;   // the columns (or rows) of A that may be all zero
    float *A = malloc(sizeof(float) * (size_t)(M * K)), *B = malloc(sizeof(float) * (size_t)(K * N));
    float *C = malloc(sizeof(float) * (size_t)(M * N)), *bias = calloc((size_t)N, sizeof(float));
    char *dead = malloc((size_t)lines);
    if (!A || !B || !C || !bias || !dead) return 1;
    for (long l = 0; l < lines; l++) dead[l] = draw() < z;
    for (long x = 0; x < M * K; x++) {
        long line = rows ? x % M : x % K;   // A by columns (rows mode: x = k·M + i) or by rows (x = i·K + k)
        double u = draw();
        A[x] = dead[line] || u < 0.5 ? 0.0f : (float)(u - 0.4);
    }
    for (long x = 0; x < K * N; x++) B[x] = (float)(draw() - 0.5);
    long rsb = bcols && !rows ? 1 : N, csb = bcols && !rows ? K : 1;
    onsager_set_num_threads(1);
    double best[2] = {1e30, 1e30}, total[2] = {0, 0};
    long taken = 0;
    for (int r = 0; r < reps; r++)
        for (int on = 0; on < 2; on++) {
            onsager_set_thread_skip_zeros(on);
            long before = onsager_skip_zeros_product_count();
            double t0 = now();
            if (rows) onsager_sgemm(M, N, K, 1, A, 1, M, B, N, 1, 0, C, N);
            else onsager_sgemm_bias_relu(M, N, K, 1, A, K, 1, B, rsb, csb, bias, C, N);
            double t = now() - t0;
            taken += onsager_skip_zeros_product_count() - before;
            if (t < best[on]) best[on] = t;
            total[on] += t;
        }
    double gflop = 2.0 * (double)M * (double)N * (double)K * 1e-9;
    long zeros = 0;
    for (long l = 0; l < lines; l++) zeros += dead[l];
    printf("%s %ldx%ldx%ld%s, %.1f %% of A's %s zero: off %.1f GFLOPS, on %.1f (full-product count); best ratio %.3f, "
           "mean %.3f; path taken %ld of %d\n",
           argv[1], M, N, K, rows ? "" : bcols ? " B by columns" : " B by rows", 100.0 * (double)zeros / (double)lines,
           rows ? "rows" : "columns", gflop / best[0], gflop / best[1], best[0] / best[1], total[0] / total[1], taken, reps);
    return 0;
}
