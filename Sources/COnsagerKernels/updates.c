// The optimizers' update rules (SGD with momentum, Adam/AdamW, RMSProp, AdaGrad) as one pass
// over each parameter, its gradient and its state, instead of a chain of whole-tensor ops that
// reads and writes every buffer several times. Elements are independent and tasks are fixed
// blocks, so results never depend on the thread count.
#include "onsager_kernels.h"
#include <math.h>

#define T float
#define M_SQRT(x) __builtin_elementwise_sqrt(x)
#define SUF f32_portable
#include "templates/update_template.h"
#undef SUF
#undef T
#undef M_SQRT
#define T double
#define M_SQRT(x) __builtin_elementwise_sqrt(x)
#define SUF f64_portable
#include "templates/update_template.h"
#undef SUF
#undef T
#undef M_SQRT

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define T float
#define M_SQRT(x) __builtin_elementwise_sqrt(x)
#define SUF f32_avx2
#include "templates/update_template.h"
#undef SUF
#undef T
#undef M_SQRT
#define T double
#define M_SQRT(x) __builtin_elementwise_sqrt(x)
#define SUF f64_avx2
#include "templates/update_template.h"
#undef SUF
#undef T
#undef M_SQRT
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))), apply_to = function)
#define T float
#define M_SQRT(x) __builtin_elementwise_sqrt(x)
#define SUF f32_avx512
#include "templates/update_template.h"
#undef SUF
#undef T
#undef M_SQRT
#define T double
#define M_SQRT(x) __builtin_elementwise_sqrt(x)
#define SUF f64_avx512
#include "templates/update_template.h"
#undef SUF
#undef T
#undef M_SQRT
#pragma clang attribute pop
#endif

// Elements per task and the size below which one thread does all, as for the elementwise
// kernels: fixed, so the split never depends on the thread count.
#define UPDATE_CHUNK 32768L
#define UPDATE_PAR_MIN 65536L

#define DEFINE_UPDATE(T, S)                                                                        \
    static void update_##S(const onsager_update_rule *r, long n, T *p, const T *g, T *s0, T *s1, T *s2) { \
        switch (onsager_isa_level()) {                                                             \
        UPDATE_ISA_CASES(S)                                                                        \
        default: update_##S##_portable(r, n, p, g, s0, s1, s2); break;                             \
        }                                                                                          \
    }                                                                                              \
    typedef struct { const onsager_update_rule *r; long n; T *p; const T *g; T *s0, *s1, *s2; } S##_update_job; \
    static T *S##_at(T *base, long i) { return base ? base + i : base; }                           \
    static void S##_update_task(void *c, long t) {                                                 \
        S##_update_job *j = (S##_update_job *)c;                                                   \
        long i0 = t * UPDATE_CHUNK, n = j->n - i0 < UPDATE_CHUNK ? j->n - i0 : UPDATE_CHUNK;       \
        update_##S(j->r, n, j->p + i0, j->g + i0, S##_at(j->s0, i0), S##_at(j->s1, i0), S##_at(j->s2, i0)); \
    }                                                                                              \
    void onsager_update_##S(const onsager_update_rule *rule, long n, T *p, const T *g, T *s0, T *s1, T *s2) { \
        long nt = (n + UPDATE_CHUNK - 1) / UPDATE_CHUNK;                                           \
        if (n < UPDATE_PAR_MIN || onsager_get_num_threads() == 1) { update_##S(rule, n, p, g, s0, s1, s2); return; } \
        S##_update_job j = {rule, n, p, g, s0, s1, s2};                                            \
        onsager_parallel_for(nt, S##_update_task, &j);                                             \
    }

#if defined(__x86_64__)
#define UPDATE_ISA_CASES(S)                                                                        \
    case 2: update_##S##_avx512(r, n, p, g, s0, s1, s2); break;                                    \
    case 1: update_##S##_avx2(r, n, p, g, s0, s1, s2); break;
#else
#define UPDATE_ISA_CASES(S)
#endif
DEFINE_UPDATE(float, f32)
DEFINE_UPDATE(double, f64)
