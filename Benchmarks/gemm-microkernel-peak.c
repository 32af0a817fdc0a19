// The Float micro-kernel alone (AVX-512; with -DYMM the AVX2 one), its A and B panels resident in L1 (or cycled through
// several panels, to read them from L2), against an FMA loop of twelve independent chains (as
// ../shared/bench/fmapeak.c), alternated 15 times: the mean ratio is the fraction of the FMA peak
// the kernel's loop reaches before any packing or blocking, i.e. the ceiling of the whole GEMM on
// this host. Not part of the package build. Needs an AVX-512 CPU, or -DYMM and AVX2. From the
// repository root:
//   K=Sources/COnsagerKernels
//   clang -O2 -mavx512f -mavx512dq -mavx512bw -mavx512vl -mfma -I$K/include -I$K -DLMR=12 -DLNR=32 \
//       Benchmarks/gemm-microkernel-peak.c -o /tmp/uk && taskset -c 1 /tmp/uk 256
//   clang -O2 -mavx2 -mfma -I$K/include -I$K -DYMM -DLMR=6 -DLNR=16 -DLKU=4 \
//       Benchmarks/gemm-microkernel-peak.c -o /tmp/uk2 && taskset -c 1 /tmp/uk2 256   # AVX2, as gemm.c
// Arguments: kc [A panels [B panels]] (default 1 and 1: both panels stay in L1). LKU=n unrolls
// the k loop n times.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "onsager_kernels.h"
#include "templates/transpose.h"
#define HW_FMA(a, b, c) __builtin_elementwise_fma(a, b, c)
#ifdef YMM
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define VBYTES 32
#else
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))), apply_to = function)
#define VBYTES 64
#endif
#define VFMA HW_FMA
#define MR LMR
#define KC 1024
#define T float
#define TBYTES 4
#define SUF lab
#define NR LNR
#define MC 144
#define NC 4096
#define B_IN_PLACE 1
#ifndef LKU
#define LKU 1
#endif
#define KUNROLL LKU
#include "templates/gemm_template.h"
__attribute__((noinline)) void run(long kc, const float*a,const float*b,float*c){ ukernel_lab(kc,a,b,NR,c,NR,1,0,0,MR,NR,MR,MR,0,0,0,0,0,NR/(VBYTES/4),0,0,0); }
typedef float v16 __attribute__((vector_size(VBYTES)));   // one vector, whatever its width
__attribute__((noinline)) v16 fmaloop(long n, v16 x){ v16 a0=x,a1=x+1,a2=x+2,a3=x+3,a4=x+4,a5=x+5,a6=x+6,a7=x+7,a8=x+8,a9=x+9,a10=x+10,a11=x+11; v16 m=x*0.5f;
 for(long i=0;i<n;i++){a0=HW_FMA(a0,m,x);a1=HW_FMA(a1,m,x);a2=HW_FMA(a2,m,x);a3=HW_FMA(a3,m,x);a4=HW_FMA(a4,m,x);a5=HW_FMA(a5,m,x);a6=HW_FMA(a6,m,x);a7=HW_FMA(a7,m,x);a8=HW_FMA(a8,m,x);a9=HW_FMA(a9,m,x);a10=HW_FMA(a10,m,x);a11=HW_FMA(a11,m,x);}
 return a0+a1+a2+a3+a4+a5+a6+a7+a8+a9+a10+a11;}
#pragma clang attribute pop
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  long kc=argc>1?atol(argv[1]):128;
  float*A=aligned_alloc(64,4*MR*kc+256),*B=aligned_alloc(64,4*NR*kc+256),*C=aligned_alloc(64,4*MR*NR);
  for(long i=0;i<MR*kc;i++)A[i]=(i%7)*0.01f; for(long i=0;i<NR*kc;i++)B[i]=(i%5)*0.01f;
  long np=argc>2?atol(argv[2]):1; float*AA=aligned_alloc(64,4*MR*kc*np+256); for(long i=0;i<MR*kc*np;i++)AA[i]=(i%7)*0.01f;
  long nb=argc>3?atol(argv[3]):1; float*BB=aligned_alloc(64,4*NR*kc*nb+256); for(long i=0;i<NR*kc*nb;i++)BB[i]=(i%5)*0.01f;
  double r[15]; v16 acc={0};
  for(int rep=0;rep<15;rep++){
    long calls=20000000/kc; double t=now(); for(long i=0;i<calls;i++) run(kc,AA+(i%np)*MR*kc,BB+((i/np)%nb)*NR*kc,C); double g=2.0*MR*NR*kc*calls/(now()-t)/1e9;
    long n=10000000; t=now(); acc+=fmaloop(n,acc); double p=2.0*(VBYTES/4)*12*n/(now()-t)/1e9;
    r[rep]=g/p; if(rep%5==0) printf("kernel %.1f GFLOPS, fma %.1f, ratio %.3f\n",g,p,g/p);
  }
  double s=0; for(int i=0;i<15;i++) s+=r[i]; printf("A panels %ld B panels %ld MR %d NR %d kc %ld: mean ratio %.3f (%g)\n",np,nb,MR,NR,kc,s/15,acc[0]);
}
