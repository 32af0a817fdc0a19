// A thread's packing buffer, kept for its next product (a packed panel or operand), and the
// fallback that sends part of a product back to the FMA kernels. Shared by the kernels that pack
// their own operands (amx.c, zero_one_gemm.c).
#ifndef ONSAGER_THREAD_SCRATCH_H
#define ONSAGER_THREAD_SCRATCH_H
#include <stdlib.h>
#include "onsager_kernels.h"

// Up to this many bytes are kept after a product; a larger buffer is freed, so that one long K
// or large operand does not pin its memory for the thread's lifetime.
#define ONSAGER_SCRATCH_KEEP (4L << 20)

typedef struct {
    void *p;
    long bytes;
} onsager_scratch;

// At least `bytes` bytes, 64-byte aligned (grown, contents dropped); NULL when out of memory.
static inline void *onsager_scratch_reserve(onsager_scratch *s, long bytes) {
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

// C = alpha·AB + beta·C, or alpha·AB + bias, then relu: the public entry point that does it.
static inline void onsager_sgemm_epilogue(long M, long N, long K, float alpha, const float *A, long rsa, long csa,
                                          const float *B, long rsb, long csb, float beta, float *C, long ldc,
                                          const float *bias, int relu) {
    if (relu) onsager_sgemm_bias_relu(M, N, K, alpha, A, rsa, csa, B, rsb, csb, bias, C, ldc);
    else if (bias) onsager_sgemm_bias(M, N, K, alpha, A, rsa, csa, B, rsb, csb, bias, C, ldc);
    else onsager_sgemm(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc);
}
#endif
