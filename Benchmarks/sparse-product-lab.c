// Products whose A, stored by rows, is sparse in every row (an RBM's binary visible samples, images
// on a dark background), computed whole by sparse_rows.c (onsager_sparse_product), timed call by
// call in alternation against the same product with that path off, three ways: the FMA kernels
// (masked adds off), the masked adds (zero_one_gemm.c: 0/1 values on AMD's AVX-512 cores), and the
// sparse path; C = A·B + bias, A's values nonzero with the given chance (1 with `binary` 1, else
// uniform), B by rows (transB 0) or by columns (1: x·Wᵀ, which the path does not take). Prints
// the best times as GFLOPS counted as the full product, the ratios, how often the path ran, and
// whether each other path's C had the FMA kernels' bits (the sparse path must; the masked adds
// do for K up to 1024 under AMD's blocking, not under Intel's shallower K blocks, where they run
// only when forced, as here). Exits 1 if the sparse path's bits differ. An optional last argument
// sets the thread count (default 1). From the repository root:
//   K=Sources/COnsagerKernels
//   clang -O3 -D_GNU_SOURCE -I$K/include -I$K Benchmarks/sparse-product-lab.c $K/*.c -o /tmp/sparse-product-lab -lpthread -lm -ldl
//   /tmp/sparse-product-lab 100 500 784 0.13 0 1 20        # M N K density transB binary reps [threads]
// (-DSR_PRODUCT_SHARE=0.6 -DSR_PRODUCT_SHARE_PASSES=0.6 -DSR_PRODUCT_ROW_SHARE=0.7 on the same line
// times denser A; -DSR_SUB_L1=100 the B block in one pass; TUNING=general or
// TUNING=intel in the environment forces that GEMM blocking; PASSES=0 or PASSES=1 turns the
// passes over parts of B off or on, where the default is on; TRANSA=1 stores A by columns, as a
// weight gradient's gᵀ or an RBM's vᵀ is: the sparse way is then the FMA kernels with A's sparse
// rows computed apart, sparse_rows.c's hybrid, and C has no bias; the lab forces each way, so the
// choice gemm.c makes between them, onsager_sparse_rows_before_zero_one, is not timed here.)
#include "onsager_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lab-draws.h"

int main(int argc, char **argv) {
    if (argc < 8) {
        fprintf(stderr, "usage: %s M N K density transB binary reps [threads]\n", argv[0]);
        return 2;
    }
    long M = atol(argv[1]), N = atol(argv[2]), K = atol(argv[3]);
    double density = atof(argv[4]);
    int transB = atoi(argv[5]), binary = atoi(argv[6]), reps = atoi(argv[7]), threads = argc > 8 ? atoi(argv[8]) : 1;
    if (M <= 0 || N <= 0 || K <= 0 || reps <= 0 || threads < 1 || density < 0 || density > 1) {
        fprintf(stderr, "sparse-product-lab: bad arguments\n");
        return 2;
    }
    float *A = malloc(sizeof(float) * (size_t)(M * K)), *B = malloc(sizeof(float) * (size_t)(K * N));
    float *C = malloc(sizeof(float) * (size_t)(M * N)), *C0 = malloc(sizeof(float) * (size_t)(M * N));
    float *bias = malloc(sizeof(float) * (size_t)N);
    if (!A || !B || !C || !C0 || !bias) return 1;
    for (long x = 0; x < M * K; x++) A[x] = draw() < density ? (binary ? 1.0f : (float)draw()) : 0.0f;
    for (long x = 0; x < K * N; x++) B[x] = (float)(draw() - 0.5);
    for (long j = 0; j < N; j++) bias[j] = (float)(draw() - 0.5);
    long rsb = transB ? 1 : N, csb = transB ? K : 1;
    const char *transA = getenv("TRANSA");   // 1: A stored by columns (the same values)
    long rsa = K, csa = 1;
    if (transA && atoi(transA)) {
        float *At = malloc(sizeof(float) * (size_t)(M * K));
        if (!At) return 1;
        for (long i = 0; i < M; i++)
            for (long k = 0; k < K; k++) At[k * M + i] = A[i * K + k];
        free(A);
        A = At;
        rsa = 1;
        csa = M;
    }
    onsager_set_num_threads(threads);
    const char *tuning = getenv("TUNING");   // general or intel: that GEMM blocking on any CPU
    if (tuning) onsager_force_gemm_tuning(strcmp(tuning, "intel") == 0 ? ONSAGER_GEMM_TUNING_INTEL : ONSAGER_GEMM_TUNING_GENERAL);
    const char *passes = getenv("PASSES");   // 0 or 1: the sparse path's passes off or on
    if (passes) onsager_set_thread_sparse_passes(atoi(passes) != 0);
    double best[3] = {1e30, 1e30, 1e30};
    int differ[3] = {0, 0, 0};
    long taken = 0;
    for (int r = 0; r < reps; r++)
        for (int way = 0; way < 3; way++) {   // the FMA kernels, the masked adds, the sparse path
            onsager_set_thread_sparse_rows(way == 2);
            onsager_set_thread_zero_one(way == 1);
            long before = onsager_sparse_rows_product_count();
            double t0 = now();
            if (rsa == 1)   // (the hybrid takes no bias, as a weight gradient has none)
                onsager_sgemm(M, N, K, 1, A, rsa, csa, B, rsb, csb, 0, C, N);
            else
                onsager_sgemm_bias(M, N, K, 1, A, rsa, csa, B, rsb, csb, bias, C, N);
            double t = now() - t0;
            if (way == 2) taken += onsager_sparse_rows_product_count() - before;
            if (way == 0) memcpy(C0, C, sizeof(float) * (size_t)(M * N));
            else differ[way] |= memcmp(C0, C, sizeof(float) * (size_t)(M * N)) != 0;
            if (t < best[way]) best[way] = t;
        }
    double gflop = 2.0 * (double)M * (double)N * (double)K * 1e-9;
    printf("%ldx%ldx%ld, %.2f nonzero (%s), B by %s: FMA %.1f, masked adds %.1f, sparse %.1f GFLOPS (full-product "
           "count); sparse/FMA %.2f, sparse/masked adds %.2f; sparse path taken %ld of %d; bits against the FMA kernels: masked adds %s, sparse %s (%d threads)\n",
           M, N, K, density, binary ? "0/1" : "values", transB ? "columns" : "rows", gflop / best[0], gflop / best[1],
           gflop / best[2], best[0] / best[2], best[1] / best[2], taken, reps, differ[1] ? "DIFFER" : "equal", differ[2] ? "DIFFER" : "equal", threads);
    return differ[2];
}
