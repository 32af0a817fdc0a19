"""scikit-learn reference for rbm-epoch-10k, in onsager-bench's JSON-lines schema: one epoch of
BernoulliRBM(n_components=500, batch_size=100, learning_rate=0.1) on 10,000 x 784 binary rows
(float32 and float64), seconds, median of 5.

Usage: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 Benchmarks/reference_sklearn.py [--threads 1,2]
"""
import json, statistics, sys, time, warnings
import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.neural_network import BernoulliRBM
import sklearn

threads = [1, 2]
if "--threads" in sys.argv:
    threads = [int(t) for t in sys.argv[sys.argv.index("--threads") + 1].split(",")]
rng = np.random.default_rng(0)
X64 = (rng.random((10000, 784)) < 0.3).astype(np.float64)
for t in threads:
    with threadpool_limits(limits=t, user_api="blas"):
        for dtype in (np.float32, np.float64):
            X = X64.astype(dtype)
            ts = []
            for r in range(5):
                rbm = BernoulliRBM(n_components=500, batch_size=100, n_iter=1, learning_rate=0.1, random_state=r)
                t0 = time.perf_counter(); rbm.fit(X); ts.append(time.perf_counter() - t0)
            name = "rbm-epoch-10k" if dtype == np.float32 else "rbm-epoch-10k-float64"
            print(json.dumps({"bench": name, "threads": t, "value": round(statistics.median(ts), 4), "unit": "s",
                              "min": round(min(ts), 4), "max": round(max(ts), 4), "impl": "sklearn " + sklearn.__version__}), flush=True)
