// The squared Gram product y = (G∘G) x, G = wᵀ diag(k) w, of the order-4 Plefka fields (the
// 4-cycles of an RBM), for many particles at once. Composed, it is a batched GEMM that writes
// every particle's m × m Gram matrix, two passes over it, and a matrix-vector product. Here G is
// symmetric, so a block of rows is computed only up to the diagonal (blocks of about G_ROWS rows:
// 0.57 of the flops for m = 784, 0.63 for m = 500) and folded into y while it is in cache; the
// block's mirror image above the diagonal comes from the same numbers. Blocking depends on the
// sizes alone and the GEMM's results do not depend on threads, so neither does y.
#include "onsager_kernels.h"
#include <stdatomic.h>
#include <stdlib.h>

#ifndef G_ROWS
#define G_ROWS 128
#endif

// Particles go out as tasks of their own (each product on one thread) when there are at least
// this many per thread; fewer, and each product is split between the threads instead.
#ifndef G_PARTICLES_PER_THREAD
#define G_PARTICLES_PER_THREAD 4
#endif

#define DEFINE_GRAM_SQUARE(T, S, GEMM)                                                             \
    static long S##_gram_rows(long m) {                                                            \
        long blocks = (m + G_ROWS - 1) / G_ROWS;                                                   \
        return (m + blocks - 1) / blocks;                                                          \
    }                                                                                              \
    /* One particle: scaled holds n × m, g rows × m elements. */                                  \
    static void S##_gram_particle(long n, long m, const T *w, long ldw, const T *k, const T *x, T *y, \
                                  T *scaled, T *g) {                                               \
        long rows = S##_gram_rows(m);                                                              \
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
        T *scaled = (T *)malloc(sizeof(T) * (size_t)j->n * (size_t)j->m);                          \
        T *g = (T *)malloc(sizeof(T) * (size_t)S##_gram_rows(j->m) * (size_t)j->m);                \
        if (scaled && g)                                                                           \
            S##_gram_particle(j->n, j->m, j->w, j->ldw, j->k + p * j->n, j->x + p * j->m, j->y + p * j->m, \
                              scaled, g);                                                          \
        else                                                                                       \
            atomic_store(&j->failed, 1);                                                           \
        free(scaled);                                                                              \
        free(g);                                                                                   \
    }                                                                                              \
    long onsager_gram_square_product_##S(long P, long n, long m, const T *w, long ldw, const T *k, \
                                         const T *x, T *y) {                                       \
        for (long i = 0; i < P * m; i++) y[i] = 0;                                                 \
        if (P == 0 || m == 0 || n == 0) return 0;                                                  \
        int nt = onsager_get_num_threads();                                                        \
        if (nt > 1 && P >= G_PARTICLES_PER_THREAD * nt) {                                          \
            S##_gsjob j = {n, m, ldw, w, k, x, y, 0};                                              \
            onsager_parallel_for(P, S##_gstask, &j);                                               \
            return atomic_load(&j.failed) ? -1 : 0;                                                \
        }                                                                                          \
        T *scaled = (T *)malloc(sizeof(T) * (size_t)n * (size_t)m);                                \
        T *g = (T *)malloc(sizeof(T) * (size_t)S##_gram_rows(m) * (size_t)m);                      \
        if (!scaled || !g) { free(scaled); free(g); return -1; }                                   \
        for (long p = 0; p < P; p++) S##_gram_particle(n, m, w, ldw, k + p * n, x + p * m, y + p * m, scaled, g); \
        free(scaled);                                                                              \
        free(g);                                                                                   \
        return 0;                                                                                  \
    }
DEFINE_GRAM_SQUARE(float, f32, onsager_sgemm)
DEFINE_GRAM_SQUARE(double, f64, onsager_dgemm)
