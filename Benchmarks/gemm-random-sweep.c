// Random products through the library's sgemm entry points against a Double reference: shapes
// (batch-sized rows and panel-width columns over-represented), A and B in either layout, B with
// padded rows, with and without the bias epilogue, one or two threads, on the AVX2 and the
// AVX-512 kernels. The check run after each change to the GEMM's packing and splitting (the
// Swift tests cover fixed shapes). Not part of the package build. From the repository root:
//   K=Sources/COnsagerKernels
//   clang -O2 -D_GNU_SOURCE -I$K/include Benchmarks/gemm-random-sweep.c $K/elementwise.c $K/pool.c $K/cpu.c $K/gemm.c \
//       -o /tmp/gemm-random-sweep -lpthread -lm && /tmp/gemm-random-sweep
// Prints each product whose error exceeds 1e-5 (K + 1) and exits 1 if there is any.
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include "onsager_kernels.h"
int main(){
  srand(7); int bad=0, cases=0;
  for (int isa=1; isa<=2; isa++) {
    onsager_force_isa_level(isa);
    for (int it=0; it<400; it++) {
      long M = 1 + rand()%300, N = 1 + rand()%300, K = 1 + rand()%700;
      if (it%5==0) { M = 90 + rand()%170; N = 32*(1+rand()%12) + (rand()%3==0 ? rand()%32 : 0); }
      int tb = rand()%2, ta = rand()%2, usebias = rand()%2, nt = 1 + rand()%2;
      long ldb_extra = rand()%3==0 ? rand()%20 : 0;
      onsager_set_num_threads(nt);
      float *A = malloc(4*M*K), *B = malloc(4*K*(N+ldb_extra)+4*N*(K+ldb_extra)), *C = malloc(4*M*N), *bias = malloc(4*N);
      double *R = malloc(8*M*N);
      for (long i=0;i<M*K;i++) A[i]=(rand()%2001-1000)/1000.f;
      for (long i=0;i<K*(N+ldb_extra)+N*(K+ldb_extra);i++) B[i]=(rand()%2001-1000)/1000.f;
      for (long j=0;j<N;j++) bias[j]=(rand()%2001-1000)/1000.f;
      long rsa = ta ? 1 : K, csa = ta ? M : 1;
      long ldb = tb ? K + ldb_extra : N + ldb_extra;
      long rsb = tb ? 1 : ldb, csb = tb ? ldb : 1;
      for (long i=0;i<M;i++) for (long j=0;j<N;j++) { double s = usebias ? bias[j] : 0; for (long k=0;k<K;k++) s += (double)A[i*rsa+k*csa]*B[k*rsb+j*csb]; R[i*N+j]=s; }
      if (usebias) onsager_sgemm_bias(M,N,K,1,A,rsa,csa,B,rsb,csb,bias,C,N); else onsager_sgemm(M,N,K,1,A,rsa,csa,B,rsb,csb,0,C,N);
      double err=0; for (long i=0;i<M*N;i++){ double e=fabs(C[i]-R[i]); if(!(e<=err)) err=e; }
      cases++;
      if (!(err < 1e-5*K+1e-5)) { bad++; printf("BAD isa %d %ldx%ldx%ld ta %d tb %d bias %d nt %d ldbx %ld err %g\n", isa,M,N,K,ta,tb,usebias,nt,ldb_extra,err); }
      free(A);free(B);free(C);free(bias);free(R);
    }
  }
  printf("%d cases, %d bad\n", cases, bad); return bad != 0;
}
