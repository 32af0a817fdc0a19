// Read bandwidth of one thread by working-set size: the library's non-finite count (the scan a
// training loop runs over every gradient each step) over 1 MB to 256 MB, each size read repeatedly
// so that it sits in whichever cache level holds it. The numbers behind "Memory on this guest" in
// Benchmarks/SPEED-LOG.md (On Intel Xeon): where a 1.5 MB gradient lives after the step
// that wrote it decides whether its scan takes 30-70 µs or 260. Not part of the package build. From
// the repository root:
//   K=Sources/COnsagerKernels
//   clang -O2 -D_GNU_SOURCE -I$K/include -I$K Benchmarks/read-bandwidth.c $K/*.c \
//       -o /tmp/read-bandwidth -lpthread -lm -ldl && /tmp/read-bandwidth
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "onsager_kernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
    long maxn = (256L << 20) / 4;
    float *x = aligned_alloc(64, 4 * maxn);
    if (!x) return 1;
    for (long i = 0; i < maxn; i++) x[i] = 1;
    long found = 0;
    for (long mb = 1; mb <= 256; mb *= 2) {
        long n = (mb << 20) / 4;
        int reps = mb >= 170 ? 3 : (int)(512 / mb);
        found += onsager_count_nonfinite_f32(x, n);   // one pass to bring it into its level
        double best = 1e30;
        for (int round = 0; round < 3; round++) {
            double t0 = now();
            for (int r = 0; r < reps; r++) found += onsager_count_nonfinite_f32(x, n);
            double t = (now() - t0) / reps;
            if (t < best) best = t;
        }
        printf("%4ld MB: %5.1f GB/s (best of 3 rounds of %d passes)\n", mb, (double)(mb << 20) / best / 1e9, reps);
    }
    return found != 0;   // every value is finite: a nonzero count is a fault
}
