// The non-finite scan a training loop makes of every gradient, alone: mlp-big's five weight
// gradients and its last layer's (47.9 MB), read from memory (64 MB read between scans), at 1 and
// 2 threads; best of 10. Not part of the package build. From the root:
//   K=Sources/COnsagerKernels
//   clang -O2 -D_GNU_SOURCE -I$K/include Benchmarks/nonfinite-scan.c $K/{allocator,cpu,elementwise,gemm,pool,windows}.c \
//       -o /tmp/nonfinite-scan -lpthread -lm -ldl && /tmp/nonfinite-scan
// Zen 4 (2026-12-05): 1.53-1.81 ms at 1 thread; at 2, 1.61-1.74 ms as one task (before), 0.97-1.27
// ms as tasks of 65,536 values (six runs), 1.16-1.17 ms as run_units' tasks of 32,768 (elementwise.c,
// three runs).
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
    const long sizes[] = {1960000, 5000000, 3000000, 1500000, 500000, 5000};
    float *p[6];
    long total = 0;
    for (int i = 0; i < 6; i++) {
        p[i] = malloc(sizeof(float) * (size_t)sizes[i]);
        if (!p[i]) return 1;
        for (long j = 0; j < sizes[i]; j++) p[i][j] = 1e-3f * (float)(j % 100);
        total += sizes[i];
    }
    float *big = malloc(sizeof(float) * 16000000L);   // read between scans, so the gradients come from memory
    if (!big) return 1;
    for (long j = 0; j < 16000000L; j++) big[j] = 1;
    for (int t = 1; t <= 2; t++) {
        onsager_set_num_threads(t);
        double best = 1e9;
        for (int r = 0; r < 10; r++) {
            volatile float sink = 0;
            for (long j = 0; j < 16000000L; j += 16) sink += big[j];
            double t0 = now();
            long c = 0;
            for (int i = 0; i < 6; i++) c += onsager_count_nonfinite_f32(p[i], sizes[i]);
            double d = now() - t0;
            if (d < best) best = d;
            if (c) printf("unexpected: %ld non-finite values\n", c);
        }
        printf("threads %d: %.2f ms for %.1f MB (%.1f GB/s)\n", t, best * 1e3, (double)total * 4 / 1e6, (double)total * 4 / best / 1e9);
    }
    return 0;
}
