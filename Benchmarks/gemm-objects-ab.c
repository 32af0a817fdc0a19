// Two builds of the GEMM, and OpenBLAS, timed call by call in one process: each round calls X, Y and
// OpenBLAS once, the order rotated round by round, so a shared machine's drift (which moves single
// runs by 20 %) hits all three alike. X and Y are package-built gemm.c objects with their entry
// points renamed; Benchmarks/gemm-objects-ab.sh makes them and this binary. Prints the medians of
// the rates and of the per-round ratios Y/X, X/OpenBLAS and Y/OpenBLAS (> 1: the first is faster).
// Arguments: M N K transB reps [transA], as Benchmarks/gemm-shape.c. OpenBLAS is loaded from
// $OPENBLAS_LIB (a libopenblas or numpy's bundled libscipy_openblas64_); without it, only X and Y run.
// MKL joins the rotation when $MKL_LIB names its single dynamic library (libmkl_rt, LP64 interface;
// pip's `mkl` wheel has one) and prints Y/MKL: PyTorch's GEMM on Intel, here called directly. Set
// MKL_THREADING_LAYER=SEQUENTIAL for one thread.
// TUNING=intel runs X and Y with Intel's AVX-512 Float blocking on any CPU with AVX-512, TUNING=general
// with the other (the caller thread's choice, which its split products hand to the workers). DOUBLE=1 times X_dgemm and
// Y_dgemm instead (OpenBLAS's dgemm beside them; MKL and AXPY are Float only).
// AXPY=1 times each product together with its consumer in a training step, W += -0.01 · C over a
// W the size of C (the SGD pass over a weight gradient): where C ends up (cache or memory) is
// then part of the measurement.
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include <dlfcn.h>
#include <string.h>
void X_sgemm(long,long,long,float,const float*,long,long,const float*,long,long,float,float*,long);
void Y_sgemm(long,long,long,float,const float*,long,long,const float*,long,long,float,float*,long);
void X_dgemm(long,long,long,double,const double*,long,long,const double*,long,long,double,double*,long);
void Y_dgemm(long,long,long,double,const double*,long,long,const double*,long,long,double,double*,long);
void onsager_force_gemm_tuning(int);
void onsager_set_num_threads(int);
void onsager_axpy_f32(long, float, const float *, float *);
void onsager_set_contention_detection(int);
int onsager_force_isa_level(int);
typedef void (*mk_t)(int,int,int,int,int,int,float,const float*,int,const float*,int,float,float*,int);
typedef int (*mkn_t)(int);
typedef void (*dg_t)(int64_t,int64_t,int64_t,int64_t,int64_t,int64_t,double,const double*,int64_t,const double*,int64_t,double,double*,int64_t);
typedef void (*sg_t)(int64_t,int64_t,int64_t,int64_t,int64_t,int64_t,float,const float*,int64_t,const float*,int64_t,float,float*,int64_t);
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){
  // numpy's bundled OpenBLAS names its 64-bit-integer cblas_sgemm scipy_cblas_sgemm64_; a system
  // libopenblas64 names it cblas_sgemm64_.
  const char *lib = getenv("OPENBLAS_LIB");
  void *h = lib ? dlopen(lib, RTLD_NOW) : 0;
  if (lib && !h) { fprintf(stderr, "cannot load %s: %s\n", lib, dlerror()); return 2; }
  sg_t sg = h ? (sg_t)dlsym(h, "scipy_cblas_sgemm64_") : 0;
  if (h && !sg) sg = (sg_t)dlsym(h, "cblas_sgemm64_");
  if (h && !sg) { fprintf(stderr, "%s has no 64-bit-integer cblas_sgemm\n", lib); return 2; }
  int dbl = getenv("DOUBLE") && atoi(getenv("DOUBLE"));
  dg_t dg = h && dbl ? (dg_t)dlsym(h, "scipy_cblas_dgemm64_") : 0;
  if (h && dbl && !dg) dg = (dg_t)dlsym(h, "cblas_dgemm64_");
  if (dbl && h && !dg) { fprintf(stderr, "%s has no 64-bit-integer cblas_dgemm\n", lib); return 2; }
  const char *mlib = getenv("MKL_LIB");
  void *mh = mlib ? dlopen(mlib, RTLD_NOW | RTLD_GLOBAL) : 0;
  if (mlib && !mh) { fprintf(stderr, "cannot load %s: %s\n", mlib, dlerror()); return 2; }
  mk_t mk = mh ? (mk_t)dlsym(mh, "cblas_sgemm") : 0;
  if (mh && !mk) { fprintf(stderr, "%s has no cblas_sgemm\n", mlib); return 2; }
  // MKL1=1 (with MKL threaded, MKL_THREADS in the script) adds MKL at one thread to the rotation:
  // MKL/MKL1 is then the best library's own 2-thread scaling, measured call by call beside ours.
  mkn_t mkl_local = mh && getenv("MKL1") ? (mkn_t)dlsym(mh, "MKL_Set_Num_Threads_Local") : 0;
  if (argc < 6) { fprintf(stderr, "usage: %s M N K transB reps [transA]\n", argv[0]); return 2; }
  long M=atol(argv[1]),N=atol(argv[2]),K=atol(argv[3]); int transB=atoi(argv[4]); int reps=atoi(argv[5]); int transA=argc>6?atoi(argv[6]):0;
  if (M <= 0 || N <= 0 || K <= 0 || reps <= 0) { fprintf(stderr, "M, N, K and reps must be positive\n"); return 2; }
  int nt = getenv("NT") ? atoi(getenv("NT")) : 1;
  // XNT=1 with NT=2 and X = Y: Y/X is the 2-thread scaling, measured in rotation.
  int xnt = getenv("XNT") ? atoi(getenv("XNT")) : 0;
  onsager_set_num_threads(nt);
  // OpenBLAS's idle threads spin after each call, which the pool would take for a busy neighbour
  // (and run in the caller): with NT set, the detection is off and OpenBLAS keeps one thread.
  if (getenv("NT")) onsager_set_contention_detection(0);
  // ISA=1 runs X and Y on their AVX2 kernels (0: portable), to measure another CPU's path here.
  if (getenv("ISA")) onsager_force_isa_level(atoi(getenv("ISA")));
  if (getenv("TUNING")) onsager_force_gemm_tuning(!strcmp(getenv("TUNING"), "intel") ? 1 : 0);
  if (dbl && (mh || getenv("AXPY"))) { fprintf(stderr, "DOUBLE=1 runs without MKL_LIB and AXPY\n"); return 2; }
  float*A=aligned_alloc(64,4*M*K+64),*B=aligned_alloc(64,4*K*N+64),*C=aligned_alloc(64,4*M*N+64);
  for(long i=0;i<M*K;i++)A[i]=(rand()%1000)/1000.f; for(long i=0;i<K*N;i++)B[i]=(rand()%1000)/1000.f;
  double *Ad = dbl ? aligned_alloc(64,8*M*K+64) : 0, *Bd = dbl ? aligned_alloc(64,8*K*N+64) : 0, *Cd = dbl ? aligned_alloc(64,8*M*N+64) : 0;
  for (long i = 0; dbl && i < M*K; i++) Ad[i] = A[i];
  for (long i = 0; dbl && i < K*N; i++) Bd[i] = B[i];
  if (dbl) sg = 0, mk = 0;
  long rsa=transA?1:K, csa=transA?M:1, rsb=transB?1:N, csb=transB?K:1;
  int axpy = getenv("AXPY") && atoi(getenv("AXPY"));
  float *W = axpy ? aligned_alloc(64, 4*M*N+64) : 0;
  if (W) for (long i = 0; i < M*N; i++) W[i] = 0;
  double fl=2.0*M*N*K; double *gx=malloc(8*reps),*gy=malloc(8*reps),*go=malloc(8*reps),*ry=malloc(8*reps),*ro=malloc(8*reps),*roy=malloc(8*reps),*gm=malloc(8*reps),*rmy=malloc(8*reps),*gm1=malloc(8*reps);
  int slots = mkl_local ? 5 : 4;
  for(int r=-3;r<reps;r++){
    double t[5]={0};
    for(int q=0;q<slots;q++){ int w=(q+r+slots)%slots; double s0=now();
      if(w==0){ if(xnt) onsager_set_num_threads(xnt); if(dbl) X_dgemm(M,N,K,1,Ad,rsa,csa,Bd,rsb,csb,0,Cd,N); else X_sgemm(M,N,K,1,A,rsa,csa,B,rsb,csb,0,C,N); if(xnt) onsager_set_num_threads(nt); }
      else if(w==1){ if(dbl) Y_dgemm(M,N,K,1,Ad,rsa,csa,Bd,rsb,csb,0,Cd,N); else Y_sgemm(M,N,K,1,A,rsa,csa,B,rsb,csb,0,C,N); }
      else if(w==2 && dg) dg(101, transA?112:111, transB?112:111, M,N,K,1,Ad,transA?M:K,Bd,transB?K:N,0,Cd,N);
      else if(w==4){ mkl_local(1); mk(101, transA?112:111, transB?112:111, (int)M,(int)N,(int)K,1,A,(int)(transA?M:K),B,(int)(transB?K:N),0,C,(int)N); mkl_local(0); }
      else if(w==3){ if(mk) mk(101, transA?112:111, transB?112:111, (int)M,(int)N,(int)K,1,A,(int)(transA?M:K),B,(int)(transB?K:N),0,C,(int)N); }
      else if(sg) sg(101, transA?112:111, transB?112:111, M,N,K,1,A,transA?M:K,B,transB?K:N,0,C,N);
      if (W && (w < 2 || (w == 2 && sg) || (w == 3 && mk) || w == 4)) onsager_axpy_f32(M*N, -0.01f, C, W);   // after a product only
      t[w]=now()-s0; }
    if(r>=0){gx[r]=fl/t[0]/1e9; gy[r]=fl/t[1]/1e9; go[r]=fl/t[2]/1e9; ry[r]=t[0]/t[1]; ro[r]=sg||dg?t[2]/t[0]:0; roy[r]=sg||dg?t[2]/t[1]:0; gm[r]=fl/t[3]/1e9; rmy[r]=t[3]/t[1]; gm1[r]=mkl_local?t[4]/t[3]:0;}
  }
  qsort(gx,reps,8,cmp);qsort(gy,reps,8,cmp);qsort(go,reps,8,cmp);qsort(ry,reps,8,cmp);qsort(ro,reps,8,cmp);qsort(roy,reps,8,cmp);qsort(gm,reps,8,cmp);qsort(rmy,reps,8,cmp);qsort(gm1,reps,8,cmp);
  printf("%s%ldx%ldx%ld tA%d tB%d%s: X %.1f Y %.1f GFLOPS | Y/X %.3f (quartiles %.3f-%.3f)", dbl ? "dgemm " : "", M, N, K, transA, transB,
         W ? " with the SGD pass (GFLOPS of the product over both)" : "",
         gx[reps / 2], gy[reps / 2], ry[reps / 2], ry[reps / 4], ry[3 * reps / 4]);
  if (sg || dg) printf(" | OpenBLAS %.1f GFLOPS, X/OpenBLAS %.3f, Y/OpenBLAS %.3f (quartiles %.3f-%.3f)", go[reps / 2], ro[reps / 2],
                 roy[reps / 2], roy[reps / 4], roy[3 * reps / 4]);
  if (mk) printf(" | MKL %.1f GFLOPS, Y/MKL %.3f (quartiles %.3f-%.3f)", gm[reps / 2], rmy[reps / 2], rmy[reps / 4], rmy[3 * reps / 4]);
  if (mkl_local) printf(" | MKL/MKL1 %.3f (quartiles %.3f-%.3f)", gm1[reps / 2], gm1[reps / 4], gm1[3 * reps / 4]);
  printf("\n");
  return 0;
}
