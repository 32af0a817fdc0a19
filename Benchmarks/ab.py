#!/usr/bin/env python3
"""A/B comparison of two onsager-bench binaries, alternating A and B round by round so that a
neighbour's burst on a shared machine hits both. Each case keeps its best round per binary.

    python3 Benchmarks/ab.py A_BINARY B_BINARY [CASE ...] [--rounds N] [--threads T]

Prints a Markdown table: case, A, B, B/A as a speed ratio of the best rounds (> 1: B is faster),
and the median and quartiles of the rounds' own B/A ratios (each round runs A and B back to back),
which a single lucky round cannot move."""
import argparse, json, subprocess

p = argparse.ArgumentParser()
p.add_argument("a"); p.add_argument("b"); p.add_argument("cases", nargs="*")
p.add_argument("--rounds", type=int, default=3); p.add_argument("--threads", default="1")
args = p.parse_args()

def run(binary):
    out = subprocess.run([binary, *args.cases, "--threads", args.threads], capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        try:
            d = json.loads(line)
        except ValueError:
            continue
        variant = " ".join(f"{k}={d[k]}" for k in ("order", "method", "hidden", "particles", "fields") if k in d)
        rows[(d["bench"] + (f" ({variant})" if variant else ""), d["threads"])] = (d["value"], d["unit"])
    return rows

LOWER_IS_BETTER = ("s", "ms", "us", "x FLOP bound")   # times and the epoch's ratio to its bound
best = {"a": {}, "b": {}}
per_round = {}   # key -> [B/A speed of each round]
for r in range(args.rounds):
    this_round = {}
    for side in ("a", "b") if r % 2 == 0 else ("b", "a"):
        for key, (value, unit) in run(getattr(args, side)).items():
            lower_is_better = unit in LOWER_IS_BETTER
            this_round[(side, key)] = value
            old = best[side].get(key)
            if old is None or (value < old[0] if lower_is_better else value > old[0]):
                best[side][key] = (value, unit)
    for key, (_, unit) in best["a"].items():
        if ("a", key) in this_round and ("b", key) in this_round:
            va, vb = this_round[("a", key)], this_round[("b", key)]
            per_round.setdefault(key, []).append(va / vb if unit in LOWER_IS_BETTER else vb / va)

def quantile(xs, q):
    xs = sorted(xs)
    i = q * (len(xs) - 1)
    lo = int(i)
    return xs[lo] + (xs[min(lo + 1, len(xs) - 1)] - xs[lo]) * (i - lo)

print(f"| case | threads | A | B | B/A speed | per round: median (quartiles) |")
print(f"|---|---|---|---|---|---|")
for key in best["a"]:
    (va, unit), (vb, _) = best["a"][key], best["b"][key]
    speed = va / vb if unit in LOWER_IS_BETTER else vb / va
    rs = per_round.get(key, [])
    rounds = f"{quantile(rs, 0.5):.3f} ({quantile(rs, 0.25):.3f}–{quantile(rs, 0.75):.3f})" if rs else "—"
    print(f"| {key[0]} | {key[1]} | {va:.4g} {unit} | {vb:.4g} {unit} | {speed:.3f} | {rounds} |")
