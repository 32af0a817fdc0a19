"""Runs onsager-bench and the numpy, scikit-learn and PyTorch references in one session and prints
a Markdown table of ratios (ours / reference for rates; reference / ours for times, so > 1 always
means Onsager is faster).

Usage:  python3 Benchmarks/compare.py [--python PATH_TO_PYTHON_WITH_NUMPY_TORCH] [--rounds N] [--avx2] [CASE ...]
Build first:  swift build -c release --product onsager-bench

--rounds N repeats the whole sequence (ours, then every reference) N times and keeps, for each
case and implementation alike, the best of the N medians: on a shared machine a neighbour's burst
then costs one round of one side, not the ratio.

--avx2 holds every implementation to AVX2 and FMA (environments.py): a stand-in for AVX2-only CPUs.
"""
import json, os, subprocess, sys
from environments import environments

args = sys.argv[1:]
py = sys.executable
if "--python" in args:
    i = args.index("--python"); py = args[i + 1]; del args[i:i + 2]
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
bench = os.path.join(root, ".build", "release", "onsager-bench")

def run(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    rows = []
    for line in out.stdout.splitlines():
        try: rows.append(json.loads(line))
        except json.JSONDecodeError: pass
    if out.returncode != 0:
        print(f"warning: {' '.join(cmd)} exited {out.returncode}: {out.stderr.strip()[:300]}", file=sys.stderr)
    return rows

avx2 = "--avx2" in args
if avx2: args.remove("--avx2")
envs = environments(avx2)
rounds = 1
if "--rounds" in args:
    i = args.index("--rounds"); rounds = max(1, int(args[i + 1])); del args[i:i + 2]
lower_is_better = ("us", "s", "ms", "x FLOP bound")

def label(r):
    extra = [f"{k}={r[k]}" for k in ("order", "method", "hidden", "particles", "fields") if k in r]
    return r["bench"] + (" (" + ", ".join(extra) + ")" if extra else "")
def key(r): return (label(r), r["threads"])
def best(rows):
    """The best row per case over rounds (highest rate, lowest time)."""
    out = {}
    for r in rows:
        k = key(r)
        low = r["unit"] in lower_is_better
        if k not in out or (r["value"] < out[k]["value"] if low else r["value"] > out[k]["value"]):
            out[k] = r
    return list(out.values())

ours, refs = [], {"numpy": [], "torch": [], "jax": []}
for _ in range(rounds):
    ours += run([bench, *args, "--threads", "1,2"], env=envs["onsager"])
    refs["numpy"] += run([py, os.path.join(here, "reference_numpy.py")], env=envs["numpy"]) \
        + run([py, os.path.join(here, "reference_sklearn.py")], env=envs["numpy"])
    refs["torch"] += run([py, os.path.join(here, "reference_torch.py")], env=envs["torch"])
    refs["jax"] += run([py, os.path.join(here, "reference_jax.py")], env=envs["jax"])
ours = best(ours)
refs = {impl: best(rows) for impl, rows in refs.items()}
table = {key(r): r for r in ours}
print("| case | threads | Onsager | numpy / scikit-learn | ratio | PyTorch | ratio | JAX (jit) | ratio |")
print("|---|---|---|---|---|---|---|---|---|")
for (name, t), r in sorted(table.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    unit = r["unit"]
    cells = [name, str(t), f'{r["value"]:.2f} {unit}']
    for impl in ("numpy", "torch", "jax"):
        ref = next((x for x in refs[impl] if key(x) == (name, t)), None)
        if ref is None:
            cells += ["—", "—"]
            continue
        ratio = ref["value"] / r["value"] if unit in lower_is_better else r["value"] / ref["value"]
        cells += [f'{ref["value"]:.2f} {unit}', f"{ratio:.2f}×"]
    print("| " + " | ".join(cells) + " |")

# A 2-thread row during which the pool judged the machine contended ran its jobs in one thread
# for a while (onsager-bench's pool_one_thread_s): its rate is then partly a 1-thread rate.
fell_back = [f'{label(r)} ({r["pool_one_thread_s"]:.3f} s)' for r in sorted(ours, key=key)
             if r["threads"] > 1 and r.get("pool_one_thread_s", 0) > 0 and not r["bench"].startswith("contention")]
if fell_back:
    print("\nRows whose best round ran its jobs in one thread for a while because the pool judged the "
          "machine contended (seconds of the case, warm-up included): " + "; ".join(fell_back) + ".")

# Bounds from the same session (with --rounds N, each row is its best of N rounds): how far each
# target case is from the floor its own GEMMs (and, for the MLP steps, the optimizer's pass over
# the weights) set when timed alone, and the best ratio to JAX that floor would allow. Time ratios
# above 1 and rate ratios below 1 both mean slower than the floor.
def value(name, t, rows=ours):
    return next((r["value"] for r in rows if key(r) == (name, t)), None)
print(f"\n| bound (same session, best of {rounds} round(s)) | threads | value |")
print("|---|---|---|")
flop = 500 * 2.0 * 784 * 500 * 100   # an epoch: 100 updates of five 784x500x100 GEMMs
for t in sorted({r["threads"] for r in ours}):
    epoch, gemms = value("rbm-epoch-10k", t), value("rbm-epoch-10k-gemms", t)
    sgemm = [r["value"] for r in ours if r["threads"] == t and r["bench"].startswith("sgemm-")]
    if epoch and gemms:
        print(f"| rbm-epoch-10k time ÷ its GEMMs alone ({gemms:.3f} s) | {t} | {epoch / gemms:.2f}× |")
    if epoch and sgemm:
        print(f"| rbm-epoch-10k time ÷ its FLOPs at the best sgemm rate ({max(sgemm):.1f} GFLOPS: {flop / max(sgemm) / 1e9:.3f} s) | {t} | {epoch / (flop / max(sgemm) / 1e9):.2f}× |")
    for size in ("small", "big"):
        step, floor = value(f"mlp-{size}-step", t), value(f"mlp-{size}-floor", t)
        jax = value(f"mlp-{size}-step", t, refs["jax"])
        if step and floor:
            print(f"| mlp-{size}-step rate ÷ its floor (GEMMs + SGD pass alone, {floor:.1f} steps/s) | {t} | {step / floor:.2f}× |")
        if floor and jax:
            print(f"| mlp-{size} floor rate ÷ JAX: the best ratio to JAX these GEMMs allow | {t} | {floor / jax:.2f}× |")
