// The window kernels of cnn-step's second layer, alone, one thread: 64 unfolds of a [32, 26, 26]
// image under a 3 × 3 kernel into its [288, 576] columns and 64 folds back, and for 64 images of
// [64, 24, 24] rectified activations under 2 × 2 windows (in cache) max pooling's routed gradient
// and max pooling itself. Best of 20 and 50 repetitions, in ms. Not part of the package build:
//   K=Sources/COnsagerKernels
//   clang -O2 -D_GNU_SOURCE -I$K/include Benchmarks/window-kernels.c $K/{cpu,elementwise,gemm,pool,windows}.c -o /tmp/window-kernels -lpthread -lm
//   /tmp/window-kernels
// Against an older windows.c, link that file instead (git show cc79c2f:Sources/COnsagerKernels/windows.c
// > /tmp/w.c; add -I$K). Zen 4, tenth session, two alternations: cc79c2f's unfold 1.77-2.10 ms, route 2.31;
// 2fe6407's 1.08-1.16 and 2.01-2.03 (the /tmp harnesses quoted in those commits, the same loops,
// read 1.60 -> 1.00 and 2.31 -> 1.99). Eleventh session, 71a6774's windows.c against daf4dd1's
// (2 × 2 tiling windows in vectors), two alternations: route 2.10 -> 0.77-0.78 ms, pooling
// 0.69-0.70 -> 0.36; unfold 1.07-1.14 and fold 1.42-1.49 in both (the file compiled for AVX2 or
// AVX-512 instead of the baseline read the same: those copies are not bound by vector width).
#include "onsager_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// The best of `reps` timings of `body`, in ms.
#define BEST_MS(reps, body)                                                                        \
    ({                                                                                             \
        double best_ = 1e9;                                                                        \
        for (int r_ = 0; r_ < (reps); r_++) {                                                      \
            double t0_ = now();                                                                    \
            body;                                                                                  \
            double t_ = now() - t0_;                                                               \
            if (t_ < best_) best_ = t_;                                                            \
        }                                                                                          \
        best_ * 1e3;                                                                               \
    })

int main(void) {
    onsager_set_num_threads(1);
    const long n = 64, c = 32, h = 26, w = 26, P = 24 * 24, ckk = c * 9;
    float *x = malloc(sizeof(float) * n * c * h * w), *cols = aligned_alloc(64, sizeof(float) * ckk * P);
    for (long i = 0; i < n * c * h * w; i++) x[i] = (float)(i % 17);
    printf("unfold: %.3f ms for 64 images of [32, 26, 26], 3 x 3\n",
           BEST_MS(20, for (long b = 0; b < n; b++)
                       onsager_unfold2d_f32(x + b * c * h * w, 1, c, h, w, 3, 3, 1, 1, 0, 0, cols)));
    printf("fold: %.3f ms for 64 images of [32, 26, 26], 3 x 3\n",
           BEST_MS(20, for (long b = 0; b < n; b++)
                       onsager_fold2d_f32(cols, 1, c, h, w, 3, 3, 1, 1, 0, 0, x + b * c * h * w)));

    const long planes = 64, ph = 24, pw = 24, po = 12 * 12;
    float *a = malloc(sizeof(float) * planes * ph * pw), *m = malloc(sizeof(float) * planes * po);
    float *g = malloc(sizeof(float) * planes * po), *d = malloc(sizeof(float) * planes * ph * pw);
    srand(1);
    for (long i = 0; i < planes * ph * pw; i++) {
        float v = (float)rand() / (float)RAND_MAX - 0.5f;
        a[i] = v > 0 ? v : 0;   // rectified: ties at zero in some windows
    }
    for (long i = 0; i < planes * po; i++) g[i] = (float)rand() / (float)RAND_MAX;
    onsager_maxpool2d_f32(a, planes, ph, pw, 2, 2, 2, 2, m);
    printf("max-pool route: %.3f ms for 64 images of [64, 24, 24], 2 x 2\n",
           BEST_MS(50, for (int k = 0; k < 64; k++)
                       onsager_maxpool2d_route_f32(a, m, g, planes, ph, pw, 2, 2, 2, 2, d)));
    printf("max pooling: %.3f ms for 64 images of [64, 24, 24], 2 x 2\n",
           BEST_MS(50, for (int k = 0; k < 64; k++)
                       onsager_maxpool2d_f32(a, planes, ph, pw, 2, 2, 2, 2, m)));
    free(x); free(cols); free(a); free(m); free(g); free(d);
    return 0;
}
