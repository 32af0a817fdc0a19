// What a stretch of contention costs after it has passed: 100x500x784 products at 2 threads for
// SECONDS, the pool's worker stalled STALL microseconds inside every task it takes (as a vCPU the
// host takes away looks from inside the guest; onsager_set_worker_stall) during BURST ms from
// 0.3 s on (BURST -1: the whole run, a neighbour that stays). Reports products per second against
// the same run without a stall and against one thread, and the pool's time in one thread. Built by
// build-labs.sh; the pool's first one-thread span can be set at build time (-DCONTENDED_NS=...,
// compiled with pool.c):
//   K=Sources/COnsagerKernels
//   clang -O2 -D_GNU_SOURCE -I$K/include Benchmarks/pool-burst.c $K/*.c -o /tmp/pool-burst -lpthread -lm -ldl
//   /tmp/pool-burst 40 && /tmp/pool-burst -1
#include "onsager_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// Products per second over `seconds` at `threads`, the worker stalled `stall` us from 0.3 s for
// `burst` ms (-1: throughout); the seconds the pool ran jobs in the caller to *one_thread.
static double run(int threads, long stall, double burst, double seconds, const float *a, const float *b, float *c,
                  double *one_thread) {
    onsager_set_num_threads(threads);
    onsager_pool_clear_contention();
    for (int i = 0; i < 20; i++) onsager_sgemm(100, 500, 784, 1, a, 784, 1, b, 500, 1, 0, c, 500);
    long one0 = 0, one1 = 0;
    onsager_pool_totals(0, 0, &one0);
    double t0 = now(), t = t0;
    long n = 0;
    int stalled = 0;
    while (t - t0 < seconds) {
        int want = stall > 0 && t - t0 >= (burst < 0 ? 0 : 0.3) && (burst < 0 || t - t0 < 0.3 + burst * 1e-3);
        if (want != stalled) onsager_set_worker_stall(want ? stall : 0), stalled = want;
        onsager_sgemm(100, 500, 784, 1, a, 784, 1, b, 500, 1, 0, c, 500);
        n++;
        t = now();
    }
    onsager_set_worker_stall(0);
    onsager_pool_totals(0, 0, &one1);
    *one_thread = (one1 - one0) * 1e-9;
    return n / (t - t0);
}

int main(int argc, char **argv) {
    double burst = argc > 1 ? atof(argv[1]) : 40, seconds = argc > 3 ? atof(argv[3]) : 3;
    long stall = argc > 2 ? atol(argv[2]) : 2000;
    float *a = malloc(sizeof(float) * 100 * 784), *b = malloc(sizeof(float) * 784 * 500), *c = malloc(sizeof(float) * 100 * 500);
    if (!a || !b || !c) return 1;
    for (long i = 0; i < 100 * 784; i++) a[i] = (float)((i * 7919) % 1000) / 1000.0f;
    for (long i = 0; i < 784 * 500; i++) b[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
    double one, quiet, single, burstRate, spent;
    for (int round = 0; round < 3; round++) {
        single = run(1, 0, 0, seconds, a, b, c, &one);
        quiet = run(2, 0, 0, seconds, a, b, c, &one);
        double quiet_one = one;
        burstRate = run(2, stall, burst, seconds, a, b, c, &spent);
        printf("burst %s%.0f ms of %ld us stalls, %.1f s: 1 thread %.0f/s, 2 threads %.0f/s quiet (%.2f s in one thread), "
               "%.0f/s with the burst (%.2f s in one thread): %.3f of quiet, %.3f of 1 thread\n",
               burst < 0 ? "throughout, " : "", burst < 0 ? seconds * 1e3 : burst, stall, seconds, single, quiet,
               quiet_one, burstRate, spent, burstRate / quiet, burstRate / single);
    }
    free(a); free(b); free(c);
    return 0;
}
