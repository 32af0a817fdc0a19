// One product through the library's own sgemm entry point (dispatch, blocking, threads), with a
// chosen leading dimension for B: the measurement behind the B-panel prefetch in
// Sources/COnsagerKernels/templates/gemm_template.h, where B's rows not being 64-byte aligned
// (ldb = 2500 floats, an MLP layer's weights) cost a quarter of the rate when B streams from
// L3. Median and best of `reps` calls, in GFLOPS; one thread unless NT is set. Not part of the
// package build. From the repository root (compile a second checkout the same way to compare
// builds; Benchmarks/gemm-shape-ab.sh alternates two such binaries):
//   K=Sources/COnsagerKernels
//   clang -O3 -D_GNU_SOURCE -I$K/include -I$K Benchmarks/gemm-shape.c $K/*.c -o /tmp/gemm-shape -lpthread -lm -ldl
//   for ld in 2500 2512; do /tmp/gemm-shape 100 2500 2000 $ld 0 40; done   # g·W of mlp-big's widest layer
//   /tmp/gemm-shape 100 2500 784 784 1 60                                   # x·Wᵀ, the same layer's forward
// Arguments: M N K ldb transB reps [transA]. C = A·B (M x N); B is K x N row-major with row stride
// ldb, or with transB the transpose of an N x K row-major matrix with row stride ldb; transA
// reads A as the transpose of a K x M matrix (a weight gradient's xᵀ·g).
// With PEAK=1, every call is followed by an FMA loop of as many flops (twelve independent chains on
// zmm registers, as ../shared/bench/fmapeak.c; ymm without AVX-512), and the line adds the median
// of the per-call ratios GEMM rate ÷ FMA rate: the fraction of the FMA peak measured in the same
// moments, which a shared machine's drift moves much less than either rate (one thread only).
//   PEAK=1 /tmp/gemm-shape 1024 1024 1024 1024 0 40
// TUNING=intel (or general) forces that AVX-512 Float blocking (gemm.c) whatever the CPU; with the
// *_INTEL macros set when compiling (-DKC_INTEL=1024 -DBIP_INTEL=1 ...), a blocking can be tried on
// any CPU without editing gemm.c (one thread: the override is per thread).
// BINARY=1 fills A with 0s and 1s, as an RBM's samples (the products that zero_one_gemm.c's masked
// adds, on by default on Zen 4, or AMX tiles take); ONSAGER_ZERO_ONE=0 or 1 turns the first off
// or on for the run (on needs AVX-512).
// DOUBLE=1 times onsager_dgemm on the same shape instead (the same values in double; with PEAK=1 the
// fraction is of half the Float FMA rate, the Double peak).
// NT=2 runs two threads; DETECT=0 with it turns the pool's contention detection off.
// With MKL_LIB=/path/to/libmkl_rt.so.N, the same calls go to MKL's cblas_sgemm instead (link with
// -ldl; set MKL_THREADING_LAYER=SEQUENTIAL for one thread): the other library's fraction of the
// peak, measured the same way.
#include "onsager_kernels.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static volatile float fma_sink;

// fma_rate_zmm / fma_rate_ymm: the FMA rate in GFLOPS over about `flops` floating-point operations,
// twelve independent FMA chains of LANES floats (one function per vector width, each compiled for
// its instruction set).
#define FMA_RATE(NAME, TARGET, LANES)                                                              \
    __attribute__((target(TARGET))) static double NAME(double flops) {                             \
        typedef float v __attribute__((vector_size(LANES * 4)));                                   \
        v acc[12], a = (v){} + 0.999999f, b = (v){} + 1e-7f;                                       \
        for (int i = 0; i < 12; i++) acc[i] = (v){} + (float)i;                                    \
        long iters = (long)(flops / (12 * 2 * LANES)) + 1;                                         \
        double t = now();                                                                          \
        for (long it = 0; it < iters; it++)                                                        \
            _Pragma("clang loop unroll(full)") for (int i = 0; i < 12; i++)                        \
                acc[i] = __builtin_elementwise_fma(acc[i], a, b);                                  \
        t = now() - t;                                                                             \
        for (int i = 1; i < 12; i++) acc[0] += acc[i];                                             \
        fma_sink = acc[0][0];                                                                      \
        return iters * 12.0 * 2 * LANES / t / 1e9;                                                 \
    }
FMA_RATE(fma_rate_zmm, "avx512f,fma", 16)
FMA_RATE(fma_rate_ymm, "avx2,fma", 8)

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: %s M N K ldb transB reps [transA]\n", argv[0]);
        return 2;
    }
    long M = atol(argv[1]), N = atol(argv[2]), K = atol(argv[3]), ldb = atol(argv[4]);
    int transB = atoi(argv[5]), reps = atoi(argv[6]), transA = argc > 7 ? atoi(argv[7]) : 0;
    long bRows = transB ? N : K, bCols = transB ? K : N;
    if (M < 1 || N < 1 || K < 1 || reps < 1 || ldb < bCols) {
        fprintf(stderr, "gemm-shape: need positive M, N, K, reps and ldb >= %ld\n", bCols);
        return 2;
    }
    float *A = aligned_alloc(64, sizeof(float) * (size_t)(M * K + 16));
    float *B = aligned_alloc(64, sizeof(float) * (size_t)(bRows * ldb + 16));
    float *C = aligned_alloc(64, sizeof(float) * (size_t)(M * N + 16));
    const char *double_env = getenv("DOUBLE");
    int dbl = double_env && atoi(double_env);
    double *Ad = dbl ? aligned_alloc(64, sizeof(double) * (size_t)(M * K + 16)) : 0;
    double *Bd = dbl ? aligned_alloc(64, sizeof(double) * (size_t)(bRows * ldb + 16)) : 0;
    double *Cd = dbl ? aligned_alloc(64, sizeof(double) * (size_t)(M * N + 16)) : 0;
    if (!A || !B || !C || (dbl && (!Ad || !Bd || !Cd))) {
        fprintf(stderr, "gemm-shape: out of memory\n");
        return 1;
    }
    const char *binary_env = getenv("BINARY");   // BINARY=1: A of 0s and 1s (an RBM's samples)
    int binary = binary_env && atoi(binary_env);
    // No value is zero (except a binary A's): the library skips all-zero rows and columns of A and
    // B (skip_zeros.c), and values i % 7 and i % 5, as here until the thirty-sixth session, made
    // whole columns zero wherever K or ldb is a multiple of 7 or 5 (100x500x784, x·Wᵀ of 784
    // inputs, most of mlp-big's layers), so those products were timed on the skipping paths.
    for (long i = 0; i < M * K; i++) A[i] = binary ? (float)(((unsigned long)i * 2654435761u >> 7) & 1) : (float)(i % 7 + 1) * 0.1f;
    for (long i = 0; i < bRows * ldb; i++) B[i] = (float)(i % 5 + 1) * 0.1f - 0.35f;
    for (long i = 0; dbl && i < M * K; i++) Ad[i] = A[i];
    for (long i = 0; dbl && i < bRows * ldb; i++) Bd[i] = B[i];
    typedef void (*cblas_sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                                   float *, int);
    cblas_sgemm_fn mkl = 0;
    const char *mkl_lib = getenv("MKL_LIB");
    if (mkl_lib) {
        void *h = dlopen(mkl_lib, RTLD_NOW | RTLD_GLOBAL);
        mkl = h ? (cblas_sgemm_fn)dlsym(h, "cblas_sgemm") : 0;
        if (!mkl) {
            fprintf(stderr, "gemm-shape: no cblas_sgemm in %s: %s\n", mkl_lib, dlerror());
            return 2;
        }
    }
    const char *nt = getenv("NT");
    onsager_set_num_threads(nt ? atoi(nt) : 1);
    const char *tuning = getenv("TUNING");   // TUNING=intel or general: that AVX-512 blocking on any CPU
    if (tuning) onsager_force_gemm_tuning(tuning[0] == 'i' ? ONSAGER_GEMM_TUNING_INTEL : ONSAGER_GEMM_TUNING_GENERAL);
    const char *detect = getenv("DETECT");   // DETECT=0: the pool's contention detection off
    if (detect && !atoi(detect)) onsager_set_contention_detection(0);
    const char *peak_env = getenv("PEAK");
    int peak = peak_env && atoi(peak_env) && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    int zmm = __builtin_cpu_supports("avx512f");
    double *times = malloc(sizeof(double) * (size_t)reps), *ratios = malloc(sizeof(double) * (size_t)reps);
    if (!times || !ratios) {
        fprintf(stderr, "gemm-shape: out of memory\n");
        return 1;
    }
    double flops = 2.0 * M * N * K;
    for (int r = 0; r < reps; r++) {
        double t = now();
        long rsa = transA ? 1 : K, csa = transA ? M : 1;
        if (dbl && transB) onsager_dgemm(M, N, K, 1, Ad, rsa, csa, Bd, 1, ldb, 0, Cd, N);
        else if (dbl) onsager_dgemm(M, N, K, 1, Ad, rsa, csa, Bd, ldb, 1, 0, Cd, N);
        else if (mkl)   // row-major; A's leading dimension is K (M with transA), B's ldb
            mkl(101, transA ? 112 : 111, transB ? 112 : 111, (int)M, (int)N, (int)K, 1, A, (int)(transA ? M : K), B, (int)ldb, 0,
                C, (int)N);
        else if (transB) onsager_sgemm(M, N, K, 1, A, rsa, csa, B, 1, ldb, 0, C, N);
        else onsager_sgemm(M, N, K, 1, A, rsa, csa, B, ldb, 1, 0, C, N);
        times[r] = now() - t;
        if (peak) ratios[r] = flops / times[r] / 1e9 / (zmm ? fma_rate_zmm(flops) : fma_rate_ymm(flops)) * (dbl ? 2 : 1);
    }
    qsort(times, (size_t)reps, sizeof(double), by_value);
    printf("median %.1f best %.1f GFLOPS%s%s: M=%ld N=%ld K=%ld ldb=%ld transB=%d transA=%d threads=%d", flops / times[reps / 2] / 1e9,
           flops / times[0] / 1e9, mkl ? " (MKL)" : "", dbl ? " (Double)" : "", M, N, K, ldb, transB, transA, onsager_get_num_threads());
    if (peak) {
        qsort(ratios, (size_t)reps, sizeof(double), by_value);
        printf("; of the FMA peak (%s): median %.3f, quartiles %.3f-%.3f", zmm ? "zmm" : "ymm", ratios[reps / 2], ratios[reps / 4],
               ratios[3 * reps / 4]);
    }
    printf("\n");
    return 0;
}
