// Sliding windows over [N, C, H, W] images, the one primitive behind convolution and pooling:
// unfold (im2col) copies each window into a column, [N, C·kh·kw, OH·OW] with rows in (c, i, j)
// order, padding read as zeros; fold is its adjoint, summing the columns back into the images.
// Max pooling has its own three kernels (the maxima; the gradient routed to them, shared equally
// among ties; and that routing's adjoint), so that a pooled layer never materialises its windows.
//
// Each output element is written by one task, and every sum runs in a fixed order (a pixel's
// contributions in the order of its kernel elements), so results never depend on threads.
#include "onsager_kernels.h"
#include <string.h>

typedef struct {
    const void *src;
    void *dst;
    long n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
} win_job;

static void win_init(win_job *j, const void *src, void *dst, long n, long c, long h, long w, long kh, long kw,
                     long sh, long sw, long ph, long pw) {
    j->src = src; j->dst = dst;
    j->n = n; j->c = c; j->h = h; j->w = w; j->kh = kh; j->kw = kw; j->sh = sh; j->sw = sw; j->ph = ph; j->pw = pw;
    // No windows when the kernel is larger than the padded image (the Swift ops refuse that
    // first; truncating division would otherwise count one).
    j->oh = h + 2 * ph >= kh ? (h + 2 * ph - kh) / sh + 1 : 0;
    j->ow = w + 2 * pw >= kw ? (w + 2 * pw - kw) / sw + 1 : 0;
}

// Unfold and fold: cols [n, c·kh·kw, oh·ow], torch.nn.functional.unfold's layout, in which a
// convolution is one product per image, weight [o, c·kh·kw] · cols, already in [o, oh, ow] order.
// A row holds one kernel element (ch, di, dj) at every window, so with stride 1 it is a run of
// each image row, copied (and folded back) as contiguous runs. A task is one (image, channel)
// plane: its kh·kw rows of cols.
static void window_span(const win_job *j, long dj, long *lo, long *hi) {
    // Windows jj whose column jj·sw + dj − pw falls inside the image: lo ≤ jj < hi.
    long first = j->pw - dj > 0 ? (j->pw - dj + j->sw - 1) / j->sw : 0;
    long last = j->w - 1 + j->pw - dj;
    long end = last < 0 ? 0 : last / j->sw + 1;
    *lo = first < j->ow ? first : j->ow;
    *hi = end < j->ow ? end : j->ow;
    if (*hi < *lo) *hi = *lo;
}

// Runs of a row: restrict lets the compiler vectorise them without overlap checks.
#define DEFINE_RUNS(T, S)                                                                          \
    /* 32-byte moves; the empty asm keeps the compiler from turning the loops into a call to    \
       memmove per short run (a row of 24 elements), which costs more than the copy. */           \
    static inline void S##_copy_run(T *restrict d, const T *restrict s, long n) {                  \
        typedef T vec __attribute__((vector_size(32)));                                            \
        long i = 0;                                                                                \
        for (; i + (long)(32 / sizeof(T)) <= n; i += 32 / sizeof(T)) {                             \
            vec v;                                                                                 \
            __builtin_memcpy(&v, s + i, 32);                                                       \
            __builtin_memcpy(d + i, &v, 32);                                                       \
            __asm__ volatile("" ::: "memory");                                                     \
        }                                                                                          \
        for (; i < n; i++) {                                                                       \
            d[i] = s[i];                                                                           \
            __asm__ volatile("" ::: "memory");                                                     \
        }                                                                                          \
    }                                                                                              \
    static inline void S##_add_run(T *restrict d, const T *restrict s, long n) {                   \
        for (long i = 0; i < n; i++) d[i] += s[i];                                                 \
    }
DEFINE_RUNS(float, f32)
DEFINE_RUNS(double, f64)

#define DEFINE_COLUMNS(T, S)                                                                       \
    /* The geometry is read into locals first: the copy's compiler barriers would otherwise      \
       reload every field of the job after each store (it ran at half the speed). */              \
    static void S##_unfold_cols_task(void *ctx, long t) {                                          \
        const win_job *j = (const win_job *)ctx;                                                   \
        const long h = j->h, w = j->w, kh = j->kh, kw = j->kw, sh = j->sh, sw = j->sw, ph = j->ph, pw = j->pw; \
        const long oh = j->oh, ow = j->ow, P = oh * ow;                                            \
        const T *plane = (const T *)j->src + t * h * w;                                            \
        T *d = (T *)j->dst + t * kh * kw * P;                                                      \
        for (long di = 0; di < kh; di++)                                                           \
            for (long dj = 0; dj < kw; dj++, d += P) {                                             \
                long lo, hi;                                                                       \
                window_span(j, dj, &lo, &hi);                                                      \
                if (sw == 1 && lo == 0 && hi == ow) { /* whole runs (no padding): the common case */ \
                    for (long i = 0; i < oh; i++) {                                                \
                        long r = i * sh + di - ph;                                                 \
                        if (r < 0 || r >= h) memset(d + i * ow, 0, sizeof(T) * (size_t)ow);        \
                        else S##_copy_run(d + i * ow, plane + r * w + dj - pw, ow);                \
                    }                                                                              \
                    continue;                                                                      \
                }                                                                                  \
                for (long i = 0; i < oh; i++) {                                                    \
                    T *o = d + i * ow;                                                             \
                    long r = i * sh + di - ph;                                                     \
                    if (r < 0 || r >= h) { memset(o, 0, sizeof(T) * (size_t)ow); continue; }       \
                    const T *src = plane + r * w + dj - pw;                                        \
                    for (long jj = 0; jj < lo; jj++) o[jj] = 0;                                    \
                    if (sw == 1) S##_copy_run(o + lo, src + lo, hi - lo);                          \
                    else for (long jj = lo; jj < hi; jj++) o[jj] = src[jj * sw];                   \
                    for (long jj = hi; jj < ow; jj++) o[jj] = 0;                                   \
                }                                                                                  \
            }                                                                                      \
    }                                                                                              \
    void onsager_unfold2d_##S(const T *x, long n, long c, long h, long w, long kh, long kw, long sh, \
                                      long sw, long ph, long pw, T *cols) {                         \
        win_job j;                                                                                 \
        win_init(&j, x, cols, n, c, h, w, kh, kw, sh, sw, ph, pw);                                 \
        if (j.oh <= 0 || j.ow <= 0 || n == 0 || c == 0) return;                                    \
        onsager_parallel_for(n * c, S##_unfold_cols_task, &j);                                     \
    }                                                                                              \
    /* A pixel's sum runs over its kernel elements (di, dj) in row-major order. */                 \
    static void S##_fold_cols_task(void *ctx, long t) {                                            \
        const win_job *j = (const win_job *)ctx;                                                   \
        const long h = j->h, w = j->w, kh = j->kh, kw = j->kw, sh = j->sh, sw = j->sw, ph = j->ph, pw = j->pw; \
        const long oh = j->oh, ow = j->ow, P = oh * ow;                                            \
        T *plane = (T *)j->dst + t * h * w;                                                        \
        const T *s = (const T *)j->src + t * kh * kw * P;                                          \
        memset(plane, 0, sizeof(T) * (size_t)(h * w));                                             \
        for (long di = 0; di < kh; di++)                                                           \
            for (long dj = 0; dj < kw; dj++, s += P) {                                             \
                long lo, hi;                                                                       \
                window_span(j, dj, &lo, &hi);                                                      \
                for (long i = 0; i < oh; i++) {                                                    \
                    long r = i * sh + di - ph;                                                     \
                    if (r < 0 || r >= h) continue;                                                 \
                    T *dst = plane + r * w + dj - pw;                                              \
                    const T *row = s + i * ow;                                                     \
                    if (sw == 1) S##_add_run(dst + lo, row + lo, hi - lo);                         \
                    else for (long jj = lo; jj < hi; jj++) dst[jj * sw] += row[jj];                \
                }                                                                                  \
            }                                                                                      \
    }                                                                                              \
    void onsager_fold2d_##S(const T *cols, long n, long c, long h, long w, long kh, long kw, long sh, \
                                    long sw, long ph, long pw, T *x) {                              \
        win_job j;                                                                                 \
        win_init(&j, cols, x, n, c, h, w, kh, kw, sh, sw, ph, pw);                                 \
        if (n == 0 || c == 0 || h == 0 || w == 0) return;                                          \
        if (j.oh <= 0 || j.ow <= 0) { memset(x, 0, sizeof(T) * (size_t)(n * c * h * w)); return; } \
        onsager_parallel_for(n * c, S##_fold_cols_task, &j);                                       \
    }

// The common pooling windows (2 × 2, 3 × 3) get copies of the loops compiled for their size.
#define SIZE_DISPATCH(CALL, kh, kw)                                                                \
    if (kh == 2 && kw == 2) CALL(2, 2);                                                            \
    else if (kh == 3 && kw == 3) CALL(3, 3);                                                       \
    else CALL(kh, kw);

// Whether kh × kw windows at the job's strides tile its planes: each element in exactly one window.
static inline int win_tiles(const win_job *j, long kh, long kw) {
    return j->sh == kh && j->sw == kw && j->oh * kh == j->h && j->ow * kw == j->w;
}

// Max pooling's common case, 2 × 2 windows that tile the plane (stride 2, even sides: cnn-step's
// pooling), in vectors of VW windows: the two input rows' even and odd columns are the windows'
// four elements, deinterleaved by shuffles, and the routed gradient is interleaved back the same
// way. Each lane does the scalar loop's operations in its order, so the bits are the same (a NaN
// maximum is the same quiet NaN; a single maximum takes g·(1/1) = g·1 = g) but for which NaN a
// product of two NaNs passes on (g·(0/0) where g is NaN: the compiler's operand order decides).
// The scalar loops, one window at a time, had cost 6 % of cnn-step. Plain 16-byte vector extensions: baseline SSE2
// code, as the rest of this file, with the windows past the last whole vector left to the scalar loop.
#define DEFINE_POOL2X2(T, S, VW, EVEN, ODD, LO, HI)                                              \
    typedef T S##_pv __attribute__((vector_size(VW * sizeof(T))));                               \
    typedef __typeof__((S##_pv){} != (S##_pv){}) S##_pm;   /* the comparisons' mask type */      \
    static inline S##_pv S##_pload(const T *p) { S##_pv v; __builtin_memcpy(&v, p, sizeof v); return v; } \
    static inline void S##_pstore(T *p, S##_pv v) { __builtin_memcpy(p, &v, sizeof v); }           \
    static inline S##_pv S##_psel(S##_pm m, S##_pv a, S##_pv b) {                                 \
        return (S##_pv)((m & (S##_pm)a) | (~m & (S##_pm)b));                                      \
    }                                                                                              \
    /* The four elements of windows jj … jj+VW-1 of output row i: (0,0), (0,1), (1,0), (1,1). */   \
    static inline void S##_pquad(const T *x, long w, long i, long jj, S##_pv q[4]) {              \
        const T *r0 = x + 2 * i * w + 2 * jj, *r1 = r0 + w;                                        \
        S##_pv a0 = S##_pload(r0), a1 = S##_pload(r0 + VW), b0 = S##_pload(r1), b1 = S##_pload(r1 + VW); \
        q[0] = __builtin_shufflevector(a0, a1, EVEN);                                              \
        q[1] = __builtin_shufflevector(a0, a1, ODD);                                               \
        q[2] = __builtin_shufflevector(b0, b1, EVEN);                                              \
        q[3] = __builtin_shufflevector(b0, b1, ODD);                                               \
    }                                                                                              \
    static inline void S##_pmax(const T *x, long w, long ow, long i, long jj, T *y) {              \
        S##_pv q[4];                                                                               \
        S##_pquad(x, w, i, jj, q);                                                                 \
        S##_pv acc = q[0];                                                                         \
        S##_pm nan = q[0] != q[0];                                                                 \
        for (int e = 1; e < 4; e++) {                                                              \
            nan |= q[e] != q[e];                                                                   \
            acc = S##_psel(q[e] > acc, q[e], acc);                                                 \
        }                                                                                          \
        S##_pstore(y + i * ow + jj, S##_psel(nan, (S##_pv){} + (T)__builtin_nan(""), acc));        \
    }                                                                                              \
    static inline void S##_proute(const T *x, const T *y, const T *g, long w, long ow, long i, long jj, T *dx) { \
        S##_pv q[4], m = S##_pload(y + i * ow + jj), gv = S##_pload(g + i * ow + jj);              \
        S##_pquad(x, w, i, jj, q);                                                                 \
        S##_pv one = (S##_pv){} + (T)1, zero = (S##_pv){}, count = zero;                           \
        S##_pm eq[4];                                                                              \
        for (int e = 0; e < 4; e++) {                                                              \
            eq[e] = q[e] == m;                                                                     \
            count = count + S##_psel(eq[e], one, zero);                                            \
        }                                                                                          \
        S##_pv tied = gv * (one / count), other = gv * (zero / count), d[4];                       \
        for (int e = 0; e < 4; e++) d[e] = zero + S##_psel(eq[e], tied, other);                    \
        T *d0 = dx + 2 * i * w + 2 * jj, *d1 = d0 + w;                                             \
        S##_pstore(d0, __builtin_shufflevector(d[0], d[1], LO));                                   \
        S##_pstore(d0 + VW, __builtin_shufflevector(d[0], d[1], HI));                              \
        S##_pstore(d1, __builtin_shufflevector(d[2], d[3], LO));                                   \
        S##_pstore(d1 + VW, __builtin_shufflevector(d[2], d[3], HI));                              \
    }
#define G_EVEN4 0, 2, 4, 6
#define G_ODD4 1, 3, 5, 7
#define G_LO4 0, 4, 1, 5
#define G_HI4 2, 6, 3, 7
#define G_EVEN2 0, 2
#define G_ODD2 1, 3
#define G_LO2 0, 2
#define G_HI2 1, 3
DEFINE_POOL2X2(float, f32, 4, G_EVEN4, G_ODD4, G_LO4, G_HI4)
DEFINE_POOL2X2(double, f64, 2, G_EVEN2, G_ODD2, G_LO2, G_HI2)
// Max pooling of planes [P, H, W] (no padding) into [P, OH, OW]. A window with a NaN has the
// quiet NaN as its maximum, as `max` gives. Its gradient goes to the elements equal to the maximum,
// each g·(1/count), the others g·(0/count) (so a NaN maximum, equal to nothing, passes NaN to all
// of its window, as `max` does).
#define DEFINE_MAXPOOL(T, S)                                                                       \
    static inline __attribute__((always_inline)) void S##_maxpool_plane(const win_job *j, const T *x, T *y, long kh, long kw) { \
        int tiles = kh == 2 && kw == 2 && win_tiles(j, kh, kw);                                    \
        const long vw = (long)(sizeof(S##_pv) / sizeof(T));                                        \
        for (long i = 0; i < j->oh; i++)                                                           \
            for (long jj = 0; jj < j->ow; jj++) {                                                  \
                if (tiles && jj + vw <= j->ow) {                                                   \
                    S##_pmax(x, j->w, j->ow, i, jj, y);                                            \
                    jj += vw - 1;                                                                  \
                    continue;                                                                      \
                }                                                                                  \
                const T *wnd = x + i * j->sh * j->w + jj * j->sw;                                  \
                T acc = wnd[0];                                                                    \
                int nan = 0;                                                                       \
                for (long di = 0; di < kh; di++)                                                   \
                    for (long dj = 0; dj < kw; dj++) {                                             \
                        T v = wnd[di * j->w + dj];                                                 \
                        nan |= v != v;                                                             \
                        acc = v > acc ? v : acc;                                                   \
                    }                                                                              \
                y[i * j->ow + jj] = nan ? (T)__builtin_nan("") : acc;                              \
            }                                                                                      \
    }                                                                                              \
    static void S##_maxpool_task(void *ctx, long p) {                                              \
        const win_job *j = (const win_job *)ctx;                                                   \
        const T *x = (const T *)j->src + p * j->h * j->w;                                          \
        T *y = (T *)j->dst + p * j->oh * j->ow;                                                    \
        SIZE_DISPATCH(S##_MAXPOOL_PLANE, j->kh, j->kw)                                             \
    }                                                                                              \
    void onsager_maxpool2d_##S(const T *x, long planes, long h, long w, long kh, long kw, long sh, long sw, T *y) { \
        win_job j;                                                                                 \
        win_init(&j, x, y, planes, 1, h, w, kh, kw, sh, sw, 0, 0);                                 \
        if (planes == 0 || j.oh <= 0 || j.ow <= 0) return;                                         \
        onsager_parallel_for(planes, S##_maxpool_task, &j);                                        \
    }                                                                                              \
    typedef struct { win_job w; const T *x, *y; int gather; } S##_route_job;                                   \
    /* A window's share: 1/count for its maxima, 0/count for the rest (NaN when none is). */      \
    static inline __attribute__((always_inline)) void S##_shares(const T *wnd, long w, T m, long kh, long kw, T *tied, T *other) { \
        T count = 0;                                                                               \
        for (long di = 0; di < kh; di++)                                                           \
            for (long dj = 0; dj < kw; dj++) count += wnd[di * w + dj] == m ? (T)1 : (T)0;         \
        *tied = (T)1 / count;                                                                      \
        *other = (T)0 / count;                                                                     \
    }                                                                                              \
    /* Windows that tile the plane (stride = kernel, no remainder, cnn-step's 2 × 2) each own   \
       their elements: those are written as 0 + share, the bits of the sum into zeros, with no   \
       memset before. A single maximum (count 1) takes g·1 = g and the rest g·0 without the two   \
       divisions, the same bits. The geometry is read into locals (the stores would otherwise    \
       make the compiler reload it). */                                                          \
    static inline __attribute__((always_inline)) void S##_route_plane(const win_job *j, const T *x, const T *y, const T *g, T *dx, \
                                                                       long kh, long kw) {          \
        const long h = j->h, w = j->w, sh = j->sh, sw = j->sw, oh = j->oh, ow = j->ow;             \
        int tiles = win_tiles(j, kh, kw);                                                          \
        int vec = tiles && kh == 2 && kw == 2;                                                     \
        const long vw = (long)(sizeof(S##_pv) / sizeof(T));                                        \
        if (!tiles) memset(dx, 0, sizeof(T) * (size_t)(h * w));                                    \
        for (long i = 0; i < oh; i++)                                                              \
            for (long jj = 0; jj < ow; jj++) {                                                     \
                if (vec && jj + vw <= ow) {                                                        \
                    S##_proute(x, y, g, w, ow, i, jj, dx);                                         \
                    jj += vw - 1;                                                                  \
                    continue;                                                                      \
                }                                                                                  \
                long off = i * sh * w + jj * sw, o = i * ow + jj;                                  \
                const T *wnd = x + off;                                                            \
                T *dw = dx + off, m = y[o], count = 0, tied, other;                                \
                for (long di = 0; di < kh; di++)                                                   \
                    for (long dj = 0; dj < kw; dj++) count += wnd[di * w + dj] == m ? (T)1 : (T)0; \
                if (count == (T)1) {                                                               \
                    tied = g[o];                                                                   \
                    other = g[o] * (T)0;                                                           \
                } else {                                                                           \
                    tied = g[o] * ((T)1 / count);                                                  \
                    other = g[o] * ((T)0 / count);                                                 \
                }                                                                                  \
                if (tiles)                                                                         \
                    for (long di = 0; di < kh; di++)                                               \
                        for (long dj = 0; dj < kw; dj++) dw[di * w + dj] = (T)0 + (wnd[di * w + dj] == m ? tied : other); \
                else                                                                               \
                    for (long di = 0; di < kh; di++)                                               \
                        for (long dj = 0; dj < kw; dj++) dw[di * w + dj] += wnd[di * w + dj] == m ? tied : other; \
            }                                                                                      \
    }                                                                                              \
    static inline __attribute__((always_inline)) void S##_gather_plane(const win_job *j, const T *x, const T *y, const T *gg, T *out, \
                                                                        long kh, long kw) {         \
        for (long i = 0; i < j->oh; i++)                                                           \
            for (long jj = 0; jj < j->ow; jj++) {                                                  \
                long off = i * j->sh * j->w + jj * j->sw, o = i * j->ow + jj;                      \
                const T *wnd = x + off, *gw = gg + off;                                            \
                T m = y[o], acc = 0, tied, other;                                                  \
                S##_shares(wnd, j->w, m, kh, kw, &tied, &other);                                   \
                for (long di = 0; di < kh; di++)                                                   \
                    for (long dj = 0; dj < kw; dj++)                                               \
                        acc += gw[di * j->w + dj] * (wnd[di * j->w + dj] == m ? tied : other);     \
                out[o] = acc;                                                                      \
            }                                                                                      \
    }                                                                                              \
    /* One task per plane, routing (g [oh, ow] to dx [h, w]) or gathering (gg [h, w] to out [oh, ow]). */ \
    static void S##_pool_grad_task(void *ctx, long p) {                                            \
        const S##_route_job *r = (const S##_route_job *)ctx;                                       \
        const win_job *j = &r->w;                                                                  \
        long hw = j->h * j->w, ohw = j->oh * j->ow;                                                \
        const T *x = r->x + p * hw, *y = r->y + p * ohw;                                           \
        if (r->gather) {                                                                           \
            const T *gg = (const T *)j->src + p * hw;                                              \
            T *out = (T *)j->dst + p * ohw;                                                        \
            SIZE_DISPATCH(S##_GATHER_PLANE, j->kh, j->kw)                                          \
        } else {                                                                                   \
            const T *g = (const T *)j->src + p * ohw;                                              \
            T *dx = (T *)j->dst + p * hw;                                                          \
            SIZE_DISPATCH(S##_ROUTE_PLANE, j->kh, j->kw)                                           \
        }                                                                                          \
    }                                                                                              \
    static void S##_pool_grad(int gather, const T *x, const T *y, const T *t, long planes, long h, long w, long kh, \
                              long kw, long sh, long sw, T *out) {                                  \
        S##_route_job r = {.x = x, .y = y, .gather = gather};                                      \
        win_init(&r.w, t, out, planes, 1, h, w, kh, kw, sh, sw, 0, 0);                             \
        if (planes == 0 || h == 0 || w == 0 || r.w.oh <= 0 || r.w.ow <= 0) return;                 \
        onsager_parallel_for(planes, S##_pool_grad_task, &r);                                      \
    }                                                                                              \
    void onsager_maxpool2d_route_##S(const T *x, const T *y, const T *g, long planes, long h, long w, long kh, \
                                     long kw, long sh, long sw, T *dx) {                            \
        S##_pool_grad(0, x, y, g, planes, h, w, kh, kw, sh, sw, dx);                               \
    }                                                                                              \
    void onsager_maxpool2d_gather_##S(const T *x, const T *y, const T *gg, long planes, long h, long w, long kh, \
                                      long kw, long sh, long sw, T *out) {                          \
        S##_pool_grad(1, x, y, gg, planes, h, w, kh, kw, sh, sw, out);                             \
    }

#define f32_MAXPOOL_PLANE(KH, KW) f32_maxpool_plane(j, x, y, KH, KW)
#define f64_MAXPOOL_PLANE(KH, KW) f64_maxpool_plane(j, x, y, KH, KW)
#define f32_ROUTE_PLANE(KH, KW) f32_route_plane(j, x, y, g, dx, KH, KW)
#define f64_ROUTE_PLANE(KH, KW) f64_route_plane(j, x, y, g, dx, KH, KW)
#define f32_GATHER_PLANE(KH, KW) f32_gather_plane(j, x, y, gg, out, KH, KW)
#define f64_GATHER_PLANE(KH, KW) f64_gather_plane(j, x, y, gg, out, KH, KW)
DEFINE_COLUMNS(float, f32)
DEFINE_COLUMNS(double, f64)
DEFINE_MAXPOOL(float, f32)
DEFINE_MAXPOOL(double, f64)
