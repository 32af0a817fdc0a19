// The pool's fallback to the calling thread when a worker stalls inside its tasks (a vCPU the
// host takes away, invisible to the guest): 2,000 exps of 262,144 floats at 1 and 2 threads, a
// worker spinning STALL microseconds in every task it takes (onsager_set_worker_stall), reporting
// the time per job and after how many jobs the pool ran jobs in the caller. With STALL 0, any
// job sent to the caller is a false alarm on a quiet machine. Not part of the package build.
//   K=Sources/COnsagerKernels
//   clang -O2 -D_GNU_SOURCE -I$K/include Benchmarks/pool-stall.c $K/{allocator,cpu,elementwise,gemm,pool,windows}.c \
//       -o /tmp/pool-stall -lpthread -lm -ldl && /tmp/pool-stall 0 && /tmp/pool-stall 200 && /tmp/pool-stall 2000 500
// Zen 4 (2026-12-05): STALL 0, four runs, 38-42 us per job at 2 threads (74 at 1), no job in the
// caller; the first version of the rule (each job judged alone: a wait longer than the caller's
// own work) sent 467, 994 and 1,411 of the 2,000 to the caller. STALL 200: 92 us per job, all but
// the first 25-50 ms in the caller (87-92 us per job; the pool probes again after 1, 2, then 4 s).
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
    long n = 262144, stall = argc > 1 ? atol(argv[1]) : 0;
    int jobs = argc > 2 ? atoi(argv[2]) : 2000;
    float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
    if (!x || !y) return 1;
    for (long i = 0; i < n; i++) x[i] = (float)i / (float)n;
    for (int t = 1; t <= 2; t++) {
        onsager_set_num_threads(t);
        onsager_pool_clear_contention();
        onsager_set_worker_stall(t == 2 ? stall : 0);
        int contended = 0;
        double t0 = now();
        for (int j = 0; j < jobs; j++) {
            onsager_unary_f32(ONS_EXP, x, y, n);
            contended += onsager_pool_contended();
        }
        double d = now() - t0;
        printf("threads %d stall %ld us: %.1f us per job, in the caller after %d of %d jobs\n", t, t == 2 ? stall : 0,
               d / jobs * 1e6, contended, jobs);
    }
    onsager_set_worker_stall(0);
    return 0;
}
