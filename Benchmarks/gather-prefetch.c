// The batch gather of an RBM epoch alone: 100 random rows of 784 floats copied out of a 10,000-row
// set (31 MB) per batch, 16 MB of other memory touched between batches as a training step would,
// with the rows AHEAD rows ahead prefetched line by line (0: none). Microseconds per batch, mean of
// 2,000 batches; the measurement behind "prefetching the next rows did not change" in
// Benchmarks/SPEED-LOG.md (Zen 4, 2026-12-04, fourth session). HUGE=1 backs the set with 2 MiB
// pages (madvise before it is first touched), ROWS=N changes its row count. Not part of the package build:
//   clang -O2 -mavx2 Benchmarks/gather-prefetch.c -o /tmp/gather-prefetch && for a in 0 1 2 3 4; do /tmp/gather-prefetch $a; done
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void prefetch_row(const float *row, long n) {
    for (long b = 0; b < n * (long)sizeof(float); b += 64) _mm_prefetch((const char *)row + b, _MM_HINT_T0);
}

int main(int argc, char **argv) {
    const long rows = getenv("ROWS") ? atol(getenv("ROWS")) : 10000, n = 784, batch = 100, other = 16L << 20;
    const int ahead = argc > 1 ? atoi(argv[1]) : 0;
    const size_t huge = 2 << 20, xbytes = (rows * n * sizeof(float) + huge - 1) / huge * huge;
    float *x = aligned_alloc(huge, xbytes), *out = aligned_alloc(64, batch * n * sizeof(float));
    if (x && getenv("HUGE")) madvise(x, xbytes, MADV_HUGEPAGE);   // before the first touch: faults then map huge pages
    char *elsewhere = malloc(other);
    int *perm = malloc(rows * sizeof(int));
    if (!x || !out || !elsewhere || !perm) return 1;
    for (long i = 0; i < rows * n; i++) x[i] = (float)(i & 1);
    memset(out, 0, batch * n * sizeof(float));
    memset(elsewhere, 1, other);
    for (int i = 0; i < rows; i++) perm[i] = i;
    srand(1);
    for (int i = rows - 1; i > 0; i--) { int j = rand() % (i + 1), t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
    double total = 0;
    volatile float sink = 0;
    for (int epoch = 0; epoch < 20; epoch++)
        for (int b = 0; b < rows / batch; b++) {
            for (long i = 0; i < other; i += 64) sink += elsewhere[i];   // the step's own traffic
            const int *idx = perm + b * batch;
            double t0 = now();
            for (int a = 1; ahead && a < ahead; a++) prefetch_row(x + idx[a] * n, n);
            for (int r = 0; r < batch; r++) {
                if (ahead && r + ahead < batch) prefetch_row(x + idx[r + ahead] * n, n);
                memcpy(out + r * n, x + idx[r] * n, n * sizeof(float));
            }
            total += now() - t0;
            sink += out[(b * 7) % (batch * n)];
        }
    printf("rows ahead %d: %.1f us per batch of %ld rows\n", ahead, total / (20.0 * rows / batch) * 1e6, batch);
    return 0;
}
