// Elementwise ops, reductions, row kernels, the optimizers' update rules and random numbers:
// run-time ISA dispatch, N-d broadcasting iteration, and splitting into thread-pool tasks. Task boundaries depend only on sizes, never
// on the thread count, so results are bit-identical for any number of threads.
#include "onsager_kernels.h"
#include <stdatomic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define T float
#define IS_F32 1
#define VBYTES 16
#define SUF f32_portable
#include "templates/elementwise_template.h"
#include "templates/update_template.h"
#undef SUF
#undef T
#undef IS_F32
#define T double
#define IS_F32 0
#define SUF f64_portable
#include "templates/elementwise_template.h"
#include "templates/update_template.h"
#undef SUF
#undef T
#undef IS_F32
#undef VBYTES

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define VBYTES 32
#define T float
#define IS_F32 1
#define SUF f32_avx2
#include "templates/elementwise_template.h"
#include "templates/update_template.h"
#undef SUF
#undef T
#undef IS_F32
#define T double
#define IS_F32 0
#define SUF f64_avx2
#include "templates/elementwise_template.h"
#include "templates/update_template.h"
#undef SUF
#undef T
#undef IS_F32
#undef VBYTES
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))), apply_to = function)
#define VBYTES 64
#define T float
#define IS_F32 1
#define SUF f32_avx512
#include "templates/elementwise_template.h"
#include "templates/update_template.h"
#undef SUF
#undef T
#undef IS_F32
#define T double
#define IS_F32 0
#define SUF f64_avx512
#include "templates/elementwise_template.h"
#include "templates/update_template.h"
#undef SUF
#undef T
#undef IS_F32
#undef VBYTES
#pragma clang attribute pop

#define DISPATCH(name, S, ...)                                                                     \
    do {                                                                                           \
        switch (onsager_isa_level()) {                                                             \
        case 2: name##_##S##_avx512(__VA_ARGS__); break;                                           \
        case 1: name##_##S##_avx2(__VA_ARGS__); break;                                             \
        default: name##_##S##_portable(__VA_ARGS__); break;                                        \
        }                                                                                          \
    } while (0)
#define DISPATCH_RET(r, name, S, ...)                                                              \
    do {                                                                                           \
        switch (onsager_isa_level()) {                                                             \
        case 2: r = name##_##S##_avx512(__VA_ARGS__); break;                                       \
        case 1: r = name##_##S##_avx2(__VA_ARGS__); break;                                         \
        default: r = name##_##S##_portable(__VA_ARGS__); break;                                    \
        }                                                                                          \
    } while (0)
#else
#define DISPATCH(name, S, ...) name##_##S##_portable(__VA_ARGS__)
#define DISPATCH_RET(r, name, S, ...) r = name##_##S##_portable(__VA_ARGS__)
#endif

// Elements per task: small enough to balance two cores, large enough to amortise a wake-up.
#define CHUNK 32768L
#define PAR_MIN 65536L
#define MAXR 16

// While the pool runs every job in the caller (a one-thread span: pool.c), the plans here are the
// one-thread ones too, one pass rather than chunks run in turn (the same bits: every plan's values
// are computed the same way). Beside a worker stalled 0.5 ms in every task (`onsager-bench
// contention`, Zen 4), a layer norm's forward and backward at 2 threads ran 0.962-0.969 of 1
// thread with chunks in the spans and 0.985-0.992 with one pass (two alternations; 0.994 in a
// third run).
static int one_thread_plan(void) { return onsager_get_num_threads() == 1 || onsager_pool_contended(); }

static long ntasks_for(long n) {
    if (n < PAR_MIN || one_thread_plan()) return 1;
    return (n + CHUNK - 1) / CHUNK;
}

// Runs `task` over `units` independent units (rows, channels) of `size` elements each, in tasks of
// whole units sized from `size` alone (about CHUNK elements), so results never depend on the
// thread count; *per receives the units per task. Small jobs, or one thread: one task over all.
static void run_units(long units, long size, long *per, void (*task)(void *, long), void *ctx) {
    *per = (CHUNK + size - 1) / (size > 0 ? size : 1);
    long nt = (units + *per - 1) / *per;
    if (nt <= 1 || units * size < PAR_MIN || one_thread_plan()) {
        *per = units;
        task(ctx, 0);
        return;
    }
    onsager_parallel_for(nt, task, ctx);
}

// Merges dimensions that are contiguous for every operand and drops size-1 dimensions.
static int collapse(int rank, const long *shape, int nops, const long *const *strides, long *oshape,
                    long ost[][MAXR]) {
    int r = 0;
    for (int d = 0; d < rank; d++) {
        if (shape[d] == 1) continue;
        int merge = r > 0;
        for (int k = 0; k < nops && merge; k++)
            if (ost[k][r - 1] != strides[k][d] * shape[d]) merge = 0;
        if (merge) {
            oshape[r - 1] *= shape[d];
            for (int k = 0; k < nops; k++) ost[k][r - 1] = strides[k][d];
        } else {
            oshape[r] = shape[d];
            for (int k = 0; k < nops; k++) ost[k][r] = strides[k][d];
            r++;
        }
    }
    if (r == 0) {
        oshape[0] = 1;
        for (int k = 0; k < nops; k++) ost[k][0] = 0;
        r = 1;
    }
    return r;
}

// Offset of row `row` (index over all but the last dimension) for each operand.
static void row_offsets(int rank, const long *shape, int nops, long st[][MAXR], long row, long *off) {
    for (int k = 0; k < nops; k++) off[k] = 0;
    for (int d = rank - 2; d >= 0; d--) {
        long i = row % shape[d];
        row /= shape[d];
        for (int k = 0; k < nops; k++) off[k] += i * st[k][d];
    }
}

// ---- unary ----------------------------------------------------------------------------
#define DEFINE_UNARY(T, S)                                                                         \
    typedef struct { int op; const T *x; T *y; long n; double p0, p1; int param; } S##_ujob;       \
    static void S##_utask(void *c, long t) {                                                       \
        S##_ujob *j = (S##_ujob *)c;                                                               \
        long i0 = t * CHUNK, n = j->n - i0 < CHUNK ? j->n - i0 : CHUNK;                            \
        if (j->param) DISPATCH(param_unary, S, j->op, j->x + i0, j->y + i0, n, j->p0, j->p1);      \
        else DISPATCH(unary, S, j->op, j->x + i0, j->y + i0, n);                                   \
    }                                                                                              \
    void onsager_unary_##S(int op, const T *x, T *y, long n) {                                     \
        long nt = ntasks_for(n);                                                                   \
        if (nt == 1) { DISPATCH(unary, S, op, x, y, n); return; }                                  \
        S##_ujob j = {op, x, y, n, 0, 0, 0};                                                       \
        onsager_parallel_for(nt, S##_utask, &j);                                                   \
    }                                                                                              \
    void onsager_param_unary_##S(int op, const T *x, T *y, long n, double p0, double p1) {         \
        long nt = ntasks_for(n);                                                                   \
        if (nt == 1) { DISPATCH(param_unary, S, op, x, y, n, p0, p1); return; }                    \
        S##_ujob j = {op, x, y, n, p0, p1, 1};                                                     \
        onsager_parallel_for(nt, S##_utask, &j);                                                   \
    }
DEFINE_UNARY(float, f32)
#define DEFINE_AXPY(T, S)                                                                          \
    typedef struct { long n; T alpha; const T *x; T *y; } S##_ajob;                                \
    static void S##_atask(void *c, long t) {                                                       \
        S##_ajob *j = (S##_ajob *)c;                                                               \
        long i0 = t * CHUNK, n = j->n - i0 < CHUNK ? j->n - i0 : CHUNK;                            \
        DISPATCH(axpy, S, n, j->alpha, j->x + i0, j->y + i0);                                      \
    }                                                                                              \
    void onsager_axpy_##S(long n, T alpha, const T *x, T *y) {                                     \
        S##_ajob j = {n, alpha, x, y};                                                             \
        if (ntasks_for(n) == 1) { DISPATCH(axpy, S, n, alpha, x, y); return; }                     \
        onsager_parallel_for((n + CHUNK - 1) / CHUNK, S##_atask, &j);                              \
    }
DEFINE_AXPY(float, f32)
DEFINE_AXPY(double, f64)

// ---- the optimizers' update rules: one pass over a parameter, its gradient and its state --------
#define DEFINE_UPDATE(T, S)                                                                        \
    typedef struct { const onsager_update_rule *r; long n; T *p; const T *g; T *s0, *s1, *s2; } S##_update_job; \
    static T *S##_at(T *base, long i) { return base ? base + i : base; }                           \
    static void S##_update_task(void *c, long t) {                                                 \
        S##_update_job *j = (S##_update_job *)c;                                                   \
        long i0 = t * CHUNK, n = j->n - i0 < CHUNK ? j->n - i0 : CHUNK;                            \
        DISPATCH(update, S, j->r, n, j->p + i0, j->g + i0, S##_at(j->s0, i0), S##_at(j->s1, i0), S##_at(j->s2, i0)); \
    }                                                                                              \
    void onsager_update_##S(const onsager_update_rule *rule, long n, T *p, const T *g, T *s0, T *s1, T *s2) { \
        long nt = ntasks_for(n);                                                                   \
        if (nt == 1) { DISPATCH(update, S, rule, n, p, g, s0, s1, s2); return; }                   \
        S##_update_job j = {rule, n, p, g, s0, s1, s2};                                            \
        onsager_parallel_for(nt, S##_update_task, &j);                                             \
    }
DEFINE_UPDATE(float, f32)
DEFINE_UPDATE(double, f64)

// ---- matrix-vector product with contiguous rows -----------------------------------------------
// Tasks are fixed blocks of rows (sized from K alone), so results do not depend on threads.
#define DEFINE_GEMV(T, S)                                                                          \
    typedef struct { long M, K, rsa, incy, per; T alpha; const T *A, *x; T *y; } S##_vjob;         \
    static void S##_vtask(void *c, long t) {                                                       \
        S##_vjob *j = (S##_vjob *)c;                                                               \
        long i0 = t * j->per, i1 = i0 + j->per < j->M ? i0 + j->per : j->M;                        \
        DISPATCH(gemv_rows, S, i0, i1, j->K, j->alpha, j->A, j->rsa, j->x, j->y, j->incy);         \
    }                                                                                              \
    void onsager_gemv_rows_##S(long M, long K, T alpha, const T *A, long rsa, const T *x, T *y, long incy) { \
        S##_vjob j = {M, K, rsa, incy, 0, alpha, A, x, y};                                         \
        run_units(M, K, &j.per, S##_vtask, &j);                                                    \
    }
DEFINE_GEMV(float, f32)
DEFINE_GEMV(double, f64)
DEFINE_UNARY(double, f64)

// ---- one row block of a squared Gram product (see gram_square.c) ----------------------------
#define DEFINE_GRAM_SQUARE_BLOCK(T, S)                                                             \
    void onsager_gram_square_block_##S(long b, long i0, const T *C, long ldc, const T *x, T *y) {  \
        DISPATCH(gram_square_block, S, b, i0, C, ldc, x, y);                                       \
    }
DEFINE_GRAM_SQUARE_BLOCK(float, f32)
DEFINE_GRAM_SQUARE_BLOCK(double, f64)

// ---- binary and where (broadcasting) ----------------------------------------------------
#define DEFINE_BINARY(T, S)                                                                        \
    typedef struct {                                                                               \
        int op, rank, nops;                                                                        \
        long shape[MAXR], st[3][MAXR];                                                             \
        const T *a, *b, *c;                                                                        \
        T *out;                                                                                    \
        long rows, rows_per_task, row_chunks;                                                      \
    } S##_bjob;                                                                                    \
    static void S##_brows(S##_bjob *j, long r0, long r1, long c0, long c1) {                       \
        long n = j->shape[j->rank - 1], off[3];                                                    \
        for (long r = r0; r < r1; r++) {                                                          \
            row_offsets(j->rank, j->shape, j->nops, j->st, r, off);                                \
            long sa = j->st[0][j->rank - 1], sb = j->st[1][j->rank - 1];                           \
            T *o = j->out + r * n + c0;                                                            \
            if (j->nops == 2) {                                                                    \
                DISPATCH(binary_row, S, j->op, c1 - c0, j->a + off[0] + c0 * sa, sa,               \
                         j->b + off[1] + c0 * sb, sb, o);                                          \
            } else {                                                                               \
                long sc = j->st[2][j->rank - 1];                                                   \
                DISPATCH(where_row, S, c1 - c0, j->c + off[2] + c0 * sc, sc, j->a + off[0] + c0 * sa, \
                         sa, j->b + off[1] + c0 * sb, sb, o);                                      \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void S##_btask(void *ctx, long t) {                                                     \
        S##_bjob *j = (S##_bjob *)ctx;                                                             \
        long n = j->shape[j->rank - 1];                                                            \
        if (j->row_chunks > 1) { /* one long row split in pieces */                               \
            long c0 = t * CHUNK, c1 = c0 + CHUNK < n ? c0 + CHUNK : n;                             \
            S##_brows(j, 0, 1, c0, c1);                                                            \
        } else {                                                                                   \
            long r0 = t * j->rows_per_task, r1 = r0 + j->rows_per_task;                            \
            if (r1 > j->rows) r1 = j->rows;                                                        \
            S##_brows(j, r0, r1, 0, n);                                                            \
        }                                                                                          \
    }                                                                                              \
    static void S##_brun(S##_bjob *j, int rank, const long *shape, const long *const *st) {        \
        j->rank = collapse(rank, shape, j->nops, st, j->shape, j->st);                             \
        long n = j->shape[j->rank - 1], total = 1;                                                 \
        for (int d = 0; d < j->rank; d++) total *= j->shape[d];                                    \
        j->rows = total / n;                                                                       \
        long nt = ntasks_for(total);                                                               \
        if (nt == 1) { S##_brows(j, 0, j->rows, 0, n); return; }                                   \
        if (j->rows == 1) {                                                                        \
            j->row_chunks = (n + CHUNK - 1) / CHUNK;                                               \
            onsager_parallel_for(j->row_chunks, S##_btask, j);                                     \
        } else {                                                                                   \
            j->row_chunks = 1;                                                                     \
            j->rows_per_task = (CHUNK + n - 1) / n;                                                \
            onsager_parallel_for((j->rows + j->rows_per_task - 1) / j->rows_per_task, S##_btask, j); \
        }                                                                                          \
    }                                                                                              \
    void onsager_binary_##S(int op, int rank, const long *shape, const T *a, const long *sa,       \
                            const T *b, const long *sb, T *out) {                                  \
        S##_bjob j;                                                                                \
        j.op = op; j.nops = 2; j.a = a; j.b = b; j.c = 0; j.out = out;                             \
        const long *st[2] = {sa, sb};                                                              \
        S##_brun(&j, rank, shape, st);                                                             \
    }                                                                                              \
    void onsager_where_##S(int rank, const long *shape, const T *c, const long *sc, const T *a,    \
                           const long *sa, const T *b, const long *sb, T *out) {                   \
        S##_bjob j;                                                                                \
        j.op = 0; j.nops = 3; j.a = a; j.b = b; j.c = c; j.out = out;                              \
        const long *st[3] = {sa, sb, sc};                                                          \
        S##_brun(&j, rank, shape, st);                                                             \
    }
DEFINE_BINARY(float, f32)
DEFINE_BINARY(double, f64)

// ---- strided copy and block gather ----------------------------------------------------------
// Both run as pool tasks (run_units) once a copy reaches PAR_MIN values: a training loop's batch
// gather reads rows scattered over a data set (each a TLB and cache miss), and two threads overlap
// twice the misses. A copy's result does not depend on how it is split, as long as source and
// destination do not overlap (no caller lets them).
typedef struct {
    int elsize, rank;
    long cs[MAXR], st[2][MAXR];
    const void *src;
    void *dst;
    long n, rows, per;   // per: rows per task, or (one long row) values per task
} copy_job;

static void copy_span(const copy_job *j, long row0, long row1, long i0, long i1) {
    long off[2], s0 = j->st[0][j->rank - 1], s1 = j->st[1][j->rank - 1];
    for (long row = row0; row < row1; row++) {
        row_offsets(j->rank, j->cs, 2, (long (*)[MAXR])j->st, row, off);
        if (j->elsize == 4) {
            const uint32_t *s = (const uint32_t *)j->src + off[0] + i0 * s0;
            uint32_t *d = (uint32_t *)j->dst + off[1] + i0 * s1;
            if (s0 == 1 && s1 == 1) memcpy(d, s, (size_t)(i1 - i0) * 4);
            else for (long i = 0; i < i1 - i0; i++) d[i * s1] = s[i * s0];
        } else {
            const uint64_t *s = (const uint64_t *)j->src + off[0] + i0 * s0;
            uint64_t *d = (uint64_t *)j->dst + off[1] + i0 * s1;
            if (s0 == 1 && s1 == 1) memcpy(d, s, (size_t)(i1 - i0) * 8);
            else for (long i = 0; i < i1 - i0; i++) d[i * s1] = s[i * s0];
        }
    }
}

static void copy_rows_task(void *c, long t) {
    copy_job *j = (copy_job *)c;
    long r0 = t * j->per, r1 = r0 + j->per < j->rows ? r0 + j->per : j->rows;
    copy_span(j, r0, r1, 0, j->n);
}

static void copy_values_task(void *c, long t) {   // one long row, split by values
    copy_job *j = (copy_job *)c;
    long i0 = t * j->per, i1 = i0 + j->per < j->n ? i0 + j->per : j->n;
    copy_span(j, 0, 1, i0, i1);
}

void onsager_copy_nd(int elsize, int rank, const long *shape, const void *src, const long *ss,
                     void *dst, const long *ds) {
    copy_job j = {0};
    const long *sts[2] = {ss, ds};
    j.elsize = elsize;
    j.rank = collapse(rank, shape, 2, sts, j.cs, j.st);
    j.src = src;
    j.dst = dst;
    j.n = j.cs[j.rank - 1];
    j.rows = 1;
    for (int d = 0; d < j.rank - 1; d++) j.rows *= j.cs[d];
    if (j.rows == 1) run_units(j.n, 1, &j.per, copy_values_task, &j);
    else run_units(j.rows, j.n, &j.per, copy_rows_task, &j);
}

typedef struct {
    size_t bytes;          // of a block
    const char *src;
    const long *picks;
    long n, k, blocks, per;   // blocks in the source per outer index, picked per outer index, in all; per task
    char *dst;
} take_job;

static void take_task(void *c, long t) {   // output blocks of task t (outer-major)
    take_job *j = (take_job *)c;
    long b1 = (t + 1) * j->per < j->blocks ? (t + 1) * j->per : j->blocks;
    for (long b = t * j->per; b < b1; b++) {
        long o = b / j->k, r = b % j->k;
        memcpy(j->dst + (size_t)b * j->bytes, j->src + ((size_t)o * (size_t)j->n + (size_t)j->picks[r]) * j->bytes, j->bytes);
    }
}

void onsager_take_blocks(int elsize, const void *src, long outer, long n, long inner, const long *picks, long k,
                         void *dst) {
    take_job j = {(size_t)elsize * (size_t)inner, (const char *)src, picks, n, k, outer * k, 0, (char *)dst};
    if (j.blocks == 0 || inner == 0) return;
    run_units(j.blocks, inner, &j.per, take_task, &j);
}

// ---- reductions ---------------------------------------------------------------------------
#define RCHUNK 65536L
#define DEFINE_REDUCE(T, S)                                                                        \
    typedef struct { int op; const T *x; T *out; long outer, R, inner, per; } S##_rjob;            \
    static void S##_rtask(void *c, long t) {                                                       \
        S##_rjob *j = (S##_rjob *)c;                                                               \
        if (j->outer == 1 && j->inner == 1) { /* fixed-size chunk of one long row */              \
            long r0 = t * RCHUNK, n = j->R - r0 < RCHUNK ? j->R - r0 : RCHUNK;                     \
            DISPATCH(reduce, S, j->op, j->x + r0, j->out + t, 0, 1, n, 1);                         \
            return;                                                                                \
        }                                                                                          \
        long o0 = t * j->per, o1 = o0 + j->per < j->outer ? o0 + j->per : j->outer;                \
        DISPATCH(reduce, S, j->op, j->x, j->out, o0, o1, j->R, j->inner);                          \
    }                                                                                              \
    void onsager_reduce_##S(int op, const T *x, T *out, long outer, long R, long inner) {          \
        if (R == 0) {                                                                              \
            for (long i = 0; i < outer * inner; i++) out[i] = op == ONS_RSUM ? 0 : (T)NAN;         \
            return;                                                                                \
        }                                                                                          \
        S##_rjob j = {op, x, out, outer, R, inner, 0};                                             \
        if (outer == 1 && inner == 1 && R > RCHUNK) {                                              \
            long nc = (R + RCHUNK - 1) / RCHUNK;                                                   \
            T *part = (T *)malloc(sizeof(T) * (size_t)nc);                                         \
            if (part) {                                                                            \
                j.out = part;                                                                      \
                onsager_parallel_for(nc, S##_rtask, &j);                                           \
            }                                                                                      \
            /* Without memory for the partials, each is made where it is combined: same bits. */  \
            T acc;                                                                                 \
            if (part) acc = part[0]; else DISPATCH(reduce, S, op, x, &acc, 0, 1, RCHUNK, 1);       \
            for (long c = 1; c < nc; c++) {                                                        \
                T v;                                                                               \
                long r0 = c * RCHUNK, n = R - r0 < RCHUNK ? R - r0 : RCHUNK;                       \
                if (part) v = part[c]; else DISPATCH(reduce, S, op, x + r0, &v, 0, 1, n, 1);      \
                if (op == ONS_RSUM) acc += v;                                                      \
                else if (op == ONS_RMAX) acc = (v > acc || v != v) ? v : acc;                      \
                else acc = (v < acc || v != v) ? v : acc;                                          \
            }                                                                                      \
            *out = acc;                                                                            \
            free(part);                                                                            \
            return;                                                                                \
        }                                                                                          \
        long total = outer * R * inner;                                                            \
        if (outer > 1 && total >= PAR_MIN && !one_thread_plan()) {                                 \
            j.per = (CHUNK + R * inner - 1) / (R * inner);                                         \
            onsager_parallel_for((outer + j.per - 1) / j.per, S##_rtask, &j);                      \
            return;                                                                                \
        }                                                                                          \
        DISPATCH(reduce, S, op, x, out, 0, outer, R, inner);                                       \
    }                                                                                              \
    void onsager_argmax_##S(const T *x, long rows, long n, long *out) {                            \
        for (long r = 0; r < rows; r++) {                                                          \
            const T *row = x + r * n;                                                              \
            long best = 0;                                                                         \
            for (long i = 1; i < n; i++) if (row[i] > row[best]) best = i;                         \
            out[r] = best;                                                                         \
        }                                                                                          \
    }                                                                                              \
    void onsager_bias_relu_rows_##S(long rows, long n, T *y, const T *bias, int relu) {            \
        DISPATCH(bias_relu_rows, S, rows, n, y, bias, relu);                                       \
    }                                                                                              \
    void onsager_mask_row_sums_##S(long rows, long n, const T *g, const T *y, T *gz, T *sums) {    \
        DISPATCH(mask_row_sums, S, rows, n, g, y, gz, sums);                                       \
    }                                                                                              \
    /* The scan a training loop makes of every gradient each step: pool tasks (run_units), their \
       counts summed (an integer sum, the same for any thread count). A large model's gradients   \
       come from memory, which two cores read faster than one. */                                 \
    typedef struct { const T *x; long n, per; _Atomic long count; } S##_nfjob;                     \
    static void S##_nftask(void *c, long t) {                                                      \
        S##_nfjob *j = (S##_nfjob *)c;                                                             \
        long i0 = t * j->per, m = j->n - i0 < j->per ? j->n - i0 : j->per, r;                      \
        DISPATCH_RET(r, count_nonfinite, S, j->x + i0, m);                                         \
        if (r) atomic_fetch_add_explicit(&j->count, r, memory_order_relaxed);                      \
    }                                                                                              \
    long onsager_count_nonfinite_##S(const T *x, long n) {                                         \
        S##_nfjob j = {x, n, 0, 0};                                                                \
        if (n > 0) run_units(n, 1, &j.per, S##_nftask, &j);                                        \
        return atomic_load(&j.count);                                                              \
    }
DEFINE_REDUCE(float, f32)
DEFINE_REDUCE(double, f64)

// ---- fused softplus row sums (an RBM's free energy) ----------------------------------------
// Tasks are blocks of whole rows sized from n alone, so results do not depend on threads.
#define DEFINE_SOFTPLUS_ROWSUM(T, S)                                                               \
    typedef struct { const T *x; T *sum, *sig; long rows, n, per; } S##_spjob;                     \
    static void S##_sptask(void *c, long t) {                                                      \
        S##_spjob *j = (S##_spjob *)c;                                                             \
        long r0 = t * j->per, r1 = r0 + j->per < j->rows ? r0 + j->per : j->rows;                  \
        T stack[2048];                                                                             \
        T *tmp = j->n <= 2048 ? stack : (T *)malloc(sizeof(T) * (size_t)j->n);                     \
        if (!tmp) { /* no memory for the row: NaN sums (set by the caller) and NaN σ, never garbage */ \
            for (long i = r0 * j->n; i < r1 * j->n; i++) j->sig[i] = (T)NAN;                       \
            return;                                                                                \
        }                                                                                          \
        DISPATCH(softplus_rowsum, S, j->x, r0, r1, j->n, j->sum, j->sig, tmp);                     \
        if (tmp != stack) free(tmp);                                                               \
    }                                                                                              \
    void onsager_softplus_rowsum_##S(const T *x, long rows, long n, T *sum, T *sig) {              \
        if (rows == 0) return;                                                                     \
        if (n == 0) { for (long r = 0; r < rows; r++) sum[r] = 0; return; }                        \
        for (long r = 0; r < rows; r++) sum[r] = (T)NAN;                                           \
        S##_spjob j = {x, sum, sig, rows, n, 0};                                                   \
        run_units(rows, n, &j.per, S##_sptask, &j);                                                \
    }
DEFINE_SOFTPLUS_ROWSUM(float, f32)
DEFINE_SOFTPLUS_ROWSUM(double, f64)

// ---- row kernels: softmax, log-softmax and rows normalised to mean 0, variance 1, with their backwards ----
// Tasks are blocks of whole rows sized from n alone, so results do not depend on threads.
enum { ROWS_SOFTMAX, ROWS_SOFTMAX_BACKWARD, ROWS_LOG_SOFTMAX, ROWS_LOG_SOFTMAX_BACKWARD, ROWS_NORMALIZE, ROWS_NORMALIZE_BACKWARD,
       ROWS_NORMALIZE_AFFINE, ROWS_NORMALIZE_AFFINE_BACKWARD };
#define DEFINE_ROW_KERNELS(T, S)                                                                   \
    typedef struct { int kind; const T *a, *b, *c, *d; T *out, *rstd, *out2; long rows, n, per; T eps; } S##_rowjob; \
    static void S##_rowtask(void *ctx, long t) {                                                   \
        S##_rowjob *j = (S##_rowjob *)ctx;                                                         \
        long r0 = t * j->per, r1 = r0 + j->per < j->rows ? r0 + j->per : j->rows;                  \
        switch (j->kind) {                                                                         \
        case ROWS_SOFTMAX: DISPATCH(softmax_rows, S, j->a, r0, r1, j->n, j->out); break;           \
        case ROWS_SOFTMAX_BACKWARD: DISPATCH(softmax_rows_backward, S, j->a, j->b, r0, r1, j->n, j->out); break; \
        case ROWS_LOG_SOFTMAX: DISPATCH(log_softmax_rows, S, j->a, r0, r1, j->n, j->out); break;   \
        case ROWS_LOG_SOFTMAX_BACKWARD: DISPATCH(log_softmax_rows_backward, S, j->a, j->b, r0, r1, j->n, j->out); break; \
        case ROWS_NORMALIZE: DISPATCH(normalize_rows, S, j->a, r0, r1, j->n, j->eps, j->out, j->rstd); break; \
        case ROWS_NORMALIZE_AFFINE:                                                                \
            DISPATCH(normalize_rows_affine, S, j->a, r0, r1, j->n, j->eps, j->b, j->c, j->out, j->rstd, j->out2); break; \
        case ROWS_NORMALIZE_AFFINE_BACKWARD:                                                       \
            DISPATCH(normalize_rows_affine_backward, S, j->a, j->b, j->c, j->d, r0, r1, j->n, j->out); break; \
        default: DISPATCH(normalize_rows_backward, S, j->a, j->b, j->c, r0, r1, j->n, j->out); break; \
        }                                                                                          \
    }                                                                                              \
    static void S##_rows_run4(int kind, const T *a, const T *b, const T *c, const T *d, T *out, T *rstd, T *out2, \
                              long rows, long n, T eps) {                                          \
        if (rows == 0 || n == 0) return;                                                           \
        S##_rowjob j = {kind, a, b, c, d, out, rstd, out2, rows, n, 0, eps};                       \
        run_units(rows, n, &j.per, S##_rowtask, &j);                                               \
    }                                                                                              \
    static void S##_rows_run(int kind, const T *a, const T *b, const T *c, T *out, T *rstd, long rows, long n, T eps) { \
        S##_rows_run4(kind, a, b, c, NULL, out, rstd, NULL, rows, n, eps);                         \
    }                                                                                              \
    void onsager_softmax_rows_##S(const T *x, long rows, long n, T *y) {                           \
        S##_rows_run(ROWS_SOFTMAX, x, NULL, NULL, y, NULL, rows, n, 0);                            \
    }                                                                                              \
    void onsager_softmax_rows_backward_##S(const T *y, const T *g, long rows, long n, T *gx) {     \
        S##_rows_run(ROWS_SOFTMAX_BACKWARD, y, g, NULL, gx, NULL, rows, n, 0);                     \
    }                                                                                              \
    void onsager_log_softmax_rows_##S(const T *x, long rows, long n, T *y) {                       \
        S##_rows_run(ROWS_LOG_SOFTMAX, x, NULL, NULL, y, NULL, rows, n, 0);                        \
    }                                                                                              \
    void onsager_log_softmax_rows_backward_##S(const T *y, const T *g, long rows, long n, T *gx) { \
        S##_rows_run(ROWS_LOG_SOFTMAX_BACKWARD, y, g, NULL, gx, NULL, rows, n, 0);                 \
    }                                                                                              \
    void onsager_normalize_rows_##S(const T *x, long rows, long n, T eps, T *y, T *rstd) {         \
        S##_rows_run(ROWS_NORMALIZE, x, NULL, NULL, y, rstd, rows, n, eps);                        \
    }                                                                                              \
    void onsager_normalize_rows_backward_##S(const T *y, const T *rstd, const T *g, long rows, long n, T *gx) { \
        S##_rows_run(ROWS_NORMALIZE_BACKWARD, y, rstd, g, gx, NULL, rows, n, 0);                   \
    }                                                                                              \
    void onsager_normalize_rows_affine_##S(const T *x, long rows, long n, T eps, const T *gamma, const T *beta, \
                                           T *xhat, T *rstd, T *y) {                               \
        S##_rows_run4(ROWS_NORMALIZE_AFFINE, x, gamma, beta, NULL, xhat, rstd, y, rows, n, eps);   \
    }                                                                                              \
    void onsager_normalize_rows_affine_backward_##S(const T *xhat, const T *rstd, const T *g, const T *gamma, \
                                                    long rows, long n, T *gx) {                    \
        S##_rows_run4(ROWS_NORMALIZE_AFFINE_BACKWARD, xhat, rstd, g, gamma, gx, NULL, NULL, rows, n, 0); \
    }
DEFINE_ROW_KERNELS(float, f32)
DEFINE_ROW_KERNELS(double, f64)

// ---- layer normalisation's parameter gradients: column sums over rows -------------------------
// The units are blocks of LN_COLUMNS columns (wide enough for vector loops whatever the row count),
// each column summed over all rows in row order: bits independent of threads.
#define LN_COLUMNS 256
#define DEFINE_LAYER_NORM_PARAM_GRADS(T, S)                                                        \
    typedef struct { const T *xhat, *g; T *dgamma, *dbeta; long rows, n, per; } S##_lnjob;         \
    static void S##_lntask(void *ctx, long t) {                                                    \
        S##_lnjob *j = (S##_lnjob *)ctx;                                                           \
        long j0 = t * j->per * LN_COLUMNS, j1 = j0 + j->per * LN_COLUMNS < j->n ? j0 + j->per * LN_COLUMNS : j->n; \
        DISPATCH(layer_norm_param_grads, S, j->xhat, j->g, j->rows, j->n, j0, j1, j->dgamma, j->dbeta); \
    }                                                                                              \
    void onsager_layer_norm_param_grads_##S(const T *xhat, const T *g, long rows, long n, T *dgamma, T *dbeta) { \
        if (n <= 0) return;                                                                        \
        if (rows <= 0) {                                                                           \
            for (long i = 0; i < n; i++) { if (dgamma) dgamma[i] = 0; if (dbeta) dbeta[i] = 0; }    \
            return;                                                                                \
        }                                                                                          \
        S##_lnjob j = {xhat, g, dgamma, dbeta, rows, n, 0};                                        \
        run_units((n + LN_COLUMNS - 1) / LN_COLUMNS, rows * LN_COLUMNS, &j.per, S##_lntask, &j);   \
    }
DEFINE_LAYER_NORM_PARAM_GRADS(float, f32)
DEFINE_LAYER_NORM_PARAM_GRADS(double, f64)

// ---- batch normalisation over channels ---------------------------------------------------
// Tasks are blocks of whole channels sized from the channel's n·L alone: bits independent of threads.
#define DEFINE_CHANNEL_KERNELS(T, S)                                                               \
    typedef struct { const T *x, *g, *gamma, *beta; T *out, *mean, *rstd, *var, *dgamma, *dbeta;   \
                     long n, c, L, per; T eps; int backward; } S##_chjob;                          \
    static void S##_chtask(void *ctx, long t) {                                                    \
        S##_chjob *j = (S##_chjob *)ctx;                                                           \
        long j0 = t * j->per, j1 = j0 + j->per < j->c ? j0 + j->per : j->c;                        \
        if (j->backward)                                                                           \
            DISPATCH(normalize_channels_backward, S, j->x, j->g, j->n, j->c, j->L, j0, j1, j->gamma, \
                     j->mean, j->rstd, j->out, j->dgamma, j->dbeta);                               \
        else                                                                                       \
            DISPATCH(normalize_channels, S, j->x, j->n, j->c, j->L, j0, j1, j->eps, j->gamma, j->beta, \
                     j->out, j->mean, j->rstd, j->var);                                            \
    }                                                                                              \
    static void S##_channels_run(S##_chjob *j) {                                                   \
        if (j->c > 0) run_units(j->c, j->n * j->L, &j->per, S##_chtask, j);                        \
    }                                                                                              \
    void onsager_normalize_channels_##S(const T *x, long n, long c, long L, T eps, const T *gamma, \
                                        const T *beta, T *y, T *mean, T *rstd, T *var) {           \
        S##_chjob j = {x, NULL, gamma, beta, y, mean, rstd, var, NULL, NULL, n, c, L, 0, eps, 0};  \
        S##_channels_run(&j);                                                                      \
    }                                                                                              \
    void onsager_normalize_channels_backward_##S(const T *x, const T *g, long n, long c, long L,    \
                                                 const T *gamma, const T *mean, const T *rstd, T *gx, \
                                                 T *dgamma, T *dbeta) {                            \
        S##_chjob j = {x, g, gamma, NULL, gx, (T *)mean, (T *)rstd, NULL, dgamma, dbeta, n, c, L, 0, 0, 1}; \
        S##_channels_run(&j);                                                                      \
    }
DEFINE_CHANNEL_KERNELS(float, f32)
DEFINE_CHANNEL_KERNELS(double, f64)

// ---- random numbers ----------------------------------------------------------------------
static uint64_t seed_key(uint64_t seed) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#define DEFINE_RNG(T, S)                                                                           \
    typedef struct { uint64_t key, counter; const T *p; T *out; long n; T lo, hi; int kind; } S##_gjob; \
    static void S##_gtask(void *c, long t) {                                                       \
        S##_gjob *j = (S##_gjob *)c;                                                               \
        long i0 = t * CHUNK, n = j->n - i0 < CHUNK ? j->n - i0 : CHUNK;                            \
        if (j->kind == 0) DISPATCH(rand_uniform, S, j->key, j->counter + (uint64_t)i0, j->out + i0, n, j->lo, j->hi); \
        else if (j->kind == 1) DISPATCH(rand_bernoulli, S, j->key, j->counter + (uint64_t)i0, j->p + i0, j->out + i0, n); \
        else DISPATCH(rand_bernoulli_logits, S, j->key, j->counter + (uint64_t)i0, j->p + i0, j->out + i0, n); \
    }                                                                                              \
    void onsager_rand_uniform_##S(uint64_t seed, uint64_t counter, T *out, long n, T lo, T hi) {   \
        S##_gjob j = {seed_key(seed), counter, 0, out, n, lo, hi, 0};                              \
        onsager_parallel_for((n + CHUNK - 1) / CHUNK, S##_gtask, &j);     \
    }                                                                                              \
    void onsager_rand_bernoulli_##S(uint64_t seed, uint64_t counter, const T *p, T *out, long n) { \
        S##_gjob j = {seed_key(seed), counter, p, out, n, 0, 0, 1};                                \
        onsager_parallel_for((n + CHUNK - 1) / CHUNK, S##_gtask, &j);     \
    }                                                                                              \
    void onsager_rand_bernoulli_logits_##S(uint64_t seed, uint64_t counter, const T *x, T *out, long n) { \
        S##_gjob j = {seed_key(seed), counter, x, out, n, 0, 0, 2};                                \
        onsager_parallel_for((n + CHUNK - 1) / CHUNK, S##_gtask, &j);                              \
    }                                                                                              \
    void onsager_rand_normal_##S(uint64_t seed, uint64_t counter, T *out, long n, T mean, T sd) {  \
        /* Box-Muller on counter pairs (2k, 2k+1): element c uses cos or sin of its own pair. */   \
        uint64_t key = seed_key(seed);                                                             \
        for (long i = 0; i < n; i++) {                                                             \
            uint64_t c = counter + (uint64_t)i, p = c & ~1ULL;                                     \
            uint64_t z1 = mix_f64_portable(key + p * 0x9e3779b97f4a7c15ULL);                       \
            uint64_t z2 = mix_f64_portable(key + (p + 1) * 0x9e3779b97f4a7c15ULL);                 \
            double u1 = (double)(z1 >> 11) * 1.1102230246251565e-16;                               \
            double u2 = (double)(z2 >> 11) * 1.1102230246251565e-16;                               \
            double r = sqrt(-2.0 * log(1.0 - u1)), th = 6.283185307179586 * u2;                    \
            out[i] = mean + sd * (T)((c & 1) ? r * sin(th) : r * cos(th));                         \
        }                                                                                          \
    }
DEFINE_RNG(float, f32)
DEFINE_RNG(double, f64)
