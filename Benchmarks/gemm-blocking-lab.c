// The GEMM blocking experiment behind the AVX-512 Float parameters in Sources/COnsagerKernels/gemm.c:
// the library's own template compiled with other MR, NR, KC, MC, timing the serial kernel on one
// core (best GFLOPS of repeated 0.2 s runs). Not part of the package build. From the repository root:
//   K=Sources/COnsagerKernels
//   for cfg in "12 32 256 144" "12 32 512 144" "12 32 1024 144" "6 64 512 144"; do set -- $cfg
//     clang -O3 -I$K/include -I$K -DLMR=$1 -DLNR=$2 -DLKC=$3 -DLMC=$4 Benchmarks/gemm-blocking-lab.c $K/cpu.c -o /tmp/lab
//     echo -n "$cfg: "; for s in "512 512 512" "1024 1024 1024" "100 500 784" "100 784 500 0 1" "784 500 100 1 0"; do taskset -c 1 /tmp/lab $s; done; echo
//   done
// Arguments: M N K [transA transB]. Needs an AVX-512 CPU.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "onsager_kernels.h"
#include "templates/transpose.h"
#define HW_FMA(a, b, c) __builtin_elementwise_fma(a, b, c)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))), apply_to = function)
#define VFMA HW_FMA
#define VBYTES 64
#ifndef LMR
#define LMR 12
#endif
#ifndef LNR
#define LNR 32
#endif
#ifndef LKC
#define LKC 256
#endif
#ifndef LMC
#define LMC 144
#endif
#ifndef LBIP
#define LBIP 1   // B_IN_PLACE: full row-major B panels read in place for products of up to 256 rows
#endif
#ifndef LKU
#define LKU 1    // KUNROLL: the micro-kernel's k loop unrolled that many times
#endif
#define B_IN_PLACE LBIP
#define KUNROLL LKU
#define MR LMR
#define KC LKC
#define T float
#define TBYTES 4
#define SUF lab
#define NR LNR
#define MC LMC
#define NC 4096
#include "templates/gemm_template.h"
#pragma clang attribute pop
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  long M=argc>1?atol(argv[1]):1024,N=argc>2?atol(argv[2]):1024,K=argc>3?atol(argv[3]):1024; int ta=argc>4?atoi(argv[4]):0, tb=argc>5?atoi(argv[5]):0;
  float*A=aligned_alloc(64,4*M*K),*B=aligned_alloc(64,4*K*N),*C=aligned_alloc(64,4*M*N);
  for(long i=0;i<M*K;i++)A[i]=(i%7)*0.1f; for(long i=0;i<K*N;i++)B[i]=(i%5)*0.1f;
  double best=0;
  for(int r=0;r<(M*N*K>1e8?10:25);r++){double t=now(); int it=0; while(now()-t<0.2){gemm_serial_lab(M,N,K,1,A,ta?1:K,ta?M:1,B,tb?1:N,tb?K:1,0,C,N,(tb&&M<=MC?G_PLAN_DEEP:0)|(M<=256?G_PLAN_FEW_ROWS:0),0,0,0,0,0);it++;} double g=2.0*M*N*K*it/(now()-t)/1e9; if(g>best)best=g;}
  printf("%6.1f ",best);
}
