// The order of the SGD pass over mlp-small's first weight matrix (500 x 784, 1.6 MB; its gradient
// as much, together over a 2 MB L2), in the step's sequence: the forward product's packing reads
// the weights from the start, the weight-gradient product writes the gradient from the start, then
// the update reads both and writes the weights. Run front to back, the update meets neither the
// gradient's end (the last thing written) nor, in the next step, the packing the weights' start;
// run back to front, in blocks, it meets both. Not part of the package build:
//   clang -O2 -march=native Benchmarks/sgd-pass-order.c -o /tmp/sgd-pass-order
//   /tmp/sgd-pass-order 0; /tmp/sgd-pass-order 1        # 0: front to back, 1: back to front
// A second argument sets the number of weights (default 392,000 = 500 x 784); 12000000 is one of
// mlp-big's layers' scale, streamed from memory whichever way.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const long n = argc > 2 ? atol(argv[2]) : 500 * 784, block = 4096;
    const int backward = argc > 1 && atoi(argv[1]), reps = n > 4000000 ? 30 : 400, warm = n > 4000000 ? 3 : 20;
    if (n <= 0) return 2;
    float *w = aligned_alloc(64, n * sizeof(float)), *g = aligned_alloc(64, n * sizeof(float));
    if (!w || !g) return 1;
    for (long i = 0; i < n; i++) { w[i] = 1; g[i] = 0.5f; }
    double best = 1e9, read = 0, write = 0, update = 0;
    volatile float sink = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        float acc[16] = {0};                          // the forward's packing reads the weights
        for (long i = 0; i < n; i += 16)
            for (int k = 0; k < 16; k++) acc[k] += w[i + k];
        sink = acc[3];
        double t1 = now();
        for (long i = 0; i < n; i++) g[i] = (float)r * 0.001f;   // the weight gradient, written
        double t2 = now();
        if (!backward)
            for (long i = 0; i < n; i++) w[i] -= 0.01f * g[i];
        else
            for (long end = n; end > 0; end -= block)
                for (long i = end > block ? end - block : 0; i < end; i++) w[i] -= 0.01f * g[i];
        double t3 = now();
        if (r >= warm) { read += t1 - t0; write += t2 - t1; update += t3 - t2; }
        if (t3 - t0 < best) best = t3 - t0;
    }
    const double k = 1e6 / (reps - warm);
    printf("%s: best step %.1f us; mean read %.1f, write %.1f, update %.1f us\n",
           backward ? "back to front" : "front to back", best * 1e6, read * k, write * k, update * k);
    (void)sink;
    return 0;
}
