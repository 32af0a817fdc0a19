// Sliding windows over [N, C, H, W] images, the one primitive behind convolution and pooling:
// unfold (im2col) copies each window into a row, [N, OH, OW, C·kh·kw] with the window's elements
// in (c, i, j) order, padding read as zeros; fold is its adjoint, summing the rows back into the
// images. Max pooling has its own three kernels (the maxima; the gradient routed to them, shared
// equally among ties; and that routing's adjoint), so that a pooled layer never materialises its
// windows.
//
// Each output element is written by one task, and every sum runs in a fixed order (a pixel's
// contributions in the order of its windows, row-major), so results never depend on threads.
#include "onsager_kernels.h"
#include <string.h>

typedef struct {
    const void *src;
    void *dst;
    long n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
    long per; // images per fold task, or 0: one task per (image, channel) plane
} win_job;

static void win_init(win_job *j, const void *src, void *dst, long n, long c, long h, long w, long kh, long kw,
                     long sh, long sw, long ph, long pw) {
    j->src = src; j->dst = dst;
    j->n = n; j->c = c; j->h = h; j->w = w; j->kh = kh; j->kw = kw; j->sh = sh; j->sw = sw; j->ph = ph; j->pw = pw;
    j->oh = (h + 2 * ph - kh) / sh + 1;
    j->ow = (w + 2 * pw - kw) / sw + 1;
    j->per = 0;
}

// Unfold: a task is one output row of windows (image b, window row i).
// Small kernel widths are dispatched to copies of the loops compiled for that width, whose
// inner loops the compiler then unrolls (a 3-wide window row is three moves, not a loop).
#define WIDTH_DISPATCH(CALL, kw)                                                                   \
    switch (kw) {                                                                                  \
    case 1: CALL(1); break;                                                                        \
    case 2: CALL(2); break;                                                                        \
    case 3: CALL(3); break;                                                                        \
    case 5: CALL(5); break;                                                                        \
    default: CALL(kw); break;                                                                      \
    }

// Unfold: a task is one output row of windows (image b, window row i).
#define DEFINE_UNFOLD(T, S)                                                                        \
    static inline __attribute__((always_inline)) void S##_unfold_row(const win_job *j, long b, long i, long kw, T *d) { \
        const T *x = (const T *)j->src;                                                            \
        for (long jj = 0; jj < j->ow; jj++) {                                                      \
            long r0 = i * j->sh - j->ph, c0 = jj * j->sw - j->pw;                                  \
            int inside = r0 >= 0 && r0 + j->kh <= j->h && c0 >= 0 && c0 + kw <= j->w;              \
            for (long ch = 0; ch < j->c; ch++) {                                                   \
                const T *plane = x + (b * j->c + ch) * j->h * j->w;                                \
                if (inside) {                                                                      \
                    for (long di = 0; di < j->kh; di++) {                                          \
                        const T *row = plane + (r0 + di) * j->w + c0;                              \
                        for (long dj = 0; dj < kw; dj++) d[dj] = row[dj];                          \
                        d += kw;                                                                   \
                    }                                                                              \
                } else {                                                                           \
                    for (long di = 0; di < j->kh; di++) {                                          \
                        long r = r0 + di;                                                          \
                        for (long dj = 0; dj < kw; dj++) {                                         \
                            long cc = c0 + dj;                                                     \
                            d[dj] = (r >= 0 && r < j->h && cc >= 0 && cc < j->w) ? plane[r * j->w + cc] : (T)0; \
                        }                                                                          \
                        d += kw;                                                                   \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void S##_unfold_task(void *ctx, long t) {                                               \
        const win_job *j = (const win_job *)ctx;                                                   \
        long b = t / j->oh, i = t % j->oh;                                                         \
        T *d = (T *)j->dst + t * j->ow * j->c * j->kh * j->kw;                                     \
        WIDTH_DISPATCH(S##_UNFOLD_ROW, j->kw)                                                      \
    }                                                                                              \
    void onsager_unfold2d_##S(const T *x, long n, long c, long h, long w, long kh, long kw, long sh, long sw, \
                              long ph, long pw, T *cols) {                                          \
        win_job j;                                                                                 \
        win_init(&j, x, cols, n, c, h, w, kh, kw, sh, sw, ph, pw);                                 \
        if (j.oh <= 0 || j.ow <= 0 || n == 0 || c == 0) return;                                    \
        onsager_parallel_for(n * j.oh, S##_unfold_task, &j);                                       \
    }

// Fold: a task is a group of whole images, or one (image, channel) plane when there are too few
// images to share out. Either way a pixel's sum runs over its windows in row-major order.
#define DEFINE_FOLD(T, S)                                                                          \
    static inline __attribute__((always_inline)) void S##_fold_part_w(const win_job *j, long b, long ch0, long ch1, long kw) { \
        const T *cols = (const T *)j->src;                                                         \
        long kk = j->kh * kw, ckk = j->c * kk;                                                  \
        T *img = (T *)j->dst + b * j->c * j->h * j->w;                                             \
        memset(img + ch0 * j->h * j->w, 0, sizeof(T) * (size_t)((ch1 - ch0) * j->h * j->w));       \
        for (long i = 0; i < j->oh; i++)                                                           \
            for (long jj = 0; jj < j->ow; jj++) {                                                  \
                const T *s = cols + ((b * j->oh + i) * j->ow + jj) * ckk + ch0 * kk;               \
                long r0 = i * j->sh - j->ph, c0 = jj * j->sw - j->pw;                              \
                int inside = r0 >= 0 && r0 + j->kh <= j->h && c0 >= 0 && c0 + kw <= j->w;       \
                for (long ch = ch0; ch < ch1; ch++) {                                              \
                    T *plane = img + ch * j->h * j->w;                                             \
                    for (long di = 0; di < j->kh; di++) {                                          \
                        long r = r0 + di;                                                          \
                        if (inside) {                                                              \
                            T *row = plane + r * j->w + c0;                                        \
                            for (long dj = 0; dj < kw; dj++) row[dj] += s[dj];                  \
                        } else if (r >= 0 && r < j->h) {                                           \
                            for (long dj = 0; dj < kw; dj++) {                                  \
                                long cc = c0 + dj;                                                 \
                                if (cc >= 0 && cc < j->w) plane[r * j->w + cc] += s[dj];           \
                            }                                                                      \
                        }                                                                          \
                        s += kw;                                                                \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
    }                                                                                              \
    static void S##_fold_part(const win_job *j, long b, long ch0, long ch1) {                      \
        WIDTH_DISPATCH(S##_FOLD_PART, j->kw)                                                       \
    }                                                                                              \
    static void S##_fold_task(void *ctx, long t) {                                                 \
        const win_job *j = (const win_job *)ctx;                                                   \
        if (j->per == 0) { S##_fold_part(j, t / j->c, t % j->c, t % j->c + 1); return; }           \
        for (long b = t * j->per; b < (t + 1) * j->per && b < j->n; b++) S##_fold_part(j, b, 0, j->c); \
    }                                                                                              \
    void onsager_fold2d_##S(const T *cols, long n, long c, long h, long w, long kh, long kw, long sh, long sw, \
                            long ph, long pw, T *x) {                                               \
        win_job j;                                                                                 \
        win_init(&j, cols, x, n, c, h, w, kh, kw, sh, sw, ph, pw);                                 \
        if (n == 0 || c == 0 || h == 0 || w == 0) return;                                          \
        if (j.oh <= 0 || j.ow <= 0) { memset(x, 0, sizeof(T) * (size_t)(n * c * h * w)); return; } \
        long nt = onsager_get_num_threads();                                                       \
        if (n >= 2 * nt) {                                                                         \
            j.per = (n + 4 * nt - 1) / (4 * nt);                                                   \
            onsager_parallel_for((n + j.per - 1) / j.per, S##_fold_task, &j);                      \
        } else {                                                                                   \
            onsager_parallel_for(n * c, S##_fold_task, &j);                                        \
        }                                                                                          \
    }

// Max pooling of planes [P, H, W] (no padding) into [P, OH, OW]. A window's maximum is taken in
// row-major order and NaN wins, as `max` does. Its gradient goes to the elements equal to the
// maximum, each g·(1/count), the others g·(0/count) (so a NaN maximum, equal to nothing, passes
// NaN to all of its window, as `max` does).
#define DEFINE_MAXPOOL(T, S)                                                                       \
    static void S##_maxpool_task(void *ctx, long p) {                                              \
        const win_job *j = (const win_job *)ctx;                                                   \
        const T *x = (const T *)j->src + p * j->h * j->w;                                          \
        T *y = (T *)j->dst + p * j->oh * j->ow;                                                    \
        for (long i = 0; i < j->oh; i++)                                                           \
            for (long jj = 0; jj < j->ow; jj++) {                                                  \
                const T *wnd = x + i * j->sh * j->w + jj * j->sw;                                  \
                T acc = wnd[0];                                                                    \
                for (long di = 0; di < j->kh; di++)                                                \
                    for (long dj = 0; dj < j->kw; dj++) {                                          \
                        T v = wnd[di * j->w + dj];                                                 \
                        acc = (v > acc || v != v) ? v : acc;                                       \
                    }                                                                              \
                y[i * j->ow + jj] = acc;                                                           \
            }                                                                                      \
    }                                                                                              \
    void onsager_maxpool2d_##S(const T *x, long planes, long h, long w, long kh, long kw, long sh, long sw, T *y) { \
        win_job j;                                                                                 \
        win_init(&j, x, y, planes, 1, h, w, kh, kw, sh, sw, 0, 0);                                 \
        if (planes == 0 || j.oh <= 0 || j.ow <= 0) return;                                         \
        onsager_parallel_for(planes, S##_maxpool_task, &j);                                        \
    }                                                                                              \
    typedef struct { win_job w; const T *x, *y; } S##_route_job;                                   \
    static void S##_route_task(void *ctx, long p) {                                                \
        const S##_route_job *r = (const S##_route_job *)ctx;                                       \
        const win_job *j = &r->w;                                                                  \
        long hw = j->h * j->w, ohw = j->oh * j->ow;                                                \
        const T *x = r->x + p * hw, *y = r->y + p * ohw, *g = (const T *)j->src + p * ohw;         \
        T *dx = (T *)j->dst + p * hw;                                                              \
        memset(dx, 0, sizeof(T) * (size_t)hw);                                                     \
        for (long o = 0; o < ohw; o++) {                                                           \
            const T *wnd = x + (o / j->ow) * j->sh * j->w + (o % j->ow) * j->sw;                    \
            T *dw = dx + (wnd - x), m = y[o], count = 0;                                           \
            for (long di = 0; di < j->kh; di++)                                                    \
                for (long dj = 0; dj < j->kw; dj++) count += wnd[di * j->w + dj] == m ? (T)1 : (T)0; \
            T tied = g[o] * ((T)1 / count), other = g[o] * ((T)0 / count);                         \
            for (long di = 0; di < j->kh; di++)                                                    \
                for (long dj = 0; dj < j->kw; dj++)                                                \
                    dw[di * j->w + dj] += wnd[di * j->w + dj] == m ? tied : other;                 \
        }                                                                                          \
    }                                                                                              \
    void onsager_maxpool2d_route_##S(const T *x, const T *y, const T *g, long planes, long h, long w, long kh, \
                                     long kw, long sh, long sw, T *dx) {                            \
        S##_route_job r = {.x = x, .y = y};                                                        \
        win_init(&r.w, g, dx, planes, 1, h, w, kh, kw, sh, sw, 0, 0);                              \
        if (planes == 0 || h == 0 || w == 0) return;                                               \
        onsager_parallel_for(planes, S##_route_task, &r);                                          \
    }                                                                                              \
    static void S##_gather_task(void *ctx, long p) {                                               \
        const S##_route_job *r = (const S##_route_job *)ctx;                                       \
        const win_job *j = &r->w;                                                                  \
        long hw = j->h * j->w, ohw = j->oh * j->ow;                                                \
        const T *x = r->x + p * hw, *y = r->y + p * ohw, *gg = (const T *)j->src + p * hw;         \
        T *out = (T *)j->dst + p * ohw;                                                            \
        for (long o = 0; o < ohw; o++) {                                                           \
            long off = (o / j->ow) * j->sh * j->w + (o % j->ow) * j->sw;                           \
            const T *wnd = x + off, *gw = gg + off;                                                \
            T m = y[o], count = 0, acc = 0;                                                        \
            for (long di = 0; di < j->kh; di++)                                                    \
                for (long dj = 0; dj < j->kw; dj++) count += wnd[di * j->w + dj] == m ? (T)1 : (T)0; \
            T tied = (T)1 / count, other = (T)0 / count;                                           \
            for (long di = 0; di < j->kh; di++)                                                    \
                for (long dj = 0; dj < j->kw; dj++)                                                \
                    acc += gw[di * j->w + dj] * (wnd[di * j->w + dj] == m ? tied : other);         \
            out[o] = acc;                                                                          \
        }                                                                                          \
    }                                                                                              \
    void onsager_maxpool2d_gather_##S(const T *x, const T *y, const T *gg, long planes, long h, long w, long kh, \
                                      long kw, long sh, long sw, T *out) {                          \
        S##_route_job r = {.x = x, .y = y};                                                        \
        win_init(&r.w, gg, out, planes, 1, h, w, kh, kw, sh, sw, 0, 0);                            \
        if (planes == 0 || r.w.oh <= 0 || r.w.ow <= 0) return;                                     \
        onsager_parallel_for(planes, S##_gather_task, &r);                                         \
    }

#define f32_UNFOLD_ROW(KW) f32_unfold_row(j, b, i, KW, d)
#define f64_UNFOLD_ROW(KW) f64_unfold_row(j, b, i, KW, d)
DEFINE_UNFOLD(float, f32)
DEFINE_UNFOLD(double, f64)
#define f32_FOLD_PART(KW) f32_fold_part_w(j, b, ch0, ch1, KW)
#define f64_FOLD_PART(KW) f64_fold_part_w(j, b, ch0, ch1, KW)
DEFINE_FOLD(float, f32)
DEFINE_FOLD(double, f64)
DEFINE_MAXPOOL(float, f32)
DEFINE_MAXPOOL(double, f64)
