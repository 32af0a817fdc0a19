// The squared Gram product y = (G∘G) x, G = wᵀ diag(k) w (w is n × m), of the order-4 Plefka
// fields (the 4-cycles of an RBM), for many particles at once. Composed, it is a batched GEMM that
// writes every particle's m × m Gram matrix, two passes over it, and a matrix-vector product.
//
// Two routes, the cheaper for the sizes taken (so the choice never depends on threads):
// - G's lower part (G is symmetric), a block of rows at a time, each block folded into y while it
//   is in cache and its mirror image above the diagonal taken from the same numbers: about
//   0.6·m²·n multiply-adds (blocks of about G_ROWS rows: 0.57 of m²·n for m = 784, 0.63 for 500).
// - Through the other side: y_i = Σ_j w_ji (F w)_ji with F = diag(k) E diag(k) and
//   E = w diag(x) wᵀ (n × n), since Σ_l G_il² x_l = Σ_jj' w_ji w_j'i k_j k_j' E_jj'. Two GEMMs,
//   2·n²·m: cheaper when m is over about three times n (an RBM's 784 visible units beside 100
//   hidden ones).
// The GEMM's results do not depend on threads, so neither does y.
#include "onsager_kernels.h"
#include <stdatomic.h>
#include <stdlib.h>

#ifndef G_ROWS
#define G_ROWS 128
#endif

static long gram_rows(long m) {
    long blocks = (m + G_ROWS - 1) / G_ROWS;
    return (m + blocks - 1) / blocks;
}

// Multiply-adds of the lower-part route.
static double gram_lower_cost(long n, long m) {
    long rows = gram_rows(m);
    double c = 0;
    for (long i0 = 0; i0 < m; i0 += rows) c += (double)(m - i0 < rows ? m - i0 : rows) * (double)(i0 + rows < m ? i0 + rows : m);
    return c * (double)n;
}

static int gram_through_other_side(long n, long m) { return 2.0 * (double)n * (double)n * (double)m < gram_lower_cost(n, m); }

double onsager_gram_square_multiply_adds(long n, long m) {
    return gram_through_other_side(n, m) ? 2.0 * (double)n * (double)n * (double)m : gram_lower_cost(n, m);
}

// Scratch elements one particle needs.
static long gram_scratch(long n, long m) { return n * m + (gram_through_other_side(n, m) ? n * n : gram_rows(m) * m); }

#define DEFINE_GRAM_SQUARE(T, S, GEMM)                                                             \
    /* One particle; y arrives zeroed. */                                                      \
    static void S##_gram_particle(long n, long m, const T *w, long ldw, const T *k, const T *x, T *y, T *scratch) { \
        T *scaled = scratch, *g = scratch + n * m;                                                 \
        if (gram_through_other_side(n, m)) {                                                       \
            /* E = w · (w diag(x))ᵀ, F = E ∘ k kᵀ, U = F · w, y = column sums of w ∘ U. */         \
            for (long j = 0; j < n; j++)                                                           \
                for (long i = 0; i < m; i++) scaled[j * m + i] = w[j * ldw + i] * x[i];            \
            GEMM(n, n, m, (T)1, w, ldw, 1, scaled, 1, m, (T)0, g, n);                              \
            for (long j = 0; j < n; j++)                                                           \
                for (long l = 0; l < n; l++) g[j * n + l] *= k[j] * k[l];                          \
            T *u = scaled; /* w diag(x) is no longer needed */                                     \
            GEMM(n, m, n, (T)1, g, n, 1, w, ldw, 1, (T)0, u, m);                                   \
            for (long j = 0; j < n; j++)                                                           \
                for (long i = 0; i < m; i++) y[i] += w[j * ldw + i] * u[j * m + i];                \
            return;                                                                                \
        }                                                                                          \
        long rows = gram_rows(m);                                                                  \
        /* diag(k) w, row by row (contiguous reads and writes). */                                \
        for (long j = 0; j < n; j++) {                                                             \
            T kj = k[j];                                                                           \
            const T *wr = w + j * ldw;                                                             \
            T *sr = scaled + j * m;                                                                \
            for (long i = 0; i < m; i++) sr[i] = kj * wr[i];                                       \
        }                                                                                          \
        for (long i0 = 0; i0 < m; i0 += rows) {                                                    \
            long b = m - i0 < rows ? m - i0 : rows;                                                \
            /* G[i0 ..< i0+b, 0 ..< i0+b] = wᵀ[those rows] · diag(k) w[:, those columns]; wᵀ is   \
               read as a column-major A, the layout its packing reads fastest. */                 \
            GEMM(b, i0 + b, n, (T)1, w + i0, 1, ldw, scaled, m, 1, (T)0, g, i0 + b);                \
            onsager_gram_square_block_##S(b, i0, g, i0 + b, x, y);                                 \
        }                                                                                          \
    }                                                                                              \
    typedef struct {                                                                               \
        long n, m, ldw;                                                                            \
        const T *w, *k, *x;                                                                        \
        T *y;                                                                                      \
        _Atomic int failed;                                                                        \
    } S##_gsjob;                                                                                   \
    static void S##_gstask(void *c, long p) {                                                      \
        S##_gsjob *j = (S##_gsjob *)c;                                                             \
        T *scratch = (T *)malloc(sizeof(T) * (size_t)gram_scratch(j->n, j->m));                    \
        if (scratch)                                                                               \
            S##_gram_particle(j->n, j->m, j->w, j->ldw, j->k + p * j->n, j->x + p * j->m, j->y + p * j->m, scratch); \
        else                                                                                       \
            atomic_store(&j->failed, 1);                                                           \
        free(scratch);                                                                             \
    }                                                                                              \
    long onsager_gram_square_product_##S(long P, long n, long m, const T *w, long ldw, const T *k, \
                                         const T *x, T *y) {                                       \
        for (long i = 0; i < P * m; i++) y[i] = 0;                                                 \
        if (P == 0 || m == 0 || n == 0) return 0;                                                  \
        if (onsager_pool_items_as_tasks(P)) {                                                      \
            S##_gsjob j = {n, m, ldw, w, k, x, y, 0};                                              \
            onsager_parallel_for(P, S##_gstask, &j);                                               \
            return atomic_load(&j.failed) ? -1 : 0;                                                \
        }                                                                                          \
        T *scratch = (T *)malloc(sizeof(T) * (size_t)gram_scratch(n, m));                          \
        if (!scratch) return -1;                                                                   \
        for (long p = 0; p < P; p++) S##_gram_particle(n, m, w, ldw, k + p * n, x + p * m, y + p * m, scratch); \
        free(scratch);                                                                             \
        return 0;                                                                                  \
    }
DEFINE_GRAM_SQUARE(float, f32, onsager_sgemm)
DEFINE_GRAM_SQUARE(double, f64, onsager_dgemm)
