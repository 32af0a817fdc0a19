// Accuracy of the Float erf, GELU and GELU-backward kernels (elementwise_template.h) against
// double libm, on 2e7 evenly spaced points of [-12, 12], at an instruction-set level (2 = AVX-512,
// 1 = AVX2, 0 = portable), with special values. Errors in ulps of the Float result; near GELU′'s
// zero (|GELU′| < 0.05), absolute in ulps of 1; GELU below -5.5 (values under 1e-7) separately.
//   clang -O2 -D_GNU_SOURCE -I Sources/COnsagerKernels/include Benchmarks/erf-accuracy.c \
//       Sources/COnsagerKernels/{cpu,elementwise,pool,gemm}.c -o /tmp/erf-accuracy -lpthread -lm
//   /tmp/erf-accuracy 2
#include "onsager_kernels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double ulp_err(float got, double want) {
    if (isnan(want)) return isnan(got) ? 0 : 1e9;
    float w = (float)want;
    float u = nextafterf(fabsf(w), INFINITY) - fabsf(w);
    return fabs((double)got - want) / u;
}

int main(int argc, char **argv) {
    int isa = argc > 1 ? atoi(argv[1]) : 2;
    onsager_force_isa_level(isa);
    long n = 20000001;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float)), *g = malloc(n * sizeof(float));
    if (!x || !y || !g) return 1;
    for (long i = 0; i < n; i++) x[i] = -12.0f + 24.0f * (float)i / (float)(n - 1);
    for (long i = 0; i < n; i++) g[i] = 1.0f;
    long shape[1] = {n}, unit[1] = {1};
    const char *names[] = {"erf", "gelu", "gelu'"};
    for (int k = 0; k < 3; k++) {
        if (k == 0) onsager_unary_f32(ONS_ERF, x, y, n);
        if (k == 1) onsager_unary_f32(ONS_GELU, x, y, n);
        if (k == 2) onsager_binary_f32(ONS_GELU_BACKWARD, 1, shape, g, unit, x, unit, y);
        double worst = 0, tail = 0;
        float at = 0;
        for (long i = 0; i < n; i++) {
            double v = x[i], phi = 0.5 * erfc(-v / sqrt(2.0));
            double want = k == 0 ? erf(v) : k == 1 ? v * phi : phi + v * exp(-0.5 * v * v) / sqrt(2 * M_PI);
            if (want == 0) continue;
            double e = ulp_err(y[i], want);
            if (k == 2 && fabs(want) < 0.05) e = fabs(y[i] - want) / 0x1p-24;
            if (k == 1 && v < -5.5) { if (e > tail) tail = e; continue; }
            if (e > worst) { worst = e; at = x[i]; }
        }
        printf("isa %d %-6s max %.2f ulp at x = %.7g", isa, names[k], worst, at);
        if (k == 1) printf(" (below -5.5: %.1f ulp)", tail);
        printf("\n");
    }
    float special[] = {INFINITY, -INFINITY, NAN, 0.0f, -0.0f, 1e-30f};
    for (int i = 0; i < 6; i++) {
        float a = special[i], e, ge, gs, one = 1;
        long s1[1] = {1};
        onsager_unary_f32(ONS_ERF, &a, &e, 1);
        onsager_unary_f32(ONS_GELU, &a, &ge, 1);
        onsager_binary_f32(ONS_GELU_BACKWARD, 1, s1, &one, unit, &a, unit, &gs);
        printf("x = %g: erf %g, gelu %g, gelu' %g\n", a, e, ge, gs);
    }
    return 0;
}
