// A training loop's batch gather alone: 100 rows of 784 floats picked at random from a data set
// of N rows (onsager_take_blocks, as Tensor.indexSelect calls it), at 1 and 2 threads;
// microseconds per batch, mean of 2,000 batches. Not part of the package build. From the root:
//   K=Sources/COnsagerKernels
//   clang -O2 -D_GNU_SOURCE -I$K/include Benchmarks/batch-gather.c $K/{allocator,cpu,elementwise,gemm,pool,windows}.c \
//       -o /tmp/batch-gather -lpthread -lm -ldl && /tmp/batch-gather 60000
// Zen 4 (2026-12-05), N = 60,000: 36.7-40.2 us at 1 thread, 20.4-24.4 at 2 (tasks of 4,096,
// 8,192 or 32,768 values alike); the rows are misses a second thread overlaps.
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
    long N = argc > 1 ? atol(argv[1]) : 60000, D = 784, B = 100;
    int reps = 2000;
    float *x = malloc(sizeof(float) * (size_t)(N * D)), *out = malloc(sizeof(float) * (size_t)(B * D));
    long *picks = malloc(sizeof(long) * (size_t)B);
    if (!x || !out || !picks) return 1;
    for (long i = 0; i < N * D; i++) x[i] = (float)(i & 1023);
    unsigned long s = 12345;
    for (int t = 1; t <= 2; t++) {
        onsager_set_num_threads(t);
        double total = 0;
        for (int r = 0; r < reps; r++) {
            for (long b = 0; b < B; b++) {
                s = s * 6364136223846793005UL + 1442695040888963407UL;
                picks[b] = (long)((s >> 33) % (unsigned long)N);
            }
            double t0 = now();
            onsager_take_blocks(4, x, 1, N, D, picks, B, out);
            total += now() - t0;
        }
        printf("N=%ld threads=%d: %.1f us per batch of %ld rows\n", N, t, total / reps * 1e6, B);
    }
    return 0;
}
