#!/bin/sh
# Instructions per tiny op (add + sum + backward on 10 elements, the `tiny-op-backward` case), counted
# by callgrind: repeatable whatever else the machine is doing, unlike its time. valgrind cannot read
# the Swift binary's debug information, so it runs a copy without it; only the benchmark's own
# function is counted, and its one-off work (making the inputs, printing) is subtracted.
#   Benchmarks/tiny-op-instructions.sh [BINARY]     (default .build/release/onsager-bench)
set -e
bin=${1:-.build/release/onsager-bench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
objcopy --strip-debug "$bin" "$tmp/bench"
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" \
    --toggle-collect='$s13onsager_bench0B6TinyOp7threadsySi_tF' "$tmp/bench" tiny-op-backward --threads 1 >/dev/null 2>&1
callgrind_annotate --tree=calling --inclusive=yes "$tmp/cg" 2>/dev/null | python3 -c '
import re, sys
lines = sys.stdin.read().split("\n")
start = next(i for i, l in enumerate(lines) if re.search(r"\*  \?\?\?:\$s13onsager_bench0B6TinyOp", l))
total, once, iterations = None, 0, None
for l in lines[start:]:
    if not l.strip(): break
    n = int(l.split()[0].replace(",", ""))
    if total is None: total = n; continue
    if "TensorV8backward" in l: iterations = int(re.search(r"\(([0-9,]+)x\)", l).group(1).replace(",", ""))
    elif re.search(r"\((1|2)x\)", l): once += n     # called once or twice: setup and printing
print("%d instructions per add + sum + backward (%d iterations)" % (round((total - once) / iterations), iterations))
'
