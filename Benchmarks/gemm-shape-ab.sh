#!/bin/sh
# Alternates two builds of Benchmarks/gemm-shape.c (A, then B, `rounds` times) on each shape and
# prints the medians of their median rates and of the per-round ratios B/A (> 1: B is faster), so
# that a neighbour's burst on a shared machine hits both builds.
#   Benchmarks/gemm-shape-ab.sh A_BINARY B_BINARY ROUNDS "M N K ldb transB reps [transA]" ...
# e.g. Benchmarks/gemm-shape-ab.sh /tmp/gs-old /tmp/gs-new 8 "512 512 512 512 0 200" "784 500 200 500 0 300 1"
[ $# -ge 4 ] || { echo "usage: $0 A B ROUNDS SHAPE..." >&2; exit 2; }
a=$1 b=$2 rounds=$3
shift 3
for shape in "$@"; do
    i=0
    while [ $i -lt "$rounds" ]; do
        # word splitting of $shape is intended: it holds the program's arguments
        echo "$($a $shape | awk '{print $2}') $($b $shape | awk '{print $2}')"
        i=$((i + 1))
    done | python3 -c '
import statistics as st, sys
rows = [tuple(map(float, l.split())) for l in sys.stdin]
ratios = [b / a for a, b in rows]
print("%s: A %.1f  B %.1f GFLOPS (medians)  B/A median %.3f, range %.3f-%.3f"
      % (sys.argv[1], st.median(a for a, _ in rows), st.median(b for _, b in rows), st.median(ratios), min(ratios), max(ratios)))
' "$shape"
done
