"""Fits the coefficients of the Float erf / erfc and GELU's Φ in Sources/COnsagerKernels/templates/elementwise_template.h.

    python3 Benchmarks/erf-fit.py        # needs numpy and scipy (in the reference venv)

|t| < 1: erf(t)/t as a polynomial of degree 6 in s = t², relative error. t >= 1: log erfcx(t) (so that
erfc(t) = exp(L(t) - t²)) as polynomials in t - 2.5 on [1, 4] (degree 8) and in t - 6.75 on [4, 9.5]
(degree 5), absolute error. GELU's normal distribution function Φ: erfcx(a/√2)/(2s) as a polynomial
in s = 1/(1 + 0.21a), a = |x| (below), relative error. Least squares on Chebyshev nodes, reweighted (Lawson) towards minimax;
prints each fit's maximum error on a fine grid and the coefficients, lowest order first.
Benchmarks/erf-accuracy.c measures the kernels built from them."""
import numpy as np
from scipy.special import erf, erfcx


def fit(fun, a, b, deg, rel, n=4000):
    k = np.arange(n)
    x = (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (k + 0.5) / n)
    y = fun(x)
    w = 1 / np.abs(y) if rel else np.ones_like(y)
    V = np.vander(x, deg + 1, increasing=True)
    lw = np.ones(n)
    for _ in range(60):
        c, *_ = np.linalg.lstsq(V * (w * np.sqrt(lw))[:, None], y * w * np.sqrt(lw), rcond=None)
        e = np.abs((V @ c - y) * w)
        lw = lw * e
        lw /= lw.sum()
    xs = np.linspace(a, b, 200001)
    ys = fun(xs)
    err = np.abs(np.vander(xs, deg + 1, increasing=True) @ c - ys)
    return c, np.max(err / np.abs(ys) if rel else err)


def show(name, c, err):
    print(f"{name}: max error {err:.3g}\n  " + ", ".join("%.10ef" % v for v in c))


small = lambda s: np.where(s == 0, 2 / np.sqrt(np.pi), erf(np.sqrt(s)) / np.sqrt(np.maximum(s, 1e-300)))
log_erfcx = lambda t: np.log(erfcx(t))
show("erf(t)/t in s = t^2 on [0, 1] (relative)", *fit(small, 0, 1, 6, rel=True))
show("log erfcx(t) in w = t - 2.5 on [1, 4]", *fit(lambda w: log_erfcx(w + 2.5), -1.5, 1.5, 8, rel=False))
show("log erfcx(t) in u = t - 6.75 on [4, 9.5]", *fit(lambda u: log_erfcx(u + 6.75), -2.75, 2.75, 5, rel=False))

# GELU's Φ(−a) = exp(−a²/2)·s·G(s) for a = |x| ≥ 0, s = 1/(1 + 0.21a): G(s) = erfcx(a/√2)/(2s) as a
# polynomial of degree 8 in w = s − 0.63 on a ∈ [0, 13.5] (beyond, exp(−a²/2) underflows in Float),
# relative error. One exp, one division and one polynomial give Φ and, from the same exp, the
# normal density GELU′ needs; erfc through the two log-erfcx fits costs two polynomials more.
k_phi, a_max, w_mid = 0.21, 13.5, 0.63
s_min = 1 / (1 + k_phi * a_max)
phi_g = lambda w: erfcx((1 / (w + w_mid) - 1) / k_phi / np.sqrt(2)) / (2 * (w + w_mid))
show("G(s) for Phi in w = s - 0.63, s = 1/(1 + 0.21|x|) on |x| <= 13.5 (relative)",
     *fit(phi_g, s_min - w_mid, 1 - w_mid, 8, rel=True))
