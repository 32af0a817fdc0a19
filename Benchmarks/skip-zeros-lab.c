// Products with their left operand's all-zero columns or rows skipped (skip_zeros.c), timed
// against the same product with the path off, call by call in alternation on one thread.
//   columns: C = A·B with A a batch (M x K, by rows) whose columns are zero with probability z
//            (units off for the whole batch) and half its other values zero (a ReLU's); B by rows
//            (g·W) or by columns (x·Wᵀ); relu(AB + bias) as a layer's forward.
//   rows:    C = A·B with A (M x K) by columns, as a weight gradient's gᵀ, whose rows are zero with
//            probability z; B a batch by rows.
//   bcols:   the rows case with B's columns zero with probability z (a batch of ReLU outputs whose
//            units are off for all of it, or images' dark pixels) and A's rows with the probability
//            given in place of the layout (0: none).
//   units:   the rows case with each row of A (a hidden unit over a batch) nonzero with its own
//            chance Φ(s·z), z standard normal, s given in place of zero-share (2: mostly off or
//            mostly on, as measured in the MLP steps); timed three ways: off, only all-zero rows
//            left out, and the rows with few nonzeros computed by sparse_rows.c; C compared bit
//            for bit between them.
// An optional last argument sets the thread count (default 1).
// Prints the best and mean time ratios (off / on: > 1, the path is faster) and GFLOPS counted
// as the full product. The path is taken from a sixteenth of A's zero columns or rows, and from an
// eighth of B's zero columns (a fifth where C is over twice L2); build with -DSZ_MIN_SHARE=1000,
// -DSZ_BCOLS_MIN_SHARE=1000 or -DSZ_BCOLS_MIN_SHARE_STREAMED=1000 (they apply to the kernels
// compiled on the same line) to time it on fewer, down to its cost with none dropped.
//   K=Sources/COnsagerKernels
//   clang -O3 -D_GNU_SOURCE -I$K/include -I$K [-DSZ_MIN_SHARE=1000] Benchmarks/skip-zeros-lab.c $K/*.c \
//       -o /tmp/skip-zeros-lab -lpthread -lm -ldl
//   /tmp/skip-zeros-lab columns 100 2500 2000 rows-major 0.1 20
//   /tmp/skip-zeros-lab columns 100 2000 2500 columns-major 0.1 20
//   /tmp/skip-zeros-lab rows 2000 2500 100 - 0.1 20
//   /tmp/skip-zeros-lab bcols 500 784 100 0.1 0.35 20
//   /tmp/skip-zeros-lab units 500 784 100 - 2 20
#include "onsager_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>

#include "lab-draws.h"

int main(int argc, char **argv) {
    if (argc < 8) {
        fprintf(stderr, "usage: %s columns|rows|bcols|units M N K rows-major|columns-major|-|a-row-share zero-share reps [threads]\n",
                argv[0]);
        return 2;
    }
    int units = strcmp(argv[1], "units") == 0;
    int bcolmode = strcmp(argv[1], "bcols") == 0, rows = units || bcolmode || strcmp(argv[1], "rows") == 0;
    double zrows = bcolmode ? atof(argv[5]) : 0;
    int threads = argc > 8 ? atoi(argv[8]) : 1;
    long M = atol(argv[2]), N = atol(argv[3]), K = atol(argv[4]);
    int bcols = strcmp(argv[5], "columns-major") == 0;
    double z = atof(argv[6]);
    int reps = atoi(argv[7]);
    if (M <= 0 || N <= 0 || K <= 0 || reps <= 0 || z < 0 || (z > 1 && !units) || zrows < 0 || zrows > 1 || threads < 1 ||
        (!rows && strcmp(argv[1], "columns") != 0)) {
        fprintf(stderr, "skip-zeros-lab: bad arguments\n");
        return 2;
    }
    long lines = bcolmode ? N : rows ? M : K;   // the columns (or rows) of A, or B's columns, that may be all zero
    float *A = malloc(sizeof(float) * (size_t)(M * K)), *B = malloc(sizeof(float) * (size_t)(K * N));
    float *C = malloc(sizeof(float) * (size_t)(M * N)), *bias = calloc((size_t)N, sizeof(float));
    char *dead = malloc((size_t)lines);
    if (!A || !B || !C || !bias || !dead) return 1;
    char *deadrow = malloc((size_t)M);
    if (!deadrow) return 1;
    for (long l = 0; l < lines; l++) dead[l] = draw() < z;
    for (long i = 0; i < M; i++) deadrow[i] = draw() < zrows;
    double *chance = malloc(sizeof(double) * (size_t)M);
    if (!chance) return 1;
    for (long i = 0; i < M; i++) {   // units: Φ(s·z), z by Box-Muller
        double u1 = 1 - draw(), u2 = draw();
        chance[i] = 0.5 * erfc(-z * sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2) / sqrt(2.0));
    }
    for (long x = 0; x < M * K; x++) {
        long line = rows ? x % M : x % K;   // A by columns (rows mode: x = k·M + i) or by rows (x = i·K + k)
        double u = draw();
        if (units) A[x] = draw() < chance[line] ? (float)(u - 0.4) : 0.0f;
        else A[x] = (bcolmode ? deadrow[line] : dead[line]) || u < 0.5 ? 0.0f : (float)(u - 0.4);
    }
    for (long x = 0; x < K * N; x++) B[x] = bcolmode && dead[x % N] ? 0.0f : (float)(draw() - 0.5);
    long rsb = bcols && !rows ? 1 : N, csb = bcols && !rows ? K : 1;
    onsager_set_num_threads(threads);
    double best[3] = {1e30, 1e30, 1e30}, total[3] = {0, 0, 0};
    long taken = 0, sparse_taken = 0;
    int ways = units ? 3 : 2, differ = 0;
    float *C0 = malloc(sizeof(float) * (size_t)(M * N));
    if (!C0) return 1;
    for (int r = 0; r < reps; r++)
        for (int on = 0; on < ways; on++) {
            onsager_set_thread_skip_zeros(on > 0);
            onsager_set_thread_sparse_rows(!units || on == 2);
            long before = onsager_skip_zeros_product_count(), sbefore = onsager_sparse_rows_product_count();
            double t0 = now();
            if (rows) onsager_sgemm(M, N, K, 1, A, 1, M, B, N, 1, 0, C, N);
            else onsager_sgemm_bias_relu(M, N, K, 1, A, K, 1, B, rsb, csb, bias, C, N);
            double t = now() - t0;
            if (on == ways - 1) taken += onsager_skip_zeros_product_count() - before;
            sparse_taken += onsager_sparse_rows_product_count() - sbefore;
            if (on == 0) memcpy(C0, C, sizeof(float) * (size_t)(M * N));
            else differ |= memcmp(C0, C, sizeof(float) * (size_t)(M * N)) != 0;
            if (t < best[on]) best[on] = t;
            total[on] += t;
        }
    double gflop = 2.0 * (double)M * (double)N * (double)K * 1e-9;
    if (units) {
        long nz = 0, zero_rows = 0, few = 0;
        for (long i = 0; i < M; i++) {
            long c = 0;
            for (long k = 0; k < K; k++) c += A[k * M + i] != 0;
            nz += c;
            zero_rows += c == 0;
            few += c > 0 && c <= 0.4 * K;
        }
        printf("units %ldx%ldx%ld, s %.2f: %.1f %% nonzero, %.1f %% of rows zero, %.1f %% with 1-40 %% nonzero: "
               "off %.1f GFLOPS, zero rows %.1f, sparse rows %.1f (full-product count); best ratios %.3f and %.3f "
               "to off (sparse to zero rows %.3f), mean %.3f and %.3f; sparse path taken %ld of %d; bits %s (%d threads)\n",
               M, N, K, z, 100.0 * nz / (M * K), 100.0 * zero_rows / M, 100.0 * few / M, gflop / best[0], gflop / best[1],
               gflop / best[2], best[0] / best[1], best[0] / best[2], best[1] / best[2], total[0] / total[1],
               total[0] / total[2], sparse_taken, reps, differ ? "DIFFER" : "equal", threads);
        return differ;
    }
    long zeros = 0;
    for (long l = 0; l < lines; l++) zeros += dead[l];
    printf("%s %ldx%ldx%ld%s, %.1f %% of %s zero: off %.1f GFLOPS, on %.1f (full-product count); best ratio %.3f, "
           "mean %.3f; path taken %ld of %d (%d threads)\n",
           argv[1], M, N, K, rows ? "" : bcols ? " B by columns" : " B by rows", 100.0 * (double)zeros / (double)lines,
           bcolmode ? "B's columns" : rows ? "A's rows" : "A's columns", gflop / best[0], gflop / best[1], best[0] / best[1], total[0] / total[1], taken, reps, threads);
    return 0;
}
