"""Onsager and the references timed case by case, in alternating order, round after round, so that
each ratio compares windows seconds apart. compare.py times every implementation over all cases in
turn (minutes apart), and a shared host's speed moves by 20-40 % within minutes; here each round
runs one case in Onsager and in every reference that has it, back to back, and the per-round
ratios (> 1: Onsager faster) are summarised by their median and quartiles.

Usage:  python3 Benchmarks/rotation.py --python VENV_PYTHON [--rounds 5] [--threads 1] [--avx2] CASE ...
e.g.    python3 Benchmarks/rotation.py --python /root/refvenv/bin/python mlp-small-step mlp-big-step rbm-cd1-autodiff sgemm-rbm-fwd
Build first:  swift build -c release --product onsager-bench

References per case: numpy (OpenBLAS, with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset) for
sgemm-*, PyTorch for sgemm-*, tiny-op-backward, rbm-cd1-autodiff and the MLP steps, JAX (jit) for
the MLP steps. Each window is one process: its start-up is not timed, only its measurement.
--avx2 holds every implementation to AVX2 and FMA (environments.py): a stand-in for AVX2-only CPUs.
"""
import argparse, json, os, statistics, subprocess, sys
from environments import environments

here = os.path.dirname(os.path.abspath(__file__))
bench = os.path.join(os.path.dirname(here), ".build", "release", "onsager-bench")
p = argparse.ArgumentParser()
p.add_argument("cases", nargs="+")
p.add_argument("--python", default=sys.executable)
p.add_argument("--rounds", type=int, default=5)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--avx2", action="store_true")
args = p.parse_args()

envs = environments(args.avx2)
def references(case):
    refs = []
    if case.startswith("sgemm-"): refs.append(("numpy", "reference_numpy.py", envs["numpy"]))
    if case.startswith(("sgemm-", "tiny-op", "rbm-cd1", "mlp-", "cnn-", "op-")): refs.append(("torch", "reference_torch.py", envs["torch"]))
    if case.startswith(("mlp-", "cnn-")): refs.append(("jax", "reference_jax.py", envs["jax"]))
    return refs

def value(cmd, case, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env).stdout
    for line in out.splitlines():
        try: d = json.loads(line)
        except ValueError: continue
        if d.get("bench") == case and d.get("threads") == args.threads: return d["value"], d["unit"]
    return None, None

ratios = {}   # (case, reference) -> per-round ratios
units = {}
for r in range(args.rounds):
    for case in args.cases:
        runs = [("onsager", [bench, case, "--threads", str(args.threads)], envs["onsager"])] + \
               [(name, [args.python, os.path.join(here, script), "--threads", str(args.threads), "--cases", case], env)
                for name, script, env in references(case)]
        if r % 2: runs.reverse()
        got = {}
        for name, cmd, env in runs:
            got[name], unit = value(cmd, case, env)
            if unit: units[case] = unit
        ours = got.pop("onsager")
        for name, theirs in got.items():
            if ours is None or theirs is None: continue
            low = units[case] in ("us", "ms", "s")
            ratios.setdefault((case, name), []).append(theirs / ours if low else ours / theirs)
    print(f"round {r + 1} of {args.rounds} done", file=sys.stderr, flush=True)

print(f"| case | threads | reference | Onsager ÷ reference, median of {args.rounds} rounds | quartiles |")
print("|---|---|---|---|---|")
for (case, name), v in sorted(ratios.items()):
    q = statistics.quantiles(v, n=4) if len(v) > 1 else [v[0], v[0], v[0]]
    print(f"| {case} | {args.threads} | {name} | {statistics.median(v):.2f}× | {q[0]:.2f}–{q[2]:.2f} |")
