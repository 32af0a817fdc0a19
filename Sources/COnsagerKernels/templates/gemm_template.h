// GEMM template (BLIS-style: packed panels, register-blocked micro-kernel). Included once per
// (type, ISA) by gemm.c with T, SUF, VBYTES, MR, NR, KC, MC, NC and VFMA defined.
#define G_CAT2(a, b) a##_##b
#define G_CAT(a, b) G_CAT2(a, b)
#define FN(name) G_CAT(name, SUF)
#define VL ((long)(VBYTES / sizeof(T)))
#define NV (NR / (VBYTES / sizeof(T)))

typedef T FN(vec) __attribute__((vector_size(VBYTES)));
typedef T FN(uvec) __attribute__((vector_size(VBYTES), aligned(sizeof(T))));

// Ap holds ceil(mc/MR) panels; panel p stores, for each k, the MR values A[p*MR + i, k].
static void FN(pack_a)(long mc, long kc, const T *A, long rsa, long csa, T *Ap) {
    for (long i0 = 0; i0 < mc; i0 += MR) {
        long mr = mc - i0 < MR ? mc - i0 : MR;
        const T *a = A + i0 * rsa;
        if (rsa == 1 && mr == MR) {   // column-major source: MR contiguous values per k
            for (long k = 0; k < kc; k++)
                for (long i = 0; i < MR; i++) Ap[k * MR + i] = a[k * csa + i];
        } else {
            for (long i = 0; i < mr; i++) {
                const T *row = a + i * rsa;
                for (long k = 0; k < kc; k++) Ap[k * MR + i] = row[k * csa];
            }
            for (long i = mr; i < MR; i++)
                for (long k = 0; k < kc; k++) Ap[k * MR + i] = 0;
        }
        Ap += MR * kc;
    }
}

// Bp holds ceil(nc/NR) panels; panel p stores, for each k, the NR values B[k, p*NR + j].
static void FN(pack_b)(long kc, long nc, const T *B, long rsb, long csb, T *Bp) {
    for (long j0 = 0; j0 < nc; j0 += NR) {
        long nr = nc - j0 < NR ? nc - j0 : NR;
        const T *b = B + j0 * csb;
        if (csb == 1 && nr == NR) {
            for (long k = 0; k < kc; k++) {
                const T *src = b + k * rsb;
                T *dst = Bp + k * NR;
                for (long j = 0; j < NR; j++) dst[j] = src[j];
            }
        } else {
            for (long j = 0; j < nr; j++) {
                const T *col = b + j * csb;
                for (long k = 0; k < kc; k++) Bp[k * NR + j] = col[k * rsb];
            }
            for (long j = nr; j < NR; j++)
                for (long k = 0; k < kc; k++) Bp[k * NR + j] = 0;
        }
        Bp += NR * kc;
    }
}

static inline __attribute__((always_inline)) void
FN(ukernel)(long kc, const T *restrict a, const T *restrict b, long ldb, T *restrict c, long ldc, T alpha,
            T beta, long mr, long nr, const int ROWS) {
    // ROWS (MR, or a third or two thirds of it) is a constant at each call site: after inlining,
    // rows past it vanish, so an edge panel of 4 rows costs 4 rows, not MR.
    FN(vec) acc[MR][NV];
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
        for (int v = 0; v < (int)NV; v++) acc[i][v] = (FN(vec)){0};
    for (long k = 0; k < kc; k++) {
        FN(vec) bv[NV];
#pragma clang loop unroll(full)
        for (int v = 0; v < (int)NV; v++) bv[v] = *(const FN(uvec) *)(b + v * VL);
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++) {
            if (i >= ROWS) break;
            FN(vec) av = (FN(vec)){0} + a[i];
#pragma clang loop unroll(full)
            for (int v = 0; v < (int)NV; v++) acc[i][v] = VFMA(av, bv[v], acc[i][v]);
        }
        a += MR;
        b += ldb;
    }
    if (mr == ROWS && nr == NR) {
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
            for (int v = 0; v < (int)NV; v++) {
                if (i >= ROWS) break;
                FN(uvec) *p = (FN(uvec) *)(c + i * ldc + v * VL);
                if (beta == 0) *p = alpha * acc[i][v];
                else *p = beta * *p + alpha * acc[i][v];
            }
    } else {
        T tmp[MR * NR] __attribute__((aligned(64)));
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
            for (int v = 0; v < (int)NV; v++) {
                if (i >= ROWS) break;
                *(FN(vec) *)(tmp + i * NR + v * VL) = acc[i][v];
            }
        for (long i = 0; i < mr; i++)
            for (long j = 0; j < nr; j++) {
                T *p = c + i * ldc + j;
                *p = beta == 0 ? alpha * tmp[i * NR + j] : beta * *p + alpha * tmp[i * NR + j];
            }
    }
}

static _Thread_local T *FN(abuf) = 0;
static _Thread_local T *FN(bbuf) = 0;

static void FN(gemm_serial)(long M, long N, long K, T alpha, const T *A, long rsa, long csa,
                            const T *B, long rsb, long csb, T beta, T *C, long ldc) {
    if (!FN(abuf)) {
        FN(abuf) = (T *)aligned_alloc(64, sizeof(T) * (size_t)MC * KC + 64);
        FN(bbuf) = (T *)aligned_alloc(64, sizeof(T) * (size_t)KC * (NC + NR) + 64);
    }
    T *Ap = FN(abuf), *Bp = FN(bbuf);
    // K in equal blocks of at most KC (784 = 4 x 196, not 3 x 256 + 16): every block then has
    // enough depth to amortise its pass over C.
    long kblocks = (K + KC - 1) / KC, kcb = (K + kblocks - 1) / kblocks;
    for (long jc = 0; jc < N; jc += NC) {
        long nc = N - jc < NC ? N - jc : NC;
        for (long pc = 0; pc < K; pc += kcb) {
            long kc = K - pc < kcb ? K - pc : kcb;
            T be = pc == 0 ? beta : (T)1;
            // With few rows, B is streamed only a few times: read full row-major panels in place
            // and pack just the ragged last panel (zero padded).
            int direct = csb == 1 && M <= 256;
            long nfull = direct ? nc / NR * NR : 0;
            if (nfull < nc) FN(pack_b)(kc, nc - nfull, B + pc * rsb + (jc + nfull) * csb, rsb, csb, Bp + nfull * kc);
            for (long ic = 0; ic < M; ic += MC) {
                long mc = M - ic < MC ? M - ic : MC;
                FN(pack_a)(mc, kc, A + ic * rsa + pc * csa, rsa, csa, Ap);
                for (long jr = 0; jr < nc; jr += NR) {
                    long nr = nc - jr < NR ? nc - jr : NR;
                    const T *bp = jr < nfull ? B + pc * rsb + jc + jr : Bp + jr * kc;
                    long ldb = jr < nfull ? rsb : NR;
                    for (long ir = 0; ir < mc; ir += MR) {
                        long mr = mc - ir < MR ? mc - ir : MR;
                        T *cij = C + (ic + ir) * ldc + jc + jr;
                        if (mr > 2 * MR / 3)
                            FN(ukernel)(kc, Ap + ir * kc, bp, ldb, cij, ldc, alpha, be, mr, nr, MR);
                        else if (mr > MR / 3)
                            FN(ukernel)(kc, Ap + ir * kc, bp, ldb, cij, ldc, alpha, be, mr, nr, 2 * MR / 3);
                        else
                            FN(ukernel)(kc, Ap + ir * kc, bp, ldb, cij, ldc, alpha, be, mr, nr, MR / 3);
                    }
                }
            }
        }
    }
}

#undef FN
#undef VL
#undef NV
#undef G_CAT
#undef G_CAT2
