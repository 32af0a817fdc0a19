"""A scaling model for data-parallel training with a ring all-reduce (no overlap of
communication with the backward pass, which is what OnsagerDistributed does today).

    step(N) = compute(rows per rank) + update + ring(N)
    ring(N) = 2 (N - 1) / N * bytes / bandwidth + 2 (N - 1) * latency

compute(rows) is measured on one core (onsager-bench, 1 thread) and taken as proportional to the
rows per rank, with a floor of GEMM inefficiency at few rows (a rank with under 8 rows runs its
GEMMs no faster than with 8); `update` (the optimizer's pass over the weights) is paid in full by
every rank. Weak scaling keeps 100 rows per rank (global batch 100 N); strong scaling keeps the
global batch at 100 rows (it stops at 100 ranks: a rank needs at least one row).

Usage: python3 Distributed/Benchmarks/scaling_model.py [--compute-mlp-small S] ... (defaults below are
the one-core figures measured on the 2-core AMD EPYC Zen 4 of 2026-12-01).
"""
import argparse

p = argparse.ArgumentParser()
p.add_argument("--compute-mlp-small", type=float, default=1 / 590, help="s per step of 100 rows, one core")
p.add_argument("--compute-mlp-big", type=float, default=1 / 12.8)
p.add_argument("--compute-rbm", type=float, default=0.45 / 100, help="s per PCD-1 update of 100 rows")
args = p.parse_args()

cases = {   # name: (seconds per 100 rows, parameter count, optimizer-update seconds)
    "mlp-small-step (784-500-10)": (args.compute_mlp_small, 397_510, 397_510 * 12 / 15e9),
    "mlp-big-step (784-2500-…-10)": (args.compute_mlp_big, 11_972_510, 11_972_510 * 12 / 15e9),
    "rbm-epoch-10k update (784×500)": (args.compute_rbm, 393_284, 393_284 * 12 / 15e9),
}
networks = {"10 GbE (TCP)": (1.25e9, 25e-6), "100 GbE (RDMA)": (12.5e9, 3e-6)}

def ring(n, nbytes, bw, lat):
    return 0.0 if n == 1 else 2 * (n - 1) / n * nbytes / bw + 2 * (n - 1) * lat

print("| case | network | ranks | weak: step (ms) | weak: efficiency | strong (batch 100): step (ms) | strong: speed-up |")
print("|---|---|---|---|---|---|---|")
for name, (c100, params, update) in cases.items():
    nbytes = 4 * params
    for net, (bw, lat) in networks.items():
        for n in (1, 8, 64, 512):
            comm = ring(n, nbytes, bw, lat)
            weak = c100 + comm
            rows = 100 / n
            if rows >= 1:
                compute = (c100 - update) * max(rows, 8) / 100 + update
                strong = compute + comm
                strong_text = f"{1e3 * strong:.2f} | {c100 / strong:.2f}×"
            else:
                strong_text = "— | — (fewer rows than ranks)"
            print(f"| {name} | {net} | {n} | {1e3 * weak:.2f} | {c100 / weak:.0%} | {strong_text} |")
