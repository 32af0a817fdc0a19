// The transposing pack of a column-major B panel (B = Wᵀ: a Dense layer's forward x·Wᵀ, an RBM's
// visible field h·Wᵀ), two ways: as gemm_template.h does it (pack_b_block: VL whole columns loaded,
// log2(VL) stages of two-source shuffles, ONSAGER_TRANSPOSE_*) and with the first stages done by
// the loads (each vector built from 128-bit pieces of four columns, then two in-lane stages: half
// the shuffles, four times the loads). Both write the same panel (checked, full and ragged panels);
// ns per packed element, best of 200 passes over 512 columns, three rounds. Not part of the
// package build. From the repository root:
//   K=Sources/COnsagerKernels
//   clang -O2 -mavx512f -mavx512vl -mavx512dq -mfma -I$K -DVL=16 Benchmarks/transpose-pack.c -o /tmp/tp16
//   clang -O2 -mavx2 -mfma -I$K -DVL=8 Benchmarks/transpose-pack.c -o /tmp/tp8
//   /tmp/tp16 784 784; /tmp/tp16 1024 2500; /tmp/tp8 784 784      # arguments: K (rows packed), column stride
// Zen 4 (2026-12-05): AVX-512 old/new 0.82-0.90 (0.079-0.089 ns per element against 0.093-0.099),
// AVX2 0.99-1.02: the loads cost what the shuffles saved, so the pack keeps its shuffles. Where
// shuffles have one port that the FMAs share (Intel's port 5), the balance may differ: this lab
// is the measurement to take there.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "templates/transpose.h"
#ifndef VL
#define VL 16
#endif
typedef float vec __attribute__((vector_size(VL * 4)));
typedef float uvec __attribute__((vector_size(VL * 4), aligned(4)));
typedef float v4 __attribute__((vector_size(16), aligned(4)));
typedef float v8 __attribute__((vector_size(32), aligned(4)));
#define NR 32
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}

static inline __attribute__((always_inline)) void old_block(const float *b, long csb, int cols, float *P) {
    vec r[VL];
#pragma clang loop unroll(full)
    for (int jj = 0; jj < VL; jj++) r[jj] = jj < cols ? *(const uvec *)(b + jj * csb) : (vec){0};
#if VL == 16
    ONSAGER_TRANSPOSE_16(r)
#else
    ONSAGER_TRANSPOSE_8(r)
#endif
#pragma clang loop unroll(full)
    for (int kk = 0; kk < VL; kk++) *(uvec *)(P + kk * NR) = r[kk];
}

static inline __attribute__((always_inline)) v4 piece(const float *p, int ok) { return ok ? *(const v4 *)p : (v4){0}; }

static inline __attribute__((always_inline)) void new_block(const float *b, long csb, int cols, float *P) {
#pragma clang loop unroll(full)
    for (int c = 0; c < VL / 4; c++) {
        vec L[4];
#pragma clang loop unroll(full)
        for (int q = 0; q < 4; q++) {
#if VL == 16
            v4 p0 = piece(b + (0 + q) * csb + 4 * c, 0 + q < cols), p1 = piece(b + (4 + q) * csb + 4 * c, 4 + q < cols);
            v4 p2 = piece(b + (8 + q) * csb + 4 * c, 8 + q < cols), p3 = piece(b + (12 + q) * csb + 4 * c, 12 + q < cols);
            v8 h0 = __builtin_shufflevector(p0, p1, 0, 1, 2, 3, 4, 5, 6, 7), h1 = __builtin_shufflevector(p2, p3, 0, 1, 2, 3, 4, 5, 6, 7);
            L[q] = __builtin_shufflevector(h0, h1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#else
            v4 p0 = piece(b + (0 + q) * csb + 4 * c, 0 + q < cols), p1 = piece(b + (4 + q) * csb + 4 * c, 4 + q < cols);
            L[q] = __builtin_shufflevector(p0, p1, 0, 1, 2, 3, 4, 5, 6, 7);
#endif
        }
#if VL == 16
        vec t0 = __builtin_shufflevector(L[0], L[1], 0,16,1,17, 4,20,5,21, 8,24,9,25, 12,28,13,29);
        vec t1 = __builtin_shufflevector(L[0], L[1], 2,18,3,19, 6,22,7,23, 10,26,11,27, 14,30,15,31);
        vec t2 = __builtin_shufflevector(L[2], L[3], 0,16,1,17, 4,20,5,21, 8,24,9,25, 12,28,13,29);
        vec t3 = __builtin_shufflevector(L[2], L[3], 2,18,3,19, 6,22,7,23, 10,26,11,27, 14,30,15,31);
        vec o0 = __builtin_shufflevector(t0, t2, 0,1,16,17, 4,5,20,21, 8,9,24,25, 12,13,28,29);
        vec o1 = __builtin_shufflevector(t0, t2, 2,3,18,19, 6,7,22,23, 10,11,26,27, 14,15,30,31);
        vec o2 = __builtin_shufflevector(t1, t3, 0,1,16,17, 4,5,20,21, 8,9,24,25, 12,13,28,29);
        vec o3 = __builtin_shufflevector(t1, t3, 2,3,18,19, 6,7,22,23, 10,11,26,27, 14,15,30,31);
#else
        vec t0 = __builtin_shufflevector(L[0], L[1], 0,8,1,9, 4,12,5,13);
        vec t1 = __builtin_shufflevector(L[0], L[1], 2,10,3,11, 6,14,7,15);
        vec t2 = __builtin_shufflevector(L[2], L[3], 0,8,1,9, 4,12,5,13);
        vec t3 = __builtin_shufflevector(L[2], L[3], 2,10,3,11, 6,14,7,15);
        vec o0 = __builtin_shufflevector(t0, t2, 0,1,8,9, 4,5,12,13);
        vec o1 = __builtin_shufflevector(t0, t2, 2,3,10,11, 6,7,14,15);
        vec o2 = __builtin_shufflevector(t1, t3, 0,1,8,9, 4,5,12,13);
        vec o3 = __builtin_shufflevector(t1, t3, 2,3,10,11, 6,7,14,15);
#endif
        *(uvec *)(P + (4 * c + 0) * NR) = o0;
        *(uvec *)(P + (4 * c + 1) * NR) = o1;
        *(uvec *)(P + (4 * c + 2) * NR) = o2;
        *(uvec *)(P + (4 * c + 3) * NR) = o3;
    }
}

static __attribute__((noinline)) void pack_old(long kc, const float *b, long csb, float *Bp, int cols) {
    for (int v = 0; v < NR / VL; v++) for (long k = 0; k + VL <= kc; k += VL) old_block(b + v * VL * csb + k, csb, cols, Bp + k * NR + v * VL);
}
static __attribute__((noinline)) void pack_new(long kc, const float *b, long csb, float *Bp, int cols) {
    for (int v = 0; v < NR / VL; v++) for (long k = 0; k + VL <= kc; k += VL) new_block(b + v * VL * csb + k, csb, cols, Bp + k * NR + v * VL);
}

int main(int argc, char **argv) {
    long K = argc > 1 ? atol(argv[1]) : 784, ld = argc > 2 ? atol(argv[2]) : 784, N = 512;
    float *B = aligned_alloc(64, 4 * N * ld + 64), *P1 = aligned_alloc(64, 4 * K * NR), *P2 = aligned_alloc(64, 4 * K * NR);
    for (long i = 0; i < N * ld; i++) B[i] = (float)i;
    for (int cols = VL; cols >= VL - 5; cols -= 5) {   // correctness, full and ragged
        memset(P1, 0, 4 * K * NR); memset(P2, 0, 4 * K * NR);
        pack_old(K / VL * VL, B, ld, P1, cols); pack_new(K / VL * VL, B, ld, P2, cols);
        if (memcmp(P1, P2, 4 * (K / VL * VL) * NR)) { printf("MISMATCH cols=%d\n", cols); return 1; }
    }
    for (int round = 0; round < 3; round++) {
        double best[2] = {1e9, 1e9};
        for (int r = 0; r < 200; r++) for (int w = 0; w < 2; w++) {
            double t0 = now();
            for (long j = 0; j < N; j += NR) (w ? pack_new : pack_old)(K / VL * VL, B + j * ld, ld, P1, VL);
            double d = now() - t0; if (d < best[w]) best[w] = d;
        }
        printf("K=%ld ld=%ld VL=%d: old %.3f ns/elem, new %.3f ns/elem, old/new %.2f\n", K, ld, VL, best[0] / (N * (K / VL * VL)) * 1e9, best[1] / (N * (K / VL * VL)) * 1e9, best[0] / best[1]);
    }
}
