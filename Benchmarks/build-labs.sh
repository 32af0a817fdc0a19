#!/bin/sh
# Compiles every C program in Benchmarks/ (each with the flags its header gives, the kernels built
# once at -O2 and shared) into a scratch directory, and runs the GEMM's random sweep (a
# correctness check of the packing and splitting on the AVX2 and AVX-512 kernels the CPU has,
# Float, 1 and 2 threads; seconds long) and huge-pages (tensor buffers on the main thread's heap
# lie in memory advised for transparent huge pages, which the tests' threads cannot check). The
# labs include the kernels' templates and call their internals, so a change of a kernel's
# signature breaks them silently unless something builds them: CI runs this script. x86-64 only (AVX2 / AVX-512 code); elsewhere it says so and exits 0.
#   Benchmarks/build-labs.sh
set -e
cd "$(dirname "$0")/.."
case "$(uname -m)" in x86_64) ;; *) echo "build-labs: x86-64 only, skipped on $(uname -m)"; exit 0 ;; esac
K=Sources/COnsagerKernels
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
trap 'exit 1' INT TERM
pids=
for f in allocator amx cpu elementwise gemm pool skip_zeros sparse_rows zero_one_gemm; do
    clang -Werror -O2 -D_GNU_SOURCE -I$K/include -I$K -c $K/$f.c -o "$out/$f.o" &
    pids="$pids $!"
done
for p in $pids; do wait "$p" || { echo "build-labs: a kernel source did not compile" >&2; exit 1; }; done
all="$out/allocator.o $out/amx.o $out/cpu.o $out/elementwise.o $out/gemm.o $out/pool.o $out/skip_zeros.o $out/sparse_rows.o $out/zero_one_gemm.o"
lab() { name=$1; shift; clang -Werror "$@" -o "$out/$name" && echo "compiled $name"; }
lab gather-prefetch -O2 -mavx2 Benchmarks/gather-prefetch.c
lab gemm-blocking-lab -O3 -I$K/include -I$K -DLMR=12 -DLNR=32 -DLKC=1024 -DLMC=144 Benchmarks/gemm-blocking-lab.c "$out/cpu.o"
lab gemm-microkernel-peak -O2 -mavx512f -mavx512dq -mavx512bw -mavx512vl -mfma -I$K/include -I$K -DLMR=12 -DLNR=32 Benchmarks/gemm-microkernel-peak.c
lab gemm-microkernel-peak-ymm -O2 -mavx2 -mfma -I$K/include -I$K -DYMM -DLMR=6 -DLNR=16 -DLKU=4 Benchmarks/gemm-microkernel-peak.c
lab gemm-objects-ab.o -O2 -c Benchmarks/gemm-objects-ab.c   # linked by gemm-objects-ab.sh with two GEMM objects
# word splitting of $all is intended: it lists the kernel objects
lab gemm-random-sweep -O2 -D_GNU_SOURCE -I$K/include Benchmarks/gemm-random-sweep.c $all -lpthread -lm
lab erf-accuracy -O2 -D_GNU_SOURCE -I$K/include Benchmarks/erf-accuracy.c $all -lpthread -lm
lab gemm-shape -O3 -D_GNU_SOURCE -I$K/include -I$K Benchmarks/gemm-shape.c $all -lpthread -lm -ldl
lab skip-zeros-lab -O3 -D_GNU_SOURCE -I$K/include -I$K Benchmarks/skip-zeros-lab.c $all -lpthread -lm -ldl
lab sparse-rows-lab -O3 -D_GNU_SOURCE -I$K/include -I$K Benchmarks/sparse-rows-lab.c $all -lpthread -lm -ldl
lab sparse-product-lab -O3 -D_GNU_SOURCE -I$K/include -I$K Benchmarks/sparse-product-lab.c $all -lpthread -lm -ldl
lab kernel-micro -O2 -D_GNU_SOURCE -I$K/include Benchmarks/kernel-micro.c $all -lpthread -lm
lab row-kernels -O2 -D_GNU_SOURCE -I$K/include Benchmarks/row-kernels.c $all -lpthread -lm
lab window-kernels -O2 -D_GNU_SOURCE -I$K/include Benchmarks/window-kernels.c $all $K/windows.c -lpthread -lm
lab read-bandwidth -O2 -D_GNU_SOURCE -I$K/include Benchmarks/read-bandwidth.c $all -lpthread -lm
lab huge-pages -O2 -D_GNU_SOURCE -I$K/include Benchmarks/huge-pages.c "$out/allocator.o"
lab transpose-pack -O2 -mavx512f -mavx512vl -mavx512dq -mfma -I$K -DVL=16 Benchmarks/transpose-pack.c
lab transpose-pack-ymm -O2 -mavx2 -mfma -I$K -DVL=8 Benchmarks/transpose-pack.c
lab batch-gather -O2 -D_GNU_SOURCE -I$K/include Benchmarks/batch-gather.c $all -lpthread -lm
lab nonfinite-scan -O2 -D_GNU_SOURCE -I$K/include Benchmarks/nonfinite-scan.c $all -lpthread -lm
lab pool-stall -O2 -D_GNU_SOURCE -I$K/include Benchmarks/pool-stall.c $all -lpthread -lm
lab pool-burst -O2 -D_GNU_SOURCE -I$K/include Benchmarks/pool-burst.c $all -lpthread -lm
lab sgd-pass -O3 -D_GNU_SOURCE -I$K/include -I$K Benchmarks/sgd-pass.c $all -lpthread -lm -ldl
lab sgd-pass-order -O2 -march=native Benchmarks/sgd-pass-order.c
lab binary-rows-lab -O3 -D_GNU_SOURCE -I$K/include -I$K Benchmarks/binary-rows-lab.c $all -lpthread -lm -ldl
lab rbm-products-in-turn -O3 -D_GNU_SOURCE -I$K/include -I$K Benchmarks/rbm-products-in-turn.c $all -lpthread -lm -ldl
lab masked-add-tile -O3 Benchmarks/masked-add-tile.c
# A C program added to Benchmarks/ without a line above fails here, so that it is built too.
for c in Benchmarks/*.c; do
    n=$(basename "$c" .c)
    [ -e "$out/$n" ] || [ -e "$out/$n.o" ] || { echo "build-labs: $c is not built by this script; add it" >&2; exit 1; }
done
"$out/gemm-random-sweep"
"$out/huge-pages"
