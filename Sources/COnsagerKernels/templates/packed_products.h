// What the Float product paths that pack their own operands (amx.c, zero_one_gemm.c) share: a
// thread's packing buffer kept for its next product, A packed by the threads in runs of panels,
// the order in which tasks take C's column panels, and the fallback to the FMA kernels.
#ifndef ONSAGER_PACKED_PRODUCTS_H
#define ONSAGER_PACKED_PRODUCTS_H
#include <stdatomic.h>
#include <stdlib.h>
#include "onsager_kernels.h"

// Up to this many bytes are kept after a product; a larger buffer is freed, so that one long K
// or large operand does not pin its memory for the thread's lifetime.
#define ONSAGER_SCRATCH_KEEP (4L << 20)

typedef struct {
    void *p;
    long bytes;
} onsager_scratch;

// The calling thread's reservations to grant before one fails (-1: none fails): tests make each
// reservation fail in turn (onsager_fail_scratch_reservation) to run every fallback. allocator.c.
extern _Thread_local long onsager_scratch_failure_countdown;

// At least `bytes` bytes, 64-byte aligned (grown, contents dropped); NULL when out of memory.
static inline void *onsager_scratch_reserve(onsager_scratch *s, long bytes) {
    if (__builtin_expect(onsager_scratch_failure_countdown >= 0, 0) && onsager_scratch_failure_countdown-- == 0) return 0;
    if (s->bytes < bytes) {
        free(s->p);
        s->p = aligned_alloc(64, (size_t)(bytes + 63) / 64 * 64);
        s->bytes = s->p ? bytes : 0;
    }
    return s->p;
}

// Frees the buffer if it is over ONSAGER_SCRATCH_KEEP.
static inline void onsager_scratch_trim(onsager_scratch *s) {
    if (s->bytes > ONSAGER_SCRATCH_KEEP) {
        free(s->p);
        s->p = 0;
        s->bytes = 0;
    }
}

// pack(ctx, p0, p1) packs panels p0 ... p1 - 1 and returns 0 when it meets a value the path cannot
// take. onsager_pack_in_runs runs it over all `panels`, split between the threads in runs (two per
// thread) when there are two threads or more and four panels or more (the pool runs the runs in
// order on the calling thread while it judges the machine contended); once a run has failed the
// others skip their work. Returns whether every run succeeded.
typedef int (*onsager_pack_fn)(void *ctx, long p0, long p1);
typedef struct {
    onsager_pack_fn pack;
    void *ctx;
    long per, panels;
    _Atomic int failed;
} onsager_pack_runs;

static inline void onsager_pack_run(void *vruns, long t) {
    onsager_pack_runs *r = (onsager_pack_runs *)vruns;
    long p0 = t * r->per, p1 = p0 + r->per < r->panels ? p0 + r->per : r->panels;
    if (atomic_load_explicit(&r->failed, memory_order_relaxed)) return;
    if (!r->pack(r->ctx, p0, p1)) atomic_store_explicit(&r->failed, 1, memory_order_relaxed);
}

static inline int onsager_pack_in_runs(long panels, onsager_pack_fn pack, void *ctx) {
    onsager_pack_runs r = {pack, ctx, panels, panels, 0};
    int nt = onsager_get_num_threads();
    if (nt > 1 && panels >= 4) {
        r.per = (panels + 2 * nt - 1) / (2 * nt);
        onsager_parallel_for((panels + r.per - 1) / r.per, onsager_pack_run, &r);
    } else {
        onsager_pack_run(&r, 0);
    }
    return !atomic_load(&r.failed);
}

// The column panel task `task` of `panels` computes. Tasks are claimed in order, so that at two
// threads the two running at once are t and t + 1: they take panels half the product apart (t even
// from the left half, odd from the right), which keeps the threads off each other's cache lines
// where a row of C ends inside a line (N = 500: every row); neighbouring panels at once ran
// 784x500x100 on AMX tiles at two threads slower than at one. (At more threads some running tasks
// are neighbours again; only the speed depends on it.)
static inline long onsager_interleaved_panel(long task, long panels) {
    return task % 2 ? (panels + 1) / 2 + task / 2 : task / 2;
}

// C = alpha·AB + beta·C, or alpha·AB + bias, then relu: the public entry point that does it.
static inline void onsager_sgemm_epilogue(long M, long N, long K, float alpha, const float *A, long rsa, long csa,
                                          const float *B, long rsb, long csb, float beta, float *C, long ldc,
                                          const float *bias, int relu) {
    if (relu) onsager_sgemm_bias_relu(M, N, K, alpha, A, rsa, csa, B, rsb, csb, bias, C, ldc);
    else if (bias) onsager_sgemm_bias(M, N, K, alpha, A, rsa, csa, B, rsb, csb, bias, C, ldc);
    else onsager_sgemm(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc);
}
#endif
