"""Onsager's sgemm and PyTorch's torch.mm (MKL on x86) called in rotation in one process, at the
same thread count, so that a shared host's drift (which moves a run by 20 % within minutes) hits
both alike. compare.py times each library in its own process and minute; this puts the two side
by side call by call, which is the like-for-like ratio at 2 threads.

Our kernels are the package's own objects, linked into a shared library (from the repository root,
after `swift build -c release`):

    O=.build/release/COnsagerKernels.build
    clang -shared $O/gemm.c.o $O/pool.c.o $O/cpu.c.o $O/elementwise.c.o -o /tmp/libonsagerk.so -lm -lpthread
    /path/to/venv/bin/python Benchmarks/gemm-torch-rotation.py /tmp/libonsagerk.so --threads 2

Each round calls both once, the order alternating round by round; prints the medians of the rates
and of the per-round ratio Onsager/PyTorch (> 1: Onsager faster), with quartiles. The shapes are
onsager-bench's sgemm-* cases. PyTorch keeps its OpenMP defaults: its threads spin for a while
after a call, which our pool would take for a busy neighbour and then run every call on one
thread, so the pool's contention detection is off here (as in gemm-objects-ab.sh at NT=2). Each
timing is ~2 GFLOP (10-20 ms), so the spin that the other library leaves behind at a switch costs
little of it.
"""
import argparse
import ctypes
import statistics
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("library")
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--rounds", type=int, default=200)
args = parser.parse_args()

lib = ctypes.CDLL(args.library)
lib.onsager_sgemm.argtypes = [ctypes.c_long] * 3 + [ctypes.c_float, ctypes.c_void_p, ctypes.c_long, ctypes.c_long,
                                                    ctypes.c_void_p, ctypes.c_long, ctypes.c_long, ctypes.c_float,
                                                    ctypes.c_void_p, ctypes.c_long]
lib.onsager_set_num_threads(args.threads)
lib.onsager_set_contention_detection(0)
torch.set_num_threads(args.threads)

# (name, M, N, K, A transposed, B transposed): as onsager-bench's cases and reference_torch.py.
SHAPES = [("sgemm-512", 512, 512, 512, False, False), ("sgemm-1024", 1024, 1024, 1024, False, False),
          ("sgemm-rbm-fwd", 100, 500, 784, False, False), ("sgemm-rbm-bwdT", 100, 784, 500, False, True),
          ("sgemm-rbm-vTh", 784, 500, 100, True, False)]

print(f"threads {args.threads}, torch {torch.__version__}, {torch.get_num_threads()} torch threads")
for name, m, n, k, ta, tb in SHAPES:
    g = torch.Generator().manual_seed(0)
    a = torch.rand(k, m, generator=g) if ta else torch.rand(m, k, generator=g)
    b = torch.rand(n, k, generator=g) if tb else torch.rand(k, n, generator=g)
    at, bt = (a.T if ta else a), (b.T if tb else b)
    c = torch.empty(m, n)
    # Row and column strides of the logical A (m x k) and B (k x n) over the stored tensors.
    rsa, csa = (1, m) if ta else (k, 1)
    rsb, csb = (1, k) if tb else (n, 1)

    def ours():
        lib.onsager_sgemm(m, n, k, 1.0, a.data_ptr(), rsa, csa, b.data_ptr(), rsb, csb, 0.0, c.data_ptr(), n)

    def theirs():
        torch.mm(at, bt, out=c)

    ours()
    ref = torch.mm(at.double(), bt.double()).float()
    assert torch.allclose(c, ref, rtol=1e-4, atol=1e-3), f"{name}: our product differs from torch's"
    flops = 2.0 * m * n * k
    reps = max(1, int(2e9 // flops))   # calls per timing: ~2 GFLOP
    rates = {"ours": [], "torch": []}
    ratios = []
    for r in range(args.rounds + 3):
        t = {}
        for who in (("ours", "torch") if r % 2 else ("torch", "ours")):
            fn = ours if who == "ours" else theirs
            s = time.perf_counter()
            for _ in range(reps):
                fn()
            t[who] = time.perf_counter() - s
        if r >= 3:
            rates["ours"].append(flops * reps / t["ours"] / 1e9)
            rates["torch"].append(flops * reps / t["torch"] / 1e9)
            ratios.append(t["torch"] / t["ours"])
    q = statistics.quantiles(ratios, n=4)
    print(f"{name} ({m}x{n}x{k}): Onsager {statistics.median(rates['ours']):.1f} GFLOPS, "
          f"PyTorch {statistics.median(rates['torch']):.1f} GFLOPS, Onsager/PyTorch {statistics.median(ratios):.3f} "
          f"(quartiles {q[0]:.3f}-{q[2]:.3f})")
