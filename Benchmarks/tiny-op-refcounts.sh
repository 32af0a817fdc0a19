#!/bin/sh
# Reference-count and allocation calls per tiny op (add + sum + backward on 10 elements, the
# `tiny-op-backward` case), counted by callgrind like Benchmarks/tiny-op-instructions.sh: the
# calls made inside the benchmark's function to swift_retain, swift_release, malloc and
# swift_allocObject, divided by the number of backward passes. Repeatable whatever else the
# machine is doing. swift_release counts include releases of nil references (no atomic).
#   Benchmarks/tiny-op-refcounts.sh [BINARY]     (default .build/release/onsager-bench)
set -e
bin=${1:-.build/release/onsager-bench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
objcopy --strip-debug "$bin" "$tmp/bench"
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" --compress-strings=no \
    --toggle-collect='$s13onsager_bench0B6TinyOp7threadsySi_tF' "$tmp/bench" tiny-op-backward --threads 1 >/dev/null 2>&1
python3 - "$tmp/cg" <<'PY'
import collections, sys
calls, callee = collections.Counter(), None
for line in open(sys.argv[1]):
    if line.startswith("cfn="): callee = line[4:].strip()
    elif line.startswith("calls=") and callee: calls[callee] += int(line[6:].split()[0])
passes = sum(n for f, n in calls.items() if "TensorV8backward4seed" in f and f.endswith("btF"))
for f in ("swift_retain", "swift_release", "swift_retain_n", "swift_release_n", "malloc", "swift_allocObject"):
    n = sum(v for k, v in calls.items() if k == f or k.startswith(f + "'"))
    print("%-18s %6.2f per add + sum + backward" % (f, n / passes))
PY
