// One ISA's loops of the optimizers' update rules (included by elementwise.c once per type and
// ISA, after the elementwise template, with T, SUF and the target attribute set). Each element is read and written once per step: the
// parameter, its gradient and the rule's state buffers, in one pass.
#define U_CAT2(a, b) a##_##b
#define U_CAT(a, b) U_CAT2(a, b)
#define UFN(name) U_CAT(name, SUF)

// The rules' flags are arguments of always-inlined loops called with constants, so each
// combination compiles to its own loop without conditional loads or stores, which would stop
// vectorisation. A branch not taken never touches its operands (g + 0·p would turn an infinite
// p into NaN).
#define U_INLINE static inline __attribute__((always_inline))

// b ← μ·b + (1 − dampening)·g (b ← g on the first step); g ← nesterov ? g + μ·b : b; θ ← θ − lr·g
U_INLINE void UFN(sgd_loop)(const onsager_update_rule *r, long n, T *restrict p, const T *restrict g0, T *restrict s0,
                           const int l2, const int momentum, const int first) {
    const T lr = (T)r->lr, wd = (T)r->weight_decay, mu = (T)r->momentum, keep = (T)(1 - r->dampening);
    const int nesterov = r->nesterov;
    for (long i = 0; i < n; i++) {
        T g = g0[i];
        if (l2) g = g + wd * p[i];
        if (momentum) {
            T b = first ? g : mu * s0[i] + keep * g;
            s0[i] = b;
            g = nesterov ? g + mu * b : b;
        }
        p[i] = p[i] - lr * g;
    }
}

// PyTorch's Adam / AdamW: m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g²,
// θ ← θ·(1 − lr·λ) (AdamW only) − (lr / c1) · m / (√v / √c2 + ε)
U_INLINE void UFN(adam_loop)(const onsager_update_rule *r, long n, T *restrict p, const T *restrict g0, T *restrict s0,
                            T *restrict s1, const int l2, const int decoupled) {
    const T wd = (T)r->weight_decay, eps = (T)r->eps;
    const T b1 = (T)r->beta1, nb1 = (T)(1 - r->beta1), b2 = (T)r->beta2, nb2 = (T)(1 - r->beta2);
    const T decay = (T)(1 - r->lr * r->weight_decay);
    const T step = (T)(r->lr / r->bias_correction1), root_c2 = (T)sqrt(r->bias_correction2);
    for (long i = 0; i < n; i++) {
        T g = g0[i], q = p[i];
        if (l2) g = g + wd * q;
        if (decoupled) q = q * decay;
        T m = b1 * s0[i] + nb1 * g;
        T v = b2 * s1[i] + nb2 * (g * g);
        s0[i] = m;
        s1[i] = v;
        p[i] = q - step * (m / (__builtin_elementwise_sqrt(v) / root_c2 + eps));
    }
}

// v ← α·v + (1 − α)·g²; centered: a ← α·a + (1 − α)·g, d = √(v − a²) + ε, else d = √v + ε;
// with momentum b ← μ·b + g / d, θ ← θ − lr·b; without, θ ← θ − lr·g / d
U_INLINE void UFN(rmsprop_loop)(const onsager_update_rule *r, long n, T *restrict p, const T *restrict g0,
                               T *restrict s0, T *restrict s1, T *restrict s2, const int l2, const int centered,
                               const int momentum) {
    const T lr = (T)r->lr, wd = (T)r->weight_decay, eps = (T)r->eps;
    const T al = (T)r->alpha, nal = (T)(1 - r->alpha), mu = (T)r->momentum;
    for (long i = 0; i < n; i++) {
        T g = g0[i];
        if (l2) g = g + wd * p[i];
        T v = al * s0[i] + nal * (g * g);
        s0[i] = v;
        T d;
        if (centered) {
            T a = al * s1[i] + nal * g;
            s1[i] = a;
            d = __builtin_elementwise_sqrt(v - a * a) + eps;
        } else {
            d = __builtin_elementwise_sqrt(v) + eps;
        }
        T u = g / d;
        if (momentum) {
            u = mu * s2[i] + u;
            s2[i] = u;
        }
        p[i] = p[i] - lr * u;
    }
}

// s ← s + g²; θ ← θ − lr · g / (√s + ε), with lr already decayed for this step
U_INLINE void UFN(adagrad_loop)(const onsager_update_rule *r, long n, T *restrict p, const T *restrict g0,
                               T *restrict s0, const int l2) {
    const T lr = (T)r->lr, wd = (T)r->weight_decay, eps = (T)r->eps;
    for (long i = 0; i < n; i++) {
        T g = g0[i];
        if (l2) g = g + wd * p[i];
        T s = s0[i] + g * g;
        s0[i] = s;
        p[i] = p[i] - lr * (g / (__builtin_elementwise_sqrt(s) + eps));
    }
}

static void UFN(update_block)(const onsager_update_rule *r, long n, T *restrict p, const T *restrict g, T *restrict s0,
                        T *restrict s1, T *restrict s2) {
    const int l2 = r->weight_decay != 0 && !r->decoupled_weight_decay;
    const int decoupled = r->weight_decay != 0 && r->decoupled_weight_decay;
    switch (r->kind) {
    case ONSAGER_UPDATE_SGD:
        if (r->momentum == 0) {
            if (l2) UFN(sgd_loop)(r, n, p, g, s0, 1, 0, 0); else UFN(sgd_loop)(r, n, p, g, s0, 0, 0, 0);
        } else if (r->first_step) {
            if (l2) UFN(sgd_loop)(r, n, p, g, s0, 1, 1, 1); else UFN(sgd_loop)(r, n, p, g, s0, 0, 1, 1);
        } else {
            if (l2) UFN(sgd_loop)(r, n, p, g, s0, 1, 1, 0); else UFN(sgd_loop)(r, n, p, g, s0, 0, 1, 0);
        }
        break;
    case ONSAGER_UPDATE_ADAM:
        if (l2) UFN(adam_loop)(r, n, p, g, s0, s1, 1, 0);
        else if (decoupled) UFN(adam_loop)(r, n, p, g, s0, s1, 0, 1);
        else UFN(adam_loop)(r, n, p, g, s0, s1, 0, 0);
        break;
    case ONSAGER_UPDATE_RMSPROP: {
        const int centered = r->centered, momentum = r->momentum > 0;
        // Weight decay is rare with RMSProp: its flag stays a select inside the loops.
        if (centered && momentum) UFN(rmsprop_loop)(r, n, p, g, s0, s1, s2, l2, 1, 1);
        else if (centered) UFN(rmsprop_loop)(r, n, p, g, s0, s1, s2, l2, 1, 0);
        else if (momentum) UFN(rmsprop_loop)(r, n, p, g, s0, s1, s2, l2, 0, 1);
        else UFN(rmsprop_loop)(r, n, p, g, s0, s1, s2, l2, 0, 0);
        break;
    }
    case ONSAGER_UPDATE_ADAGRAD:
        if (l2) UFN(adagrad_loop)(r, n, p, g, s0, 1); else UFN(adagrad_loop)(r, n, p, g, s0, 0);
        break;
    default: break;
    }
}

// The pass runs back to front, in blocks of 4096 run front to back (starting at multiples of 4096,
// so the vector loops stay aligned as the array is): the gradient's end is what the product that
// made it wrote last, and the parameter's start is what the next forward product reads first, so
// a parameter and gradient larger than L2 together still meet each in cache (elementwise, so every
// bit is the same). At two threads each thread's half runs this way, the halves side by side.
// Intel Xeon (model 207, 2 MB L2), the step's sequence on mlp-small's 500 x 784 weights
// (Benchmarks/sgd-pass-order.c, three runs each): the step's passes 188-197 -> 154-162 us, the
// update alone 100-104 -> 79-84 us; the whole mlp-small-step 1.01-1.02x, rbm-cd1-autodiff
// 1.00-1.01x at one thread (Benchmarks/ab.py, 8-10 rounds). Only for a share of up to L2 bytes of
// parameter: a larger one streams from memory whichever way (12M weights, the same benchmark:
// the update 4.40-4.44 ms front to back, 4.10-4.63 back to front), so it keeps the plain order.
// U_BACKWARD=0 restores the plain loop everywhere, for measurements.
#ifndef U_BACKWARD
#define U_BACKWARD 1
#endif
static void UFN(update)(const onsager_update_rule *r, long n, T *restrict p, const T *restrict g, T *restrict s0,
                        T *restrict s1, T *restrict s2) {
    if (!U_BACKWARD || (double)n * (double)sizeof(T) > (double)onsager_l2_cache_bytes()) {
        UFN(update_block)(r, n, p, g, s0, s1, s2);
        return;
    }
    const long block = 4096;
    for (long i0 = n > 0 ? (n - 1) / block * block : -1; i0 >= 0; i0 -= block) {
        long len = n - i0 < block ? n - i0 : block;
        UFN(update_block)(r, len, p + i0, g + i0, s0 ? s0 + i0 : 0, s1 ? s1 + i0 : 0, s2 ? s2 + i0 : 0);
    }
}

#undef U_INLINE
#undef UFN
#undef U_CAT
#undef U_CAT2
