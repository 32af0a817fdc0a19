#!/usr/bin/env python3
"""A/B comparison of two onsager-bench binaries, alternating A and B round by round so that a
neighbour's burst on a shared machine hits both. Each case keeps its best round per binary.

    python3 Benchmarks/ab.py A_BINARY B_BINARY [CASE ...] [--rounds N] [--threads T]

Prints a Markdown table: case, A, B, B/A as a speed ratio (> 1: B is faster)."""
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
for r in range(args.rounds):
    for side in ("a", "b") if r % 2 == 0 else ("b", "a"):
        for key, (value, unit) in run(getattr(args, side)).items():
            lower_is_better = unit in LOWER_IS_BETTER
            old = best[side].get(key)
            if old is None or (value < old[0] if lower_is_better else value > old[0]):
                best[side][key] = (value, unit)

print(f"| case | threads | A | B | B/A speed |")
print(f"|---|---|---|---|---|")
for key in best["a"]:
    (va, unit), (vb, _) = best["a"][key], best["b"][key]
    speed = va / vb if unit in LOWER_IS_BETTER else vb / va
    print(f"| {key[0]} | {key[1]} | {va:.4g} {unit} | {vb:.4g} {unit} | {speed:.3f} |")
