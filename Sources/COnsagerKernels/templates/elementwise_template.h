// Elementwise, reduction and random-number loops. Included once per (type, ISA) by
// elementwise.c with T, SUF, VBYTES and IS_F32 defined. The float math below is written
// branch-free (selects, no calls) so that each loop vectorizes for the ISA it is compiled for;
// double uses libm for transcendentals (accuracy matters more there: it is what gradcheck uses).
#define E_CAT2(a, b) a##_##b
#define E_CAT(a, b) E_CAT2(a, b)
#define FN(name) E_CAT(name, SUF)
#define VL ((long)(VBYTES / sizeof(T)))

typedef T FN(evec) __attribute__((vector_size(VBYTES)));
typedef T FN(euvec) __attribute__((vector_size(VBYTES), aligned(sizeof(T))));

#if IS_F32
static inline __attribute__((always_inline)) float FN(f_exp)(float x) {
    float xc = x > 88.3762626647949f ? 88.3762626647949f : x;
    xc = xc < -87.3365447504f ? -87.3365447504f : xc;
    float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;   // round to nearest
    float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
    float r2 = r * r;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    p = p * r2 + r + 1.0f;
    union { int32_t i; float f; } s;
    s.i = ((int32_t)n + 127) << 23;
    float y = p * s.f;
    y = x > 88.3762626647949f ? __builtin_inff() : y;
    y = x < -87.3365447504f ? 0.0f : y;
    return x != x ? x : y;
}

// log of a positive normal x whose exponent field is read with `bias` removed (23 for a
// subnormal scaled by 2^23): the range reduction and polynomial shared by f_log and the softplus tail.
static inline __attribute__((always_inline)) float FN(f_log_core)(float x, int32_t bias) {
    union { float f; int32_t i; } u;
    u.f = x;
    int32_t e = ((u.i >> 23) & 0xff) - 126 - bias;
    u.i = (u.i & 0x007fffff) | 0x3f000000;
    float m = u.f;
    int lt = m < 0.707106781186547524f;
    e -= lt;
    m = lt ? m + m - 1.0f : m - 1.0f;
    float z = m * m;
    float y = 7.0376836292E-2f;
    y = y * m - 1.1514610310E-1f;
    y = y * m + 1.1676998740E-1f;
    y = y * m - 1.2420140846E-1f;
    y = y * m + 1.4249322787E-1f;
    y = y * m - 1.6668057665E-1f;
    y = y * m + 2.0000714765E-1f;
    y = y * m - 2.4999993993E-1f;
    y = y * m + 3.3333331174E-1f;
    y = y * m * z;
    float fe = (float)e;
    y += -2.12194440e-4f * fe;
    y += -0.5f * z;
    float r = m + y + 0.693359375f * fe;
    return r;
}

static inline __attribute__((always_inline)) float FN(f_log)(float x) {
    int sub = x < 1.17549435e-38f;
    float r = FN(f_log_core)(sub ? x * 8388608.0f : x, sub ? 23 : 0);
    r = x == __builtin_inff() ? x : r;
    r = x == 0.0f ? -__builtin_inff() : r;
    r = x < 0.0f ? __builtin_nanf("") : r;
    return x != x ? x : r;
}

static inline __attribute__((always_inline)) float FN(f_log1p)(float x) {
    float u = 1.0f + x;
    float d = u - 1.0f;
    float r = FN(f_log)(u) * (x / (d == 0.0f ? 1.0f : d));   // Goldberg: exact-ish for small x
    r = d == 0.0f ? x : r;
    return x > 1e30f ? FN(f_log)(x) : r;
}

static inline __attribute__((always_inline)) float FN(f_expm1)(float x) {
    float u = FN(f_exp)(x);
    float d = u - 1.0f;
    float l = FN(f_log)(u);
    float r = d * (x / (l == 0.0f ? 1.0f : l));              // Kahan
    r = u == 1.0f ? x : r;
    r = x > 80.0f ? u : r;
    return x < -20.0f ? -1.0f : r;
}

static inline __attribute__((always_inline)) float FN(f_tanh)(float x) {
    float ax = x < 0 ? -x : x;
    float z = x * x;
    float small = ((((-5.70498872745E-3f * z + 2.06390887954E-2f) * z - 5.37397155531E-2f) * z +
                    1.33314422036E-1f) * z - 3.33332819422E-1f) * z * x + x;
    float e = FN(f_exp)(2.0f * (ax > 44.0f ? 44.0f : ax));
    float big = 1.0f - 2.0f / (e + 1.0f);
    big = x < 0 ? -big : big;
    return ax < 0.625f ? small : big;
}
// log(1 + e) for e in [0, 1] given s = 1/(1 + e) (which σ needs anyway): the log of the rounded
// u = 1 + e plus the first-order correction for that rounding, (e − (u − 1))/u, so small e stay
// accurate without f_log1p's division and second log.
static inline __attribute__((always_inline)) float FN(f_log1p_unit)(float e, float s) {
    float u = 1.0f + e;
    return FN(f_log_core)(u, 0) + (e - (u - 1.0f)) * s;
}

// erf, branch-free. |t| < 1: erf(t) = t·P(t²), P fitted to erf(t)/t (relative error
// 1.2e-9). t ≥ 1: erfc(t) = exp(L(t) − t²) with L = log erfcx fitted on [1, 4] (absolute error
// 1.2e-8, so erfc's relative error is that of exp and of t² rounded) and on [4, 9.5] (2e-5:
// there erf rounds to 1 and only erfc's far tail, below 1.6e-8, is that coarse). Beyond 9.5,
// exp underflows to 0. Coefficients from Benchmarks/erf-fit.py (least squares on Chebyshev nodes,
// reweighted towards minimax); Benchmarks/erf-accuracy.c measures the result (2.5 ulp).
static inline __attribute__((always_inline)) float FN(f_erf_small)(float t) {
    float s = t * t;
    float p = 7.8538577107e-05f;
    p = p * s - 8.0101925221e-04f;
    p = p * s + 5.1883275602e-03f;
    p = p * s - 2.6853811869e-02f;
    p = p * s + 1.1283585147e-01f;
    p = p * s - 3.7612625824e-01f;
    p = p * s + 1.1283791657e+00f;
    return t * p;
}
static inline __attribute__((always_inline)) float FN(f_erfc_tail)(float t) {   // t ≥ 1
    float tc = t > 9.5f ? 9.5f : t;
    float w = tc - 2.5f;
    float l = 1.5998190959e-06f;
    l = l * w - 1.3301709213e-05f;
    l = l * w + 7.7454920540e-05f;
    l = l * w - 4.2017312409e-04f;
    l = l * w + 2.1650815200e-03f;
    l = l * w - 1.0858487349e-02f;
    l = l * w + 5.6106391646e-02f;
    l = l * w - 3.5268068851e-01f;
    l = l * w - 1.5568152790e+00f;
    float u = tc - 6.75f;
    float f = -1.2760830824e-05f;
    f = f * u + 1.1292309090e-04f;
    f = f * u - 9.4772737622e-04f;
    f = f * u + 1.0267651392e-02f;
    f = f * u - 1.4507461583e-01f;
    f = f * u - 2.4925769809e+00f;
    return FN(f_exp)((tc < 4.0f ? l : f) - t * t);
}
static inline __attribute__((always_inline)) float FN(f_erf)(float x) {
    float a = x < 0 ? -x : x;
    float r = a < 1.0f ? FN(f_erf_small)(a) : 1.0f - FN(f_erfc_tail)(a < 1.0f ? 1.0f : a);
    return x != x ? x : (x < 0 ? -r : r);
}
// Φ(x), the normal distribution function GELU needs, and the density's exp(−x²/2) from the same
// exp: with a = |x|, Φ(−a) = exp(−a²/2)·s·G(s), s = 1/(1 + 0.21a), G a polynomial fitted to
// erfcx(a/√2)/(2s) (relative error 1.4e-8 on a ≤ 13.5, where exp(−a²/2) underflows; Benchmarks/erf-fit.py).
// One exp, one division and one polynomial, where Φ through erfc took three polynomials and GELU′ a second exp;
// the left tail keeps its relative accuracy, the right side is 1 − that tail.
static inline __attribute__((always_inline)) float FN(f_phi)(float x, float *density) {
    float a = x < 0 ? -x : x;
    a = a > 13.5f ? 13.5f : a;
    float e = FN(f_exp)(-0.5f * (a * a));
    float s = 1.0f / (1.0f + 0.21f * a);
    float w = s - 0.63f;
    float g = -7.2033977555e-02f;
    g = g * w - 7.7597849158e-02f;
    g = g * w + 1.2413181895e-01f;
    g = g * w + 4.6135697972e-01f;
    g = g * w + 7.3222505223e-01f;
    g = g * w + 7.8871152675e-01f;
    g = g * w + 6.4041070280e-01f;
    g = g * w + 4.0708222575e-01f;
    g = g * w + 2.0461491848e-01f;
    float tail = e * s * g;
    *density = e;
    return x < 0 ? tail : 1.0f - tail;
}
#define M_ERF(x) FN(f_erf)(x)
#define M_LOG1P_UNIT(e, s) FN(f_log1p_unit)(e, s)
#define M_EXP(x) FN(f_exp)(x)
#define M_LOG(x) FN(f_log)(x)
#define M_LOG1P(x) FN(f_log1p)(x)
#define M_EXPM1(x) FN(f_expm1)(x)
#define M_TANH(x) FN(f_tanh)(x)
#define M_POW(x, y) powf(x, y)
#else
#define M_LOG1P_UNIT(e, s) log1p(e)
#define M_EXP(x) exp(x)
#define M_LOG(x) log(x)
#define M_LOG1P(x) log1p(x)
#define M_EXPM1(x) expm1(x)
#define M_TANH(x) tanh(x)
#define M_POW(x, y) pow(x, y)
#define M_ERF(x) erf(x)
#define M_ERFC(x) erfc(x)
#endif
#define M_SQRT(x) __builtin_elementwise_sqrt(x)

// GELU from Φ(x) (Float: f_phi; Double: erfc(−x/√2)/2), which keeps its relative accuracy in the
// left tail, where (1 + erf(x/√2))/2 cancels; GELU′(x) = Φ(x) + x·φ(x) with φ the normal density (x·φ is taken
// as 0 where φ underflows, so that ±∞ give 1 and 0, not NaN).
#if IS_F32
static inline __attribute__((always_inline)) T FN(phi)(T v) { T e; return FN(f_phi)(v, &e); }
static inline __attribute__((always_inline)) T FN(gelu_slope)(T v) {
    T e, p = FN(f_phi)(v, &e), d = e * (T)0.39894228040143267794;
    return p + (d == 0 ? (T)0 : v * d);
}
#else
static inline __attribute__((always_inline)) T FN(phi)(T v) { return (T)0.5 * M_ERFC(v * (T)-0.70710678118654752440); }
static inline __attribute__((always_inline)) T FN(gelu_slope)(T v) {
    T d = M_EXP((T)-0.5 * v * v) * (T)0.39894228040143267794;
    return FN(phi)(v) + (d == 0 ? (T)0 : v * d);
}
#endif
#define M_PHI(v) FN(phi)(v)

// σ(v) and softplus(v) from e = exp(−|v|), which never overflows; shared by the sigmoid, the
// softplus and the fused softplus sum (whose σ is the sigmoid's, bit for bit; its sums and the
// logit sampler take their own shortcuts, described there). Both use 1/(1 + e); where both are
// computed from one e the compiler keeps a single division.
#define RECIP1P(e) ((T)1 / ((T)1 + (e)))
#define EXP_NEG_ABS(v) M_EXP((v) < 0 ? (v) : -(v))
static inline __attribute__((always_inline)) T FN(sigmoid_from)(T v, T e) { return v >= 0 ? RECIP1P(e) : e * RECIP1P(e); }
static inline __attribute__((always_inline)) T FN(sigmoid1)(T v) { return FN(sigmoid_from)(v, EXP_NEG_ABS(v)); }
// softplus(v) = max(v, 0) + log(1 + e) with e = exp(−|v|) in [0, 1]; NaN stays NaN.
#define SOFTPLUS_FROM(v, e) ((v) != (v) ? (v) : ((v) > 0 ? (v) : (T)0) + M_LOG1P_UNIT(e, RECIP1P(e)))

static void FN(unary)(int op, const T *restrict x, T *restrict y, long n) {
#define U_LOOP(expr)                                                                               \
    for (long i = 0; i < n; i++) {                                                                 \
        T v = x[i];                                                                                \
        y[i] = (expr);                                                                             \
    }                                                                                              \
    break;
    switch (op) {
    case ONS_NEG: U_LOOP(-v)
    case ONS_ABS: U_LOOP(v < 0 ? -v : v)
    case ONS_SIGN: U_LOOP(v > 0 ? (T)1 : (v < 0 ? (T)-1 : (v == v ? (T)0 : v)))
    case ONS_EXP: U_LOOP(M_EXP(v))
    case ONS_LOG: U_LOOP(M_LOG(v))
    case ONS_LOG1P: U_LOOP(M_LOG1P(v))
    case ONS_SQRT: U_LOOP(M_SQRT(v))
    case ONS_SQUARE: U_LOOP(v * v)
    case ONS_SIGMOID: U_LOOP(FN(sigmoid1)(v))
    case ONS_LOGSIGMOID: U_LOOP(({ T e = EXP_NEG_ABS(v); v != v ? v : (v < 0 ? v : (T)0) - M_LOG1P_UNIT(e, RECIP1P(e)); }))
    case ONS_TANH: U_LOOP(M_TANH(v))
    case ONS_RELU: U_LOOP(v > 0 ? v : (v == v ? (T)0 : v))
    case ONS_SOFTPLUS: U_LOOP(SOFTPLUS_FROM(v, EXP_NEG_ABS(v)))
    case ONS_RECIPROCAL: U_LOOP((T)1 / v)
    case ONS_EXPM1: U_LOOP(M_EXPM1(v))
    case ONS_ERF: U_LOOP(M_ERF(v))
    case ONS_GELU: U_LOOP(v * M_PHI(v))
    default: break;
    }
#undef U_LOOP
}

static void FN(param_unary)(int op, const T *restrict x, T *restrict y, long n, double p0, double p1) {
    T a = (T)p0, b = (T)p1;
    switch (op) {
    case ONS_AFFINE: for (long i = 0; i < n; i++) y[i] = a * x[i] + b; break;
    case ONS_CLAMP:
        for (long i = 0; i < n; i++) { T v = x[i]; v = v < a ? a : v; y[i] = v > b ? b : v; }
        break;
    case ONS_CLAMP_MASK: for (long i = 0; i < n; i++) y[i] = (x[i] >= a && x[i] <= b) ? (T)1 : (T)0; break;
    case ONS_LEAKY_RELU: for (long i = 0; i < n; i++) { T v = x[i]; y[i] = v > 0 ? v : a * v; } break;
    case ONS_LEAKY_STEP: for (long i = 0; i < n; i++) y[i] = x[i] > 0 ? (T)1 : a; break;
    case ONS_POWS:
        if (p0 == 2) { for (long i = 0; i < n; i++) y[i] = x[i] * x[i]; }
        else if (p0 == 1) { for (long i = 0; i < n; i++) y[i] = x[i]; }
        else if (p0 == 0.5) { for (long i = 0; i < n; i++) y[i] = M_SQRT(x[i]); }
        else if (p0 == -1) { for (long i = 0; i < n; i++) y[i] = (T)1 / x[i]; }
        else if (p0 == 3) { for (long i = 0; i < n; i++) y[i] = x[i] * x[i] * x[i]; }
        else { for (long i = 0; i < n; i++) y[i] = M_POW(x[i], a); }
        break;
    default: break;
    }
}

static void FN(binary_row)(int op, long n, const T *restrict a, long sa, const T *restrict b, long sb,
                           T *restrict o) {
#define B_LOOP(expr)                                                                               \
    if (sa == 1 && sb == 1) {                                                                      \
        for (long i = 0; i < n; i++) { T x = a[i], y = b[i]; o[i] = (expr); }                      \
    } else if (sa == 0 && sb == 1) {                                                               \
        T x = a[0];                                                                                \
        for (long i = 0; i < n; i++) { T y = b[i]; o[i] = (expr); }                                \
    } else if (sa == 1 && sb == 0) {                                                               \
        T y = b[0];                                                                                \
        for (long i = 0; i < n; i++) { T x = a[i]; o[i] = (expr); }                                \
    } else {                                                                                       \
        for (long i = 0; i < n; i++) { T x = a[i * sa], y = b[i * sb]; o[i] = (expr); }            \
    }                                                                                              \
    break;
    switch (op) {
    case ONS_ADD: B_LOOP(x + y)
    case ONS_SUB: B_LOOP(x - y)
    case ONS_MUL: B_LOOP(x * y)
    case ONS_DIV: B_LOOP(x / y)
    case ONS_POW: B_LOOP(M_POW(x, y))
    case ONS_MAX: B_LOOP((x > y || x != x) ? x : y)     /* NaN propagates, as in numpy */
    case ONS_MIN: B_LOOP((x < y || x != x) ? x : y)
    case ONS_EQ: B_LOOP(x == y ? (T)1 : (T)0)
    case ONS_NE: B_LOOP(x != y ? (T)1 : (T)0)
    case ONS_LT: B_LOOP(x < y ? (T)1 : (T)0)
    case ONS_LE: B_LOOP(x <= y ? (T)1 : (T)0)
    case ONS_GT: B_LOOP(x > y ? (T)1 : (T)0)
    case ONS_GE: B_LOOP(x >= y ? (T)1 : (T)0)
    case ONS_MASK_POS: B_LOOP(y > 0 ? x : (T)0)
    case ONS_GELU_BACKWARD: B_LOOP(x * FN(gelu_slope)(y))
    default: break;
    }
#undef B_LOOP
}

static void FN(axpy)(long n, T alpha, const T *restrict x, T *restrict y) {
    for (long i = 0; i < n; i++) y[i] += alpha * x[i];
}

// The lanes of a vector summed as a fixed tree (halves added pairwise).
static inline __attribute__((always_inline)) T FN(lanes_sum)(FN(evec) s) {
    T lane[VL];
    __builtin_memcpy(lane, &s, sizeof lane);
    for (long w = VL / 2; w >= 1; w /= 2)
        for (long k = 0; k < w; k++) lane[k] += lane[k + w];
    return lane[0];
}

// Over L values: Σ (a[i] − mu) (MOMENT_SUM), Σ (a[i] − mu)² (MOMENT_SQUARES) or Σ (a[i] − mu)·b[i]
// (MOMENT_DOT), in four vector accumulators, whole vectors, a lane tree and a scalar tail: a fixed
// order. With mu = 0 these are the plain sum and dot product (x − 0 is x, bit for bit), so row
// sums, dot products and the batch-norm moments all add in this one order. The kind is a
// constant at every call, so the branches fold away.
#ifndef ONS_MOMENT_KINDS   // the template is included once per type and ISA
#define ONS_MOMENT_KINDS
enum { MOMENT_SUM, MOMENT_SQUARES, MOMENT_DOT };
#endif
static inline __attribute__((always_inline)) T FN(block_moment)(int kind, const T *restrict a, const T *restrict b, long L, T mu) {
#define MOMENT_TERM(d, bi) (kind == MOMENT_SUM ? (d) : kind == MOMENT_SQUARES ? (d) * (d) : (d) * (bi))
    FN(evec) acc[4] = {{0}, {0}, {0}, {0}};
    long i = 0;
    for (; i + 4 * VL <= L; i += 4 * VL)
        for (int k = 0; k < 4; k++) {
            FN(evec) d = *(const FN(euvec) *)(a + i + k * VL) - mu;
            acc[k] += MOMENT_TERM(d, *(const FN(euvec) *)(b + i + k * VL));
        }
    FN(evec) s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; i + VL <= L; i += VL) {
        FN(evec) d = *(const FN(euvec) *)(a + i) - mu;
        s += MOMENT_TERM(d, *(const FN(euvec) *)(b + i));
    }
    T tot = FN(lanes_sum)(s);
    for (; i < L; i++) tot += MOMENT_TERM(a[i] - mu, b[i]);
    return tot;
#undef MOMENT_TERM
}

// y[i * incy] = alpha · (row i of A) · x for rows i0..<i1 with contiguous rows and x: the matrix-
// vector product of a linear term (an RBM's a·v).
static void FN(gemv_rows)(long i0, long i1, long K, T alpha, const T *restrict A, long rsa, const T *restrict x,
                          T *restrict y, long incy) {
    for (long i = i0; i < i1; i++) y[i * incy] = alpha * FN(block_moment)(MOMENT_DOT, A + i * rsa, x, K, 0);
}

// One row block of a symmetric matrix G folded into y += (G∘G) x: C holds G's rows i0 ≤ i < i0 + b
// up to column i0 + b (rows ldc apart), that is the block left of the diagonal and the diagonal
// block. Row i gets Σ_l G_il² x_l over all those columns; each column l < i0 also gets G_il² x_i,
// the mirror image of the block, which is never computed. Fixed order per ISA.
static void FN(gram_square_block)(long b, long i0, const T *restrict C, long ldc, const T *restrict x,
                                  T *restrict y) {
    long i1 = i0 + b;
    for (long r = 0; r < b; r++) {
        const T *c = C + r * ldc;
        T xi = x[i0 + r];
        FN(evec) acc = {0}, xv = (FN(evec)){0} + xi;
        long l = 0;
        for (; l + VL <= i0; l += VL) {
            FN(evec) g = *(const FN(euvec) *)(c + l), t = g * g;
            acc += t * *(const FN(euvec) *)(x + l);
            *(FN(euvec) *)(y + l) += t * xv;
        }
        T tot = 0;
        for (; l < i0; l++) {
            T t = c[l] * c[l];
            tot += t * x[l];
            y[l] += t * xi;
        }
        for (; l + VL <= i1; l += VL) {
            FN(evec) g = *(const FN(euvec) *)(c + l);
            acc += g * g * *(const FN(euvec) *)(x + l);
        }
        for (; l < i1; l++) tot += c[l] * c[l] * x[l];
        for (long v = 0; v < VL; v++) tot += acc[v];
        y[i0 + r] += tot;
    }
}

static void FN(where_row)(long n, const T *c, long sc, const T *a, long sa, const T *b, long sb, T *o) {
    if (sc == 1 && sa == 1 && sb == 1) {
        for (long i = 0; i < n; i++) o[i] = c[i] != 0 ? a[i] : b[i];
    } else {
        for (long i = 0; i < n; i++) o[i] = c[i * sc] != 0 ? a[i * sa] : b[i * sb];
    }
}

// The maximum (mx) or minimum of a contiguous row, in vectors (a scalar select chain was 40 % of
// a softmax) with the lanes folded by a tree (a chain over them was a quarter of a 128-wide
// softmax on an Emerald Rapids Xeon) and NaN flagged across lanes at once: any NaN gives NaN.
// The order changes the result only in the sign of a zero among equal zeros.
static inline __attribute__((always_inline)) T FN(row_extremum)(const T *x, long n, int mx) {
    long r = 0;
    T m = x[0];
    int isnan = 0;
    if (n >= VL) {
        FN(evec) mv = *(const FN(euvec) *)x;
        __typeof__(mv != mv) bad = mv != mv;
        for (r = VL; r + VL <= n; r += VL) {
            FN(evec) v = *(const FN(euvec) *)(x + r);
            bad |= v != v;
            mv = mx ? __builtin_elementwise_max(v, mv) : __builtin_elementwise_min(v, mv);
        }
        T lane[VL];
        __builtin_memcpy(lane, &mv, sizeof lane);
        for (long w = VL / 2; w >= 1; w /= 2)
            for (long k = 0; k < w; k++) {
                T a = lane[k], b = lane[k + w];
                lane[k] = mx ? (b > a ? b : a) : (b < a ? b : a);
            }
        m = lane[0];
        isnan = __builtin_reduce_or(bad) != 0;
    }
    for (; r < n; r++) { T v = x[r]; isnan |= v != v; m = mx ? (v > m ? v : m) : (v < m ? v : m); }
    return isnan ? (T)__builtin_nan("") : m;
}

// out[o, j] = reduce_r x[o, r, j] for o in [o0, o1). Fixed summation order per ISA.
static void FN(reduce)(int op, const T *restrict x, T *restrict out, long o0, long o1, long R, long inner) {
    for (long o = o0; o < o1; o++) {
        const T *xo = x + o * R * inner;
        T *oo = out + o * inner;
        if (inner == 1) {
            // Sums in block_moment's order (its lane tree: a sequential sum over lanes was a chain
            // of VL dependent adds per row, a tenth of a 128-wide softmax).
            if (op == ONS_RSUM) {
                *oo = FN(block_moment)(MOMENT_SUM, xo, xo, R, 0);
            } else {
                *oo = FN(row_extremum)(xo, R, op == ONS_RMAX);
            }
        } else {
            for (long j = 0; j < inner; j++) oo[j] = xo[j];
            for (long r = 1; r < R; r++) {
                const T *row = xo + r * inner;
                if (op == ONS_RSUM) for (long j = 0; j < inner; j++) oo[j] += row[j];
                else if (op == ONS_RMAX) for (long j = 0; j < inner; j++) { T v = row[j], m = oo[j]; oo[j] = (v > m || v != v) ? v : m; }
                else for (long j = 0; j < inner; j++) { T v = row[j], m = oo[j]; oo[j] = (v < m || v != v) ? v : m; }
            }
        }
    }
}

// One image's convolution output [rows, n] (conv2d.c), while it is in cache: bias[r] added to row
// r (bias may be NULL) and, with relu, max(·, 0) as the elementwise relu (NaN kept, -0 made +0).
// The operations of the composed expression's bias add and of the relu op: the same bits.
static void FN(bias_relu_rows)(long rows, long n, T *restrict y, const T *restrict bias, int relu) {
    for (long r = 0; r < rows; r++) {
        T *yr = y + r * n;
        if (bias && relu) {
            T b = bias[r];
            for (long i = 0; i < n; i++) { T v = yr[i] + b; yr[i] = v > 0 ? v : (v == v ? (T)0 : v); }
        } else if (bias) {
            T b = bias[r];
            for (long i = 0; i < n; i++) yr[i] += b;
        } else if (relu) {
            for (long i = 0; i < n; i++) { T v = yr[i]; yr[i] = v > 0 ? v : (v == v ? (T)0 : v); }
        }
    }
}

// One image's output gradient g [rows, n] in conv2d's backward, while it is in cache: with y (the
// output of a fused relu), gz = g where y > 0 else 0 (relu's backward, ONS_MASK_POS), else gz is
// g itself; with sums, sums[r] = Σ gz[r, :] in `reduce`'s order (the image's share of the bias's
// gradient).
static void FN(mask_row_sums)(long rows, long n, const T *restrict g, const T *restrict y, T *restrict gz,
                              T *restrict sums) {
    for (long r = 0; r < rows; r++) {
        const T *gr = g + r * n;
        if (y) {
            const T *yr = y + r * n;
            T *zr = gz + r * n;
            for (long i = 0; i < n; i++) zr[i] = yr[i] > 0 ? gr[i] : (T)0;
            gr = zr;
        }
        if (sums) sums[r] = FN(block_moment)(MOMENT_SUM, gr, gr, n, 0);
    }
}

// Rows r0..<r1 of a [rows, n] array: sum[r] = Σⱼ softplus(x[r, j]) and sig = σ(x), from one
// exp per element and no per-element log. With e = exp(−|x|) and u = 1 + e rounded (b = u − 1,
// exact), softplus(x) = max(x, 0) + log(1 + b) + (e − b)/u (f_log1p_unit's rounding correction),
// and the log(1 + b) of a lane are taken together, as log1p of q = Π(1 + b) − 1, which the lane
// keeps as q ← q + b·(1 + q) so that rows of tiny terms keep their relative accuracy (a product
// near 1 would round their sum away); one log1p per 64 terms (q < 2^64: no overflow). Each lane
// has two such accumulators, on alternate vectors, so that the chain of two operations per step
// does not set the pace. The log was half of each element's work: 1.42 -> 1.00 ns per element
// (Intel Xeon model 207, one thread, Benchmarks/kernel-micro.c, medians of five runs of each
// build in turn). The sum's error is about that of
// the per-element logs (a rounding per term, relative to q), but it is not softplus().sum(axis: -1)
// bit for bit. σ is sigmoid_from's operations: the same bits as sigmoid().
#if IS_F32
typedef int32_t FN(emask) __attribute__((vector_size(VBYTES)));
#else
typedef int64_t FN(emask) __attribute__((vector_size(VBYTES)));
#endif
static inline __attribute__((always_inline)) FN(evec) FN(vselect)(FN(emask) m, FN(evec) a, FN(evec) b) {
    return (FN(evec))(((FN(emask))a & m) | ((FN(emask))b & ~m));
}
static inline __attribute__((always_inline)) T FN(lanes_log1p_sum)(FN(evec) q) {
    T lane[VL];
    __builtin_memcpy(lane, &q, sizeof lane);
    for (long k = 0; k < VL; k++) lane[k] = M_LOG1P(lane[k]);   // one vector log1p
    __builtin_memcpy(&q, lane, sizeof lane);
    return FN(lanes_sum)(q);
}
// One vector of the row: σ stored, the linear part and the rounding correction added to lin, and
// the lane's 1 + b multiplied into 1 + q.
#define SOFTPLUS_STEP(q)                                                                           \
    do {                                                                                           \
        FN(evec) v = *(const FN(euvec) *)(xr + j), e = *(const FN(euvec) *)(tmp + j);              \
        FN(evec) u = one + e, s = one / u, b = u - one;                                            \
        *(FN(euvec) *)(sr + j) = FN(vselect)(v >= zero, s, e * s);                                 \
        lin += FN(vselect)(v > zero, v, zero) + (e - b) * s;                                       \
        q = q + b * (one + q);                                                                     \
        j += VL;                                                                                   \
    } while (0)
static void FN(softplus_rowsum)(const T *restrict x, long r0, long r1, long n, T *restrict sum,
                                T *restrict sig, T *restrict tmp) {
    const FN(evec) zero = {0}, one = zero + (T)1;
    for (long r = r0; r < r1; r++) {
        const T *xr = x + r * n;
        T *sr = sig + r * n;
        // Two passes over the row (in L1): the exponentials first, then the rest. In one loop
        // each element's chain was too long for the scheduler to overlap enough elements.
        for (long j = 0; j < n; j++) tmp[j] = EXP_NEG_ABS(xr[j]);
        FN(evec) lin = zero, q0 = zero, q1 = zero;
        T logs = 0;
        long j = 0;
        for (int count = 0; j + 2 * VL <= n;) {
            SOFTPLUS_STEP(q0);
            SOFTPLUS_STEP(q1);
            if (++count == 64) { logs += FN(lanes_log1p_sum)(q0) + FN(lanes_log1p_sum)(q1); q0 = q1 = zero; count = 0; }
        }
        if (j + VL <= n) SOFTPLUS_STEP(q0);
        T tail = 0;   // the last n % VL terms: the elementwise σ and softplus, a log each
        for (; j < n; j++) {
            T v = xr[j], e = tmp[j];
            sr[j] = FN(sigmoid_from)(v, e);
            tail += SOFTPLUS_FROM(v, e);
        }
        sum[r] = (FN(lanes_sum)(lin) + tail) + (logs + (FN(lanes_log1p_sum)(q0) + FN(lanes_log1p_sum)(q1)));
    }
}
#undef SOFTPLUS_STEP

// Softmax of contiguous rows r0..<r1 of length n: m = the row's maximum (0 when it is not finite,
// as logSumExp's shift), e = exp(x − m) written into y, then y = e / Σe. Three passes over a row
// that stays in L1; the sum is the vectorised reduction `reduce` uses. `exp_shifted_row` (shared
// with log-softmax) writes e, returns Σe and gives m.
//
// The maximum and the sum are `reduce`'s (row_extremum, block_moment), called inline: per
// 128-wide row the two calls into `reduce` (and a chain over the lanes that row_extremum no longer
// has) cost as much as the exponentials (Intel Xeon, model 207, [4096, 128],
// Benchmarks/row-kernels.c: 1.08-1.41 -> 0.71-0.76 ns per element).
static inline __attribute__((always_inline)) T FN(exp_shifted_row)(const T *restrict xr, long n, T *restrict yr, T *shift) {
    T m = FN(row_extremum)(xr, n, 1);
    if (m - m != 0) m = 0;
    for (long j = 0; j < n; j++) yr[j] = M_EXP(xr[j] - m);
    *shift = m;
    return FN(block_moment)(MOMENT_SUM, yr, yr, n, 0);
}
static void FN(softmax_rows)(const T *restrict x, long r0, long r1, long n, T *restrict y) {
    for (long r = r0; r < r1; r++) {
        T *yr = y + r * n, m;
        T inv = (T)1 / FN(exp_shifted_row)(x + r * n, n, yr, &m);
        for (long j = 0; j < n; j++) yr[j] = yr[j] * inv;
    }
}

// Softmax's backward on rows r0..<r1: gx = y ⊙ (g − Σ g⊙y), the products staged in gx for the
// vectorised sum.
static void FN(softmax_rows_backward)(const T *restrict y, const T *restrict g, long r0, long r1, long n,
                                      T *restrict gx) {
    for (long r = r0; r < r1; r++) {
        const T *yr = y + r * n, *gr = g + r * n;
        T *o = gx + r * n;
        for (long j = 0; j < n; j++) o[j] = gr[j] * yr[j];
        T dot = FN(block_moment)(MOMENT_SUM, o, o, n, 0);   // reduce's sum, inline
        for (long j = 0; j < n; j++) o[j] = yr[j] * (gr[j] - dot);
    }
}

// Log-softmax of contiguous rows r0..<r1: y = x − (m + log Σ exp(x − m)), m the row's maximum (0
// when it is not finite), with the operations and reductions of the composed x − logSumExp(x), so
// the same bits (but for a single row over 65,536 long, which onsager_reduce sums in chunks);
// exp(x − m) is staged in y for the vectorised sum.
static void FN(log_softmax_rows)(const T *restrict x, long r0, long r1, long n, T *restrict y) {
    for (long r = r0; r < r1; r++) {
        const T *xr = x + r * n;
        T *yr = y + r * n, m;
        T lse = M_LOG(FN(exp_shifted_row)(xr, n, yr, &m)) + m;
        for (long j = 0; j < n; j++) yr[j] = xr[j] - lse;
    }
}

// Its backward on rows: gx = g − exp(y)·Σ g, y the log-softmax.
static void FN(log_softmax_rows_backward)(const T *restrict y, const T *restrict g, long r0, long r1, long n,
                                          T *restrict gx) {
    for (long r = r0; r < r1; r++) {
        const T *yr = y + r * n, *gr = g + r * n;
        T *o = gx + r * n;
        T sum = FN(block_moment)(MOMENT_SUM, gr, gr, n, 0);   // reduce's sum, inline
        for (long j = 0; j < n; j++) o[j] = gr[j] - M_EXP(yr[j]) * sum;
    }
}

// Rows r0..<r1 normalised: μ = mean, σ² = mean of (x − μ)² (two passes, as variance()), y = (x − μ)·r
// with r = 1/√(σ² + ε), saved per row for the backward.
static void FN(normalize_rows)(const T *restrict x, long r0, long r1, long n, T eps, T *restrict y, T *restrict rstd) {
    for (long r = r0; r < r1; r++) {
        const T *xr = x + r * n;
        T *yr = y + r * n;
        T sum = FN(block_moment)(MOMENT_SUM, xr, xr, n, 0);   // reduce's sum, inline
        T mean = sum / (T)n;
        for (long j = 0; j < n; j++) yr[j] = xr[j] - mean;
        T var = FN(block_moment)(MOMENT_DOT, yr, yr, n, 0) / (T)n;
        T inv = (T)1 / M_SQRT(var + eps);
        rstd[r] = inv;
        for (long j = 0; j < n; j++) yr[j] = yr[j] * inv;
    }
}

// Its backward on one row: o = r · (g − mean(g) − y · mean(g ⊙ y)), y the normalised row; o may
// be g itself (the affine backward stages g·γ there).
static inline __attribute__((always_inline)) void FN(normalize_row_backward)(const T *yr, T inv, const T *gr, long n, T *o) {
    T gsum = FN(block_moment)(MOMENT_SUM, gr, gr, n, 0);   // reduce's sum, inline
    T gmean = gsum / (T)n, gy = FN(block_moment)(MOMENT_DOT, gr, yr, n, 0) / (T)n;
    for (long j = 0; j < n; j++) o[j] = inv * (gr[j] - gmean - yr[j] * gy);
}
// Its backward on rows r0..<r1.
static void FN(normalize_rows_backward)(const T *restrict y, const T *restrict rstd, const T *restrict g, long r0,
                                        long r1, long n, T *restrict gx) {
    for (long r = r0; r < r1; r++) FN(normalize_row_backward)(y + r * n, rstd[r], g + r * n, n, gx + r * n);
}

// Layer normalisation with its affine map, row by row while the row is in L1: y = x̂ (kept for the
// backward) and out = x̂·γ + β, with the roundings of the composed x̂ * γ + β (the product rounded,
// then the sum: two statements, which no fused multiply-add joins), so the same bits. One pass
// where the composed form took three over [rows, n].
static void FN(normalize_rows_affine)(const T *restrict x, long r0, long r1, long n, T eps, const T *restrict gamma,
                                      const T *restrict beta, T *restrict y, T *restrict rstd, T *restrict out) {
    for (long r = r0; r < r1; r++) {
        FN(normalize_rows)(x, r, r + 1, n, eps, y, rstd);
        const T *yr = y + r * n;
        T *o = out + r * n;
        for (long j = 0; j < n; j++) {
            T p = yr[j] * gamma[j];
            o[j] = p + beta[j];
        }
    }
}
// Its backward to x: g·γ (rounded, as the composed product) staged in gx row by row, then the
// normalisation's backward on it in place.
static void FN(normalize_rows_affine_backward)(const T *restrict y, const T *restrict rstd, const T *restrict g,
                                               const T *restrict gamma, long r0, long r1, long n, T *restrict gx) {
    for (long r = r0; r < r1; r++) {
        const T *gr = g + r * n;
        T *o = gx + r * n;
        for (long j = 0; j < n; j++) o[j] = gr[j] * gamma[j];
        FN(normalize_row_backward)(y + r * n, rstd[r], o, n, o);
    }
}

// The gradients of layer normalisation's γ and β for columns j0..<j1: dγ = Σ g ⊙ x̂ and dβ = Σ g
// over the rows (either may be NULL), each column summed row after row from row 0 (`reduce`'s
// order over a leading axis) with each product rounded before it is added (two statements), as
// the composed (g * x̂).summed and g.summed: the same bits, without the product's pass.
static void FN(layer_norm_param_grads)(const T *restrict xhat, const T *restrict g, long rows, long n, long j0,
                                       long j1, T *restrict dgamma, T *restrict dbeta) {
    if (dgamma) for (long j = j0; j < j1; j++) dgamma[j] = g[j] * xhat[j];
    if (dbeta) for (long j = j0; j < j1; j++) dbeta[j] = g[j];
    for (long r = 1; r < rows; r++) {
        const T *gr = g + r * n, *xr = xhat + r * n;
        if (dgamma) {
            for (long j = j0; j < j1; j++) {
                T p = gr[j] * xr[j];
                dgamma[j] += p;
            }
        }
        if (dbeta) for (long j = j0; j < j1; j++) dbeta[j] += gr[j];
    }
}

// Batch normalisation of channels j0..<j1 of x viewed as [n, c, L] (channel j: the n blocks
// x[i, j, 0..<L]): μ and the biased σ² over its n·L values (two passes, as variance()), then
// y = (x − μ)·(r·γ) + β with r = 1/√(σ² + ε). Saves μ and r per channel and returns σ² (the running
// statistics take it). One task per channel block: the same bits for any thread count.
static void FN(normalize_channels)(const T *restrict x, long n, long c, long L, long j0, long j1, T eps,
                                   const T *restrict gamma, const T *restrict beta, T *restrict y,
                                   T *restrict mean, T *restrict rstd, T *restrict var) {
    T count = (T)(n * L);
    for (long j = j0; j < j1; j++) {
        T sum = 0, sq = 0;
        for (long i = 0; i < n; i++) {
            const T *xb = x + (i * c + j) * L;
            sum += FN(block_moment)(MOMENT_SUM, xb, xb, L, 0);
        }
        T mu = sum / count;
        for (long i = 0; i < n; i++) {   // Σ (x − μ)², not Σ (x − μ)·x, which cancels when |μ| ≫ σ
            const T *xb = x + (i * c + j) * L;
            sq += FN(block_moment)(MOMENT_SQUARES, xb, xb, L, mu);
        }
        T v = sq / count, r = (T)1 / M_SQRT(v + eps), k = r * gamma[j], sh = beta[j];
        mean[j] = mu;
        rstd[j] = r;
        var[j] = v;
        for (long i = 0; i < n; i++) {
            const T *xb = x + (i * c + j) * L;
            T *yb = y + (i * c + j) * L;
            for (long l = 0; l < L; l++) yb[l] = (xb[l] - mu) * k + sh;
        }
    }
}

// Its backward on channels j0..<j1, with x̂ = (x − μ)·r: dβ = Σ g, dγ = Σ g·x̂ and
// gx = γ·r·(g − dβ/N − x̂·dγ/N), N = n·L. Two passes over g and x per channel.
static void FN(normalize_channels_backward)(const T *restrict x, const T *restrict g, long n, long c, long L, long j0,
                                            long j1, const T *restrict gamma, const T *restrict mean,
                                            const T *restrict rstd, T *restrict gx, T *restrict dgamma,
                                            T *restrict dbeta) {
    T count = (T)(n * L);
    for (long j = j0; j < j1; j++) {
        T mu = mean[j], r = rstd[j], sg = 0, sgx = 0;
        for (long i = 0; i < n; i++) {
            const T *xb = x + (i * c + j) * L, *gb = g + (i * c + j) * L;
            sg += FN(block_moment)(MOMENT_SUM, gb, gb, L, 0);
            sgx += FN(block_moment)(MOMENT_DOT, xb, gb, L, mu);
        }
        T dg = sgx * r;
        if (dgamma) dgamma[j] = dg;
        if (dbeta) dbeta[j] = sg;
        if (!gx) continue;
        T k = gamma[j] * r, a = sg / count, b = r * dg / count;
        for (long i = 0; i < n; i++) {
            const T *xb = x + (i * c + j) * L, *gb = g + (i * c + j) * L;
            T *ob = gx + (i * c + j) * L;
            for (long l = 0; l < L; l++) ob[l] = k * (gb[l] - a - (xb[l] - mu) * b);
        }
    }
}

// x − x is NaN exactly for NaN and ±Inf. Counting into 32-bit lanes per block keeps the loop in
// full-width vectors (a 64-bit counter halves them); training loops scan every gradient each step.
static long FN(count_nonfinite)(const T *x, long n) {
    long c = 0;
    for (long i0 = 0; i0 < n; i0 += 1L << 24) {
        long i1 = n - i0 < (1L << 24) ? n : i0 + (1L << 24);
        int k = 0;
        for (long i = i0; i < i1; i++) { T d = x[i] - x[i]; k += d != d; }
        c += k;
    }
    return c;
}

// SplitMix64 on a counter: stateless, so any slice of the stream can be made by any thread.
// Element i's input, key + (counter + i)·γ, is kept as a running sum (zi += γ; the same value mod
// 2^64), which the vectoriser steps by adding VL·γ; written as a product (even start + i·γ) it
// multiplied per element. Two of six 64-bit vector multiplies per 16 floats gone, where AVX-512
// runs them on one port (Intel).
static inline uint64_t FN(mix)(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
#if IS_F32
#define UNIT(z) ((float)((z) >> 40) * 5.9604644775390625e-08f)
#else
#define UNIT(z) ((double)((z) >> 11) * 1.1102230246251565e-16)
#endif
static void FN(rand_uniform)(uint64_t key, uint64_t counter, T *out, long n, T lo, T hi) {
    T w = hi - lo;
    uint64_t zi = key + counter * 0x9e3779b97f4a7c15ULL;
    for (long i = 0; i < n; i++, zi += 0x9e3779b97f4a7c15ULL) {
        uint64_t z = FN(mix)(zi);
        out[i] = lo + w * UNIT(z);
    }
}
static void FN(rand_bernoulli)(uint64_t key, uint64_t counter, const T *p, T *out, long n) {
    uint64_t zi = key + counter * 0x9e3779b97f4a7c15ULL;
    for (long i = 0; i < n; i++, zi += 0x9e3779b97f4a7c15ULL) {
        uint64_t z = FN(mix)(zi);
        out[i] = UNIT(z) < p[i] ? (T)1 : (T)0;
    }
}
// u < σ(x): Bernoulli samples from logits in one pass. With e = exp(−|x|), σ(x) is 1/(1 + e) for
// x ≥ 0 and e/(1 + e) below, so u < σ(x) is u + u·e < 1 or < e: no division, which was a
// sixth of the sampler's time (Intel Xeon model 207, Benchmarks/kernel-micro.c: 1.35 -> 1.12 ns
// per element, medians of five runs of each build in turn). The product rounds where the
// division did, so a draw within a rounding of σ(x) (of order 10⁻⁸ of draws) may fall on the
// other side of bernoulli(sigmoid(x))'s; NaN logits give 0, ±∞ give 1 and 0.
static void FN(rand_bernoulli_logits)(uint64_t key, uint64_t counter, const T *x, T *out, long n) {
    uint64_t zi = key + counter * 0x9e3779b97f4a7c15ULL;
    for (long i = 0; i < n; i++, zi += 0x9e3779b97f4a7c15ULL) {
        uint64_t z = FN(mix)(zi);
        T v = x[i], e = EXP_NEG_ABS(v), u = UNIT(z);
        out[i] = u + u * e < (v >= 0 ? (T)1 : e) ? (T)1 : (T)0;
    }
}
#undef UNIT
#undef SOFTPLUS_FROM
#undef RECIP1P
#undef EXP_NEG_ABS

#undef M_EXP
#undef M_LOG
#undef M_LOG1P
#undef M_LOG1P_UNIT
#undef M_EXPM1
#undef M_TANH
#undef M_POW
#undef M_ERF
#undef M_ERFC
#undef M_PHI
#undef M_SQRT
#undef FN
#undef VL
#undef E_CAT
#undef E_CAT2
