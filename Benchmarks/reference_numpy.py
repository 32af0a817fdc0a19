"""numpy (OpenBLAS) reference for onsager-bench's SGEMM cases, in the same JSON-lines schema.

Usage (this machine sets OPENBLAS_CORETYPE, which slows OpenBLAS; unset it for the reference):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 Benchmarks/reference_numpy.py [--threads 1,2] [--cases NAME,...]
Needs numpy and threadpoolctl.
"""
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refcommon import measure, threads_arg, wanted
import numpy as np
from threadpoolctl import threadpool_limits

threads = threads_arg()
rng = np.random.default_rng(0)

def f32(*shape): return rng.standard_normal(shape, dtype=np.float32)

def cases():
    a, b = f32(512, 512), f32(512, 512)
    yield "sgemm-512", (lambda: np.matmul(a, b)), 2.0 * 512 ** 3
    c, d = f32(1024, 1024), f32(1024, 1024)
    yield "sgemm-1024", (lambda: np.matmul(c, d)), 2.0 * 1024 ** 3
    v, w, h = f32(100, 784), f32(784, 500), f32(100, 500)
    yield "sgemm-rbm-fwd", (lambda: np.matmul(v, w)), 2.0 * 100 * 784 * 500
    yield "sgemm-rbm-bwdT", (lambda: np.matmul(h, w.T)), 2.0 * 100 * 500 * 784
    yield "sgemm-rbm-vTh", (lambda: np.matmul(v.T, h)), 2.0 * 784 * 100 * 500
    # The same products with the left operand 0/1 (onsager-bench's binary-rbm-*).
    v01, h01 = (rng.random((100, 784)) < 0.3).astype(np.float32), (rng.random((100, 500)) < 0.3).astype(np.float32)
    yield "binary-rbm-fwd", (lambda: np.matmul(v01, w)), 2.0 * 100 * 784 * 500
    yield "binary-rbm-bwdT", (lambda: np.matmul(h01, w.T)), 2.0 * 100 * 500 * 784
    yield "binary-rbm-vTh", (lambda: np.matmul(v01.T, h)), 2.0 * 784 * 100 * 500
    # One and four rows on the same weights (onsager-bench's matvec-* and rows4-*).
    v1, h1, v4, h4 = v[:1].copy(), h[:1].copy(), v[:4].copy(), h[:4].copy()
    yield "matvec-rbm-fwd", (lambda: np.matmul(v1, w)), 2.0 * 784 * 500
    yield "matvec-rbm-bwdT", (lambda: np.matmul(h1, w.T)), 2.0 * 500 * 784
    yield "rows4-rbm-fwd", (lambda: np.matmul(v4, w)), 2.0 * 4 * 784 * 500
    yield "rows4-rbm-bwdT", (lambda: np.matmul(h4, w.T)), 2.0 * 4 * 500 * 784

for t in threads:
    with threadpool_limits(limits=t, user_api="blas"):
        for name, fn, flops in cases():
            if not wanted(name): continue
            med, lo, hi = measure(fn, target=0.25, reps=7)
            print(json.dumps({"bench": name, "threads": t, "value": round(med * flops / 1e9, 2), "unit": "GFLOPS",
                              "min": round(lo * flops / 1e9, 2), "max": round(hi * flops / 1e9, 2), "impl": "numpy"}), flush=True)
