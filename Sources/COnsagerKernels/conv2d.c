// 2-D convolution one image at a time: the image's windows as columns (torch's unfold layout,
// windows.c) into a scratch buffer that stays in cache, then weight [o, c·kh·kw] · columns, which
// is the image's output [o, oh·ow] in place. Composed from the same kernels on whole tensors,
// the columns of a batch (42 MB for 64 images of 32 × 26 × 26 under a 3 × 3 kernel) would go
// to memory and back, once for the product and again for the weight's gradient. For the same
// reason the bias, a fused relu (conv2dReLU) and, backward, the relu's mask and the bias's row
// sums are applied to each image's [o, oh·ow] block while it is in cache, not in passes of their
// own over the batch (cnn-step's second layer: 9.4 MB per pass).
//
// Each image's results are those of the same GEMM calls and window kernels on that image, so
// they never depend on threads: with enough images, images go out as tasks (each on one thread,
// onsager_pool_items_as_tasks); with fewer, each image's product is split between the threads.
#include "onsager_kernels.h"
#include <stdatomic.h>
#include <stdlib.h>

#define DEFINE_CONV(T, S, GEMM)                                                                    \
    typedef struct {                                                                               \
        const T *x, *w2, *bias, *g, *mask, *gpool;                                                 \
        T *y, *dx, *dw, *db, *pooled;                                                              \
        long n, c, h, w, o, kh, kw, sh, sw, ph, pw, ckk, P, oh, ow, PP;                            \
        onsager_pool2d pool;                                                                       \
        int relu;                                                                                  \
        atomic_int failed;                                                                         \
    } S##_conv_job;                                                                                \
    /* Backward, the next image's activations (the route's or the mask's first read, from      \
       memory) are asked for before this image's last product, so that they arrive while it runs. \
       cnn-step, Zen 4, one thread, with the vector pooling of the same session: 1.06x against   \
       71a6774 (ab.py, 8 and 6 rounds; the pooling alone 1.008x); asked for at the image's start \
       instead, the same; the next image's input (unfold's read) or, forward, its output lines:  \
       no gain. With images as tasks on two threads the next image often runs on the other core \
       (its lines then come from this core's cache rather than memory): 1.01-1.03x.              */ \
    static void S##_conv_prefetch(const T *p, long count) {                                        \
        for (long i = 0; i < count; i += 64 / (long)sizeof(T)) __builtin_prefetch(p + i, 0, 1);     \
    }                                                                                              \
    static void S##_conv_forward_image(void *ctx, long b) {                                        \
        S##_conv_job *j = (S##_conv_job *)ctx;                                                     \
        T *cols = (T *)malloc(sizeof(T) * (size_t)(j->ckk * j->P + 1));                            \
        if (!cols) { atomic_store(&j->failed, 1); return; }                                        \
        onsager_unfold2d_##S(j->x + b * j->c * j->h * j->w, 1, j->c, j->h, j->w, j->kh, j->kw, \
                                     j->sh, j->sw, j->ph, j->pw, cols);                            \
        T *y = j->y + b * j->o * j->P;                                                             \
        GEMM(j->o, j->P, j->ckk, 1, j->w2, j->ckk, 1, cols, j->P, 1, 0, y, j->P);                  \
        if (j->bias || j->relu) onsager_bias_relu_rows_##S(j->o, j->P, y, j->bias, j->relu);       \
        if (j->pooled)                                                                             \
            onsager_maxpool2d_##S(y, j->o, j->oh, j->ow, j->pool.kh, j->pool.kw, j->pool.sh, j->pool.sw, \
                                  j->pooled + b * j->o * j->PP);                                   \
        free(cols);                                                                                \
    }                                                                                              \
    static void S##_conv_backward_image(void *ctx, long b) {                                       \
        S##_conv_job *j = (S##_conv_job *)ctx;                                                     \
        /* the columns (when a product needs them), then (with a fused relu) the masked gradient  \
           and (with a fused pool) the pooling's routed gradient */                               \
        long ncols = j->dw || j->dx ? j->ckk * j->P : 0;                                           \
        long extra = (j->mask ? j->o * j->P : 0) + (j->gpool ? j->o * j->P : 0);                   \
        T *cols = (T *)malloc(sizeof(T) * (size_t)(ncols + extra + 1));                            \
        if (!cols) { atomic_store(&j->failed, 1); return; }                                        \
        const T *g = j->g ? j->g + b * j->o * j->P : 0;                                            \
        if (j->gpool) {                                                                            \
            T *gy = cols + ncols + (j->mask ? j->o * j->P : 0);                                    \
            onsager_maxpool2d_route_##S(j->mask + b * j->o * j->P, j->pooled + b * j->o * j->PP,   \
                                        j->gpool + b * j->o * j->PP, j->o, j->oh, j->ow, j->pool.kh, \
                                        j->pool.kw, j->pool.sh, j->pool.sw, gy);                   \
            g = gy;                                                                                \
        }                                                                                          \
        /* The bias's row sums are those of the composed sum over [n, o, P] (onsager_reduce):     \
           block_moment's per row, but for a single row (n·o = 1) over RCHUNK long, which it sums \
           in chunks; so that row is left to onsager_reduce itself. */                             \
        int one_row = j->n * j->o == 1;                                                            \
        if (j->mask || (j->db && !one_row)) {                                                      \
            T *gz = j->mask ? cols + ncols : 0;                                                    \
            onsager_mask_row_sums_##S(j->o, j->P, g, j->mask ? j->mask + b * j->o * j->P : 0, gz,  \
                                      j->db && !one_row ? j->db + b * j->o : 0);                   \
            if (gz) g = gz;                                                                        \
        }                                                                                          \
        if (j->db && one_row) onsager_reduce_##S(ONS_RSUM, g, j->db, 1, j->P, 1);                  \
        const T *next = j->mask && b + 1 < j->n ? j->mask + (b + 1) * j->o * j->P : 0;             \
        if (next && !j->dx) S##_conv_prefetch(next, j->o * j->P);   /* the last product: dw's */   \
        if (j->dw) {                                                                               \
            onsager_unfold2d_##S(j->x + b * j->c * j->h * j->w, 1, j->c, j->h, j->w, j->kh, j->kw, \
                                         j->sh, j->sw, j->ph, j->pw, cols);                        \
            /* g_b · columnsᵀ: [o, P] · [P, ckk] */                                                \
            GEMM(j->o, j->ckk, j->P, 1, g, j->P, 1, cols, 1, j->P, 0, j->dw + b * j->o * j->ckk, j->ckk); \
        }                                                                                          \
        if (next && j->dx) S##_conv_prefetch(next, j->o * j->P);    /* the last product: dx's */   \
        if (j->dx) {                                                                               \
            /* w2ᵀ · g_b: [ckk, o] · [o, P], then folded back into the image */                    \
            GEMM(j->ckk, j->P, j->o, 1, j->w2, 1, j->ckk, g, j->P, 1, 0, cols, j->P);              \
            onsager_fold2d_##S(cols, 1, j->c, j->h, j->w, j->kh, j->kw, j->sh, j->sw, j->ph, j->pw, \
                                       j->dx + b * j->c * j->h * j->w);                            \
        }                                                                                          \
        free(cols);                                                                                \
    }                                                                                              \
    /* Window counts of the convolution and, with a fused pool, of the pooling of its output;   \
       0 when the pool has no windows or a bad shape (the Swift op refuses both first). */         \
    static int S##_conv_geometry(S##_conv_job *j, const onsager_pool2d *pool, T *pooled) {         \
        j->oh = (j->h + 2 * j->ph - j->kh) / j->sh + 1;                                            \
        j->ow = (j->w + 2 * j->pw - j->kw) / j->sw + 1;                                            \
        j->P = j->oh * j->ow;                                                                      \
        if (!pool) return 1;                                                                       \
        if (pool->kh <= 0 || pool->kw <= 0 || pool->sh <= 0 || pool->sw <= 0 || j->oh < pool->kh || j->ow < pool->kw) \
            return 0;                                                                              \
        j->pool = *pool;                                                                           \
        j->pooled = pooled;                                                                        \
        j->PP = ((j->oh - pool->kh) / pool->sh + 1) * ((j->ow - pool->kw) / pool->sw + 1);         \
        return 1;                                                                                  \
    }                                                                                              \
    static int S##_conv_run(S##_conv_job *j, long n, onsager_task_fn fn) {                         \
        atomic_store(&j->failed, 0);                                                               \
        if (onsager_pool_items_as_tasks(n)) onsager_parallel_for(n, fn, j);                        \
        else for (long b = 0; b < n && !atomic_load(&j->failed); b++) fn(j, b);                   \
        return atomic_load(&j->failed) ? -1 : 0;                                                   \
    }                                                                                              \
    long onsager_conv2d_##S(const T *x, const T *w2, const T *bias, long n, long c, long h, long w, long o, \
                            long kh, long kw, long sh, long sw, long ph, long pw, int relu, T *y,  \
                            const onsager_pool2d *pool, T *pooled) {                               \
        S##_conv_job j = {.x = x, .w2 = w2, .bias = bias, .y = y, .c = c, .h = h, .w = w, .o = o,  \
                          .kh = kh, .kw = kw, .sh = sh, .sw = sw, .ph = ph, .pw = pw, .relu = relu}; \
        j.n = n;                                                                                   \
        j.ckk = c * kh * kw;                                                                       \
        if (pool && !pooled) return -2;                                                            \
        if (h + 2 * ph < kh || w + 2 * pw < kw) return 0; /* no windows (the Swift op refuses it) */ \
        if (!S##_conv_geometry(&j, pool, pooled)) return -2;                                       \
        if (n == 0 || o == 0 || j.P <= 0) return 0;                                                \
        return S##_conv_run(&j, n, S##_conv_forward_image);                                        \
    }                                                                                              \
    long onsager_conv2d_backward_##S(const T *x, const T *w2, const T *g, const T *y, long n, long c, long h, long w, \
                                     long o, long kh, long kw, long sh, long sw, long ph, long pw, T *dx, T *dw, \
                                     T *db, const onsager_pool2d *pool, const T *pooled, const T *gpool) { \
        S##_conv_job j = {.x = x, .w2 = w2, .g = g, .mask = y, .dx = dx, .dw = dw, .db = db, .c = c, .h = h, \
                          .w = w, .o = o, .kh = kh, .kw = kw, .sh = sh, .sw = sw, .ph = ph, .pw = pw}; \
        j.n = n;                                                                                   \
        j.ckk = c * kh * kw;                                                                       \
        if (pool ? !y || !pooled || !gpool : !g) return -2;                                        \
        if (h + 2 * ph < kh || w + 2 * pw < kw) return 0;                                          \
        if (!S##_conv_geometry(&j, pool, (T *)pooled)) return -2;                                  \
        j.gpool = pool ? gpool : 0;                                                                \
        if (n == 0 || j.P <= 0) return 0;                                                          \
        return S##_conv_run(&j, n, S##_conv_backward_image);                                       \
    }

DEFINE_CONV(float, f32, onsager_sgemm)
DEFINE_CONV(double, f64, onsager_dgemm)
