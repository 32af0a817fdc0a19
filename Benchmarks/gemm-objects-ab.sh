#!/bin/sh
# Builds Benchmarks/gemm-objects-ab.c against two package-built gemm.c objects (X and Y: copies of
# .build/release/COnsagerKernels.build/gemm.c.o from two builds, so the code timed is exactly the
# package's) and runs it on each shape. From the repository root, after `swift build -c release`:
#   cp .build/release/COnsagerKernels.build/gemm.c.o /tmp/gemm-x.o     # build X, copy; build Y, copy
#   OPENBLAS_LIB=$VENV/lib/python3.11/site-packages/numpy.libs/libscipy_openblas64_-*.so \
#     Benchmarks/gemm-objects-ab.sh /tmp/gemm-x.o /tmp/gemm-y.o "1024 1024 1024 0 30" "100 500 784 0 200"
# With MKL_LIB=/path/to/libmkl_rt.so.N (pip's `mkl` wheel, unpacked outside the repository) MKL
# joins the rotation, on one thread (sequential layer).
# Shapes as Benchmarks/gemm-shape.c: "M N K transB reps [transA]". One thread; NT=2 runs X and Y
# at two (with the pool's contention detection off) while OpenBLAS keeps one, so at NT only Y/X is
# a like-for-like ratio. ISA=1 runs X and Y on their AVX2 kernels (ISA=0: portable).
# XNT=1 with NT=2 runs X at one thread: with X = Y, Y/X is the 2-thread scaling in rotation.
# MKL_THREADS=2 gives MKL two threads (its GNU OpenMP layer, passive waits); MKL1=1 with it adds MKL
# at one thread to the rotation and prints MKL/MKL1, the library's own scaling beside ours.
# OB_THREADS=2 gives OpenBLAS two threads; set OPENBLAS_THREAD_TIMEOUT=4 with it, or its
# threads spin between calls and starve ours (our 2-thread rates then read as 1-thread ones).
# OpenBLAS runs without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (this machine sets them; they slow it).
# OB_CORETYPE=Haswell sets OpenBLAS's core type on purpose: with ISA=1, its AVX2 kernels beside ours
# (another CPU's path, measured here).
set -e
[ $# -ge 3 ] || { echo "usage: $0 X_GEMM_OBJECT Y_GEMM_OBJECT SHAPE..." >&2; exit 2; }
x=$1 y=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
objs=.build/release/COnsagerKernels.build
for v in X Y; do
    src=$x; [ $v = Y ] && src=$y
    # Every global symbol the object defines gets the build's prefix (onsager_sgemm -> X_sgemm, ...), its
    # own references with it, so that two builds link into one program.
    nm --defined-only -g "$src" | awk '$3 ~ /^onsager_/ {print $3}' | while read -r sym; do
        echo "--redefine-sym $sym=${v}_${sym#onsager_}"
    done > "$tmp/$v.syms"
    # word splitting of the option list is intended
    objcopy $(cat "$tmp/$v.syms") "$src" "$tmp/$v.o"
done
# The GEMM objects call the AMX path's and the masked adds' entries for their Float products (amx.c,
# zero_one_gemm.c); built here without them (their entries then return 0 at once), so that the
# vector kernels of X and Y are timed. They call skip_zeros.c too (shared by X and Y, its AVX-512
# copy left out); its path is taken only for operands with all-zero columns or rows. sparse_rows.c,
# built the same way, is never taken (its rows with few nonzeros need its AVX2 or AVX-512 copy).
for f in amx zero_one_gemm skip_zeros sparse_rows; do
    clang -O2 -D_GNU_SOURCE -DONSAGER_PORTABLE_ONLY -ISources/COnsagerKernels/include -ISources/COnsagerKernels \
        -c Sources/COnsagerKernels/$f.c -o "$tmp/$f.o"
done
clang -O2 Benchmarks/gemm-objects-ab.c "$tmp/X.o" "$tmp/Y.o" "$tmp/amx.o" "$tmp/zero_one_gemm.o" "$tmp/skip_zeros.o" "$tmp/sparse_rows.o" $objs/cpu.c.o $objs/pool.c.o $objs/elementwise.c.o $objs/allocator.c.o \
    -o "$tmp/ab" -ldl -lm -lpthread
mkl_layer=SEQUENTIAL; [ -n "$MKL_THREADS" ] && mkl_layer=GNU   # GNU: libmkl_gnu_thread with the system libgomp
for shape in "$@"; do
    # word splitting of $shape is intended: it holds the program's arguments
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ${OB_CORETYPE:+OPENBLAS_CORETYPE=$OB_CORETYPE} OPENBLAS_NUM_THREADS=${OB_THREADS:-1} MKL_THREADING_LAYER=$mkl_layer MKL_NUM_THREADS=${MKL_THREADS:-1} OMP_NUM_THREADS=${MKL_THREADS:-1} OMP_WAIT_POLICY=PASSIVE "$tmp/ab" $shape
done
