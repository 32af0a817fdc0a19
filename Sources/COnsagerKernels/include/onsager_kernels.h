// Onsager's C kernels: GEMM, elementwise math, reductions, copies, random numbers and a
// thread pool. Every hot loop has an AVX-512, an AVX2 and a portable version, chosen once at
// run time (see cpu.c), so no compiler flag is needed for speed. This layer knows nothing of
// Swift types or of the autodiff tape.
#ifndef ONSAGER_KERNELS_H
#define ONSAGER_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- machine and threads -------------------------------------------------------------
/// An on/off value of an environment variable: 0 for "0", "off", "false" or "no", 1 for "1", "on",
/// "true" or "yes" (any case); -1 when unset or empty; -2 for anything else.
int onsager_parse_switch(const char *value);
/// The switch named by an environment variable: its value parsed (onsager_parse_switch), or
/// `fallback` when unset, empty or not understood (then with a warning on stderr naming it).
int onsager_env_switch(const char *name, int fallback);
/// ONSAGER_ISA's value: 2 for "avx512", 1 for "avx2", 0 for "portable" (any case), -1 unset or
/// empty, -2 anything else (warned about, and no cap).
int onsager_parse_isa(const char *value);
/// 2 = AVX-512 (F, DQ, BW, VL + FMA), 1 = AVX2 + FMA, 0 = portable.
int onsager_isa_level(void);
/// Caps the ISA level for the calling thread (and the pool jobs it dispatches); other threads are
/// unaffected. For tests and benchmarks; returns the level in force.
int onsager_force_isa_level(int level);
/// Sets the calling thread's ISA level directly (-1: the detected one); used by the pool.
void onsager_set_thread_isa(int level);
const char *onsager_isa_name(void);
// GEMM blocking families (onsager_gemm_tuning).
enum {
    ONSAGER_GEMM_TUNING_GENERAL = 0,   // measured on AMD Zen 4 and Zen 5; every non-Intel CPU
    ONSAGER_GEMM_TUNING_INTEL = 1      // Intel CPUs with AVX-512 (shallower K blocks for Float)
};
/// The GEMM blocking family in force for the calling thread: from the CPUID vendor, unless
/// onsager_force_gemm_tuning set one. It changes the AVX-512 Float blocking (and so the
/// summation order), never which results are correct.
int onsager_gemm_tuning(void);
/// Sets the calling thread's GEMM blocking family (-1: the detected one). For tests and benchmarks.
void onsager_force_gemm_tuning(int tuning);
/// Bytes of this CPU's L2 cache (per core), from the C library where it says (glibc: CPUID);
/// else 1 MiB. The GEMM sizes its B-panel prefetching and packing plans by it.
long onsager_l2_cache_bytes(void);
/// Has the calling thread's GEMM plans take L2 as `bytes` (0: the detected size), so that a test
/// reaches the paths of a CPU with other caches. (The pool's workers keep the detected size. The
/// split and packing plans never change a bit of the result; narrow products' dot path, taken
/// for N·K within half of L2, does.)
void onsager_force_l2_cache_bytes(long bytes);
/// The L1 data cache of a core in bytes (sysconf; 32 KiB when unknown or implausible).
long onsager_l1_cache_bytes(void);
/// The size of C, in bytes, over which a product written in one K block streams C past the
/// caches (twice `onsager_l2_cache_bytes`; gemm.c, G_STREAM_MIN_L2), for tests that must reach it.
double onsager_gemm_stream_min_bytes(void);
int onsager_get_num_threads(void);
/// Whether `count` independent items (products of a batch, images, particles) should go out as
/// pool tasks, each computed whole by one thread (four or more per thread), rather than one after
/// another with each item's own work split between the threads. Either way the results are the
/// same bits, so the choice is only about speed.
int onsager_pool_items_as_tasks(long count);
void onsager_set_num_threads(int n);

// Where the thread count came from (onsager_num_threads_source).
enum {
    ONSAGER_THREADS_FROM_ONLINE_CPUS = 0,   // sysconf(_SC_NPROCESSORS_ONLN)
    ONSAGER_THREADS_FROM_AFFINITY = 1,      // the process's CPU affinity mask (Linux)
    ONSAGER_THREADS_FROM_CGROUP_QUOTA = 2,  // a cgroup CPU quota below the affinity count (Linux)
    ONSAGER_THREADS_FROM_ENVIRONMENT = 3,   // ONSAGER_THREADS
    ONSAGER_THREADS_FROM_PROGRAM = 4        // onsager_set_num_threads
};
// The default thread count (affinity, capped by a cgroup quota; else the online CPUs); `source`
// (may be NULL) receives one of the values above.
int onsager_default_num_threads(int *source);
int onsager_num_threads_source(void);
typedef void (*onsager_task_fn)(void *ctx, long task);
/// Runs fn(ctx, t) for t in [0, ntasks) on the pool. Tasks must write disjoint memory; a nested
/// call, or a call while another thread holds the pool, runs serially in the caller.
void onsager_parallel_for(long ntasks, onsager_task_fn fn, void *ctx);
/// Whether the pool currently runs jobs in the calling thread because it saw another process
/// competing for the cores (callers that would split work only for the pool then need not split).
int onsager_pool_contended(void);
/// Testing: the pool's workers (not the calling thread) sleep this long before every task they
/// take, as if descheduled by a busy neighbour; results must not change. 0 turns it off.
void onsager_set_worker_delay(long microseconds);
long onsager_get_worker_delay(void);
/// Testing: the pool's workers spin this long inside every task they take, busy as a vCPU looks
/// from inside a guest when the host has taken it away; unlike the delay above, the pool may
/// judge this contention and run jobs in the caller. 0 turns it off.
void onsager_set_worker_stall(long microseconds);
/// Testing: forgets the contention the pool has seen, so that jobs are split again at once. Not
/// from inside a task (it takes the lock a running job holds).
void onsager_pool_clear_contention(void);
/// Benchmarks: since the process started, the jobs the pool split between threads, the time
/// their callers spent waiting for tasks other threads were still running, and the time during
/// which it ran every job in one thread because it judged the machine contended (nanoseconds;
/// any pointer may be NULL). With contention detection off the pool still judges, and counts,
/// such spans, but splits every job.
void onsager_pool_totals(long *split_jobs, long *caller_wait_ns, long *one_thread_ns);
/// Jobs of several tasks the pool has run in the caller because it judged the machine contended
/// (since the process started): what a one-thread plan would have run as one task is counted here
/// when a kernel kept its multi-thread plan inside a span.
long onsager_pool_span_jobs(void);
/// Testing: 0 turns off the fallback to the calling thread under contention, so that every job
/// is split (the scheduling paths are then exercised on a busy machine too); 1 restores it.
void onsager_set_contention_detection(int on);
int onsager_get_contention_detection(void);
/// Testing: 1 while the pool judges a worker's wait for a CPU from the kernel's own count (Linux
/// schedstat), 0 once it has fallen back to comparing task times (no such count here).
int onsager_pool_reads_cpu_wait(void);

/// Raises glibc's mmap threshold so large tensor buffers are reused, and turns on the advice that
/// tensor memory use transparent huge pages (Linux, glibc's malloc; not with ONSAGER_HUGE_PAGES=0;
/// see allocator.c). Called once, at the first tensor allocation; process-wide malloc settings.
void onsager_tune_allocator(void);
/// A 64-byte aligned buffer of `bytes` (NULL when out of memory); `*block` is what
/// onsager_buffer_release takes back, with the same `bytes`.
void *onsager_buffer_allocate(size_t bytes, void **block);
void onsager_buffer_release(void *block, size_t bytes);
/// Testing: the calling thread's next n reservations of kernel scratch memory succeed and the one
/// after fails, as out of memory (n < 0: none fails); the products' fallbacks then run.
void onsager_fail_scratch_reservation(long n);
/// Testing: reservations left to grant before the failure set above (-1: it has happened, or none
/// was set).
long onsager_scratch_reservations_left(void);

// ---- GEMM: C = alpha * op(A) op(B) + beta * C ----------------------------------------
// A is M x K with element (i,k) at A[i*rsa + k*csa]; B is K x N with (k,j) at B[k*rsb + j*csb];
// C is M x N with (i,j) at C[i*ldc + j]. Any strides: transposed operands need no copy.
void onsager_sgemm(long M, long N, long K, float alpha, const float *A, long rsa, long csa,
                   const float *B, long rsb, long csb, float beta, float *C, long ldc);
void onsager_dgemm(long M, long N, long K, double alpha, const double *A, long rsa, long csa,
                   const double *B, long rsb, long csb, double beta, double *C, long ldc);
/// C = alpha * op(A) op(B) + bias, the row vector bias (N elements) added to every row of C as
/// the product stores it (a layer's bias without a pass of its own).
void onsager_sgemm_bias(long M, long N, long K, float alpha, const float *A, long rsa, long csa,
                        const float *B, long rsb, long csb, const float *bias, float *C, long ldc);
void onsager_dgemm_bias(long M, long N, long K, double alpha, const double *A, long rsa, long csa,
                        const double *B, long rsb, long csb, const double *bias, double *C, long ldc);
/// C = max(alpha * op(A) op(B) + bias, 0), bias optional (NULL): a dense layer and its ReLU in
/// one product, the ReLU applied to each block of C right after the last block of K stored it
/// (while it is in L1), as the elementwise relu (NaN stays NaN, -0 becomes +0).
void onsager_sgemm_bias_relu(long M, long N, long K, float alpha, const float *A, long rsa, long csa,
                             const float *B, long rsb, long csb, const float *bias, float *C, long ldc);
void onsager_dgemm_bias_relu(long M, long N, long K, double alpha, const double *A, long rsa, long csa,
                             const double *B, long rsb, long csb, const double *bias, double *C, long ldc);

/// 1 when this CPU has Intel AMX (AMX-BF16, with AVX512-BF16) and the kernel granted this process
/// its tile state.
int onsager_amx_available(void);
/// Whether Float products with an exactly-bfloat16 A may use AMX on the calling thread: its own
/// setting (onsager_set_thread_amx) if it has one, else the process's (on unless ONSAGER_AMX=0 or
/// onsager_set_amx(0)); never without onsager_amx_available() and the AVX-512 level.
int onsager_get_amx(void);
void onsager_set_amx(int on);
/// The calling thread's own setting, for tests: 1 on, 0 off, -1 follow the process's. (The path
/// is chosen by the thread that calls the product, so its pool workers follow it.)
void onsager_set_thread_amx(int on);
/// How many products the calling thread has run on the tiles (for tests and benchmarks).
long onsager_amx_product_count(void);
/// C = alpha * op(A) op(B) + beta * C on AMX tiles when every value of A is exactly a finite
/// bfloat16 (0/1, ±1, small integers), B split exactly into three bfloat16 parts (amx.c): Float
/// accuracy. With a bias (beta ignored, as in onsager_sgemm_bias) C = alpha·AB + bias, and relu
/// as in onsager_sgemm_bias_relu. Returns 0, having written nothing, when the path is off or
/// absent, A is not exact, the product is under 2 MFLOP or has a side under 16, K is over 65,536
/// or M·K over 32 million, or A's packed copy cannot be allocated.
int onsager_sgemm_exact_amx(long M, long N, long K, float alpha, const float *A, long rsa, long csa, const float *B,
                            long rsb, long csb, float beta, float *C, long ldc, const float *bias, int relu);

/// The calling thread's own AMX setting: 1 on, 0 off, -1 following the process's.
int onsager_get_thread_amx(void);

/// 1 when this CPU runs AVX-512 adds on units apart from its FMA units (AMD Zen 4 and Zen 5), where
/// Float products whose A holds only 0 and 1 take masked adds for half of C's columns.
int onsager_zero_one_available(void);
/// Whether the path is on by default on this CPU: on Zen 4, where it was measured to pay; off on
/// Zen 5 and later AMD families until measured there.
int onsager_zero_one_default(void);
/// The same rule for a CPU given by vendor (1: AMD) and family (CPUID's, extended included).
int onsager_zero_one_default_for(int amd, int family);
/// The family in CPUID leaf 1's EAX: the base family, plus the extended family when the base is 15
/// (AMD Zen 4 25, Zen 5 26; Intel's cores 6).
int onsager_cpuid_family(unsigned eax);
/// Whether that path may run for the calling thread: its own setting (onsager_set_thread_zero_one)
/// if it has one, which runs the path on any AVX-512 CPU (for tests), else the process's (as
/// ONSAGER_ZERO_ONE=0 or 1 at start, or onsager_set_zero_one; unset, onsager_zero_one_default())
/// where onsager_zero_one_available().
int onsager_get_zero_one(void);
/// The process's setting (1 on, 0 off), as ONSAGER_ZERO_ONE at start.
void onsager_set_zero_one(int on);
/// The calling thread's own setting: 1 on, 0 off, -1 follow the process's.
void onsager_set_thread_zero_one(int on);
/// How many products the calling thread has run on the path (for tests and benchmarks).
long onsager_zero_one_product_count(void);
/// Whether A's first 64 values in its first and middle rows are all 0 or 1: the masked adds' look
/// before they pack A (most products that do not qualify show it there).
int onsager_zero_one_look(long M, long K, const float *A, long rsa, long csa);
/// C = alpha * op(A) op(B) + beta * C by FMAs and masked adds when every value of A is 0 or 1
/// (zero_one_gemm.c); bias and relu as in onsager_sgemm_exact_amx. Bit-identical to the FMA kernels
/// under the general blocking for K up to 1024; a column panel of B holding an infinity or NaN
/// takes FMAs in all its columns (their bits for finite results, NaN for 0·∞). Returns 0,
/// having written nothing, when the path is off, A holds another value, the product is under 2
/// MFLOP or has a side under 16, K is over 16,384 or M·K over 32 million, or A's packed copy cannot
/// be allocated.
int onsager_sgemm_zero_one(long M, long N, long K, float alpha, const float *A, long rsa, long csa, const float *B,
                           long rsb, long csb, float beta, float *C, long ldc, const float *bias, int relu);

/// Whether products may skip A's all-zero columns (skip_zeros.c; the same bits as without): the
/// calling thread's own setting (onsager_set_thread_skip_zeros) if it has one, else the process's
/// (ONSAGER_SKIP_ZEROS=0 or 1 at start, or onsager_set_skip_zeros; on when unset).
int onsager_get_skip_zeros(void);
/// The process's setting (1 on, 0 off), as ONSAGER_SKIP_ZEROS at start.
void onsager_set_skip_zeros(int on);
/// The calling thread's own setting: 1 on, 0 off, -1 follow the process's.
void onsager_set_thread_skip_zeros(int on);
/// How many products the calling thread has run with A's zero columns skipped (tests, benchmarks).
long onsager_skip_zeros_product_count(void);
/// gemm.c's test for dropping A's all-zero columns: A stored by rows (csa = 1), K and N at least 64,
/// 2 MFLOP or more, the switch on, and B stored by rows with M up to 256, or by columns with beta
/// zero and M up to a row block (mc).
int onsager_skip_zeros_eligible(long M, long N, long K, long csa, long rsb, long csb, int beta_zero, long mc);
/// When at least 1/min_share of A's K columns (M rows, rsa apart) are all ±0 (with max_nonzeros
/// over 0: hold at most that many nonzero values; a scan may then give up early on columns
/// nonzero in each of its first 8, 16, 32, ... rows, taken as dense): A's other columns
/// as a compact M x *kc matrix (this thread's buffers of the slot, valid until its next call with
/// that slot: 0 for A's columns or rows, 1 for B's columns), in *keep a byte per column, 1 for
/// those kept, and in *rows their indices. NULL otherwise.
const float *onsager_drop_zero_columns_f32(long M, long K, const float *A, long rsa, const uint8_t **keep,
                                           const int32_t **rows, long *kc, int slot, long min_share,
                                           long max_nonzeros);
const double *onsager_drop_zero_columns_f64(long M, long K, const double *A, long rsa, const uint8_t **keep,
                                            const int32_t **rows, long *kc, int slot, long min_share,
                                            long max_nonzeros);
/// This thread's switch for sparse_rows.c (default on; off: only all-zero rows are left out).
void onsager_set_thread_sparse_rows(int on);
/// This thread's switch for sparse_rows.c's passes over a B block larger than L1, part by part
/// (-1: the default, on; 0 off: each row reads all of its block in one pass; 1 on). For tests and
/// labs: the same bits either way.
void onsager_set_thread_sparse_passes(int on);
/// Whether a Float product that the masked adds would take (onsager_get_zero_one) runs faster with
/// A's sparse rows computed by sparse_rows.c and its other rows by the FMA kernels: A stored by
/// columns (rsa 1), no bias or relu (epilogue 0), the rows path eligible (onsager_skip_rows_eligible),
/// the first 64 values of rows 0 and M/2 all 0 or 1, estimated from 64 of A's rows (kc: the
/// kernels' K block). 0 otherwise, and where the masked adds are off.
int onsager_sparse_rows_before_zero_one(long M, long N, long K, const float *A, long rsa, long csa, long csb,
                                        int beta_zero, int epilogue, long kc);
/// How many products the calling thread has run with sparse rows computed by sparse_rows.c.
long onsager_sparse_rows_product_count(void);
/// The most nonzero values a row of A may hold (of K) for sparse_rows.c to compute its row of C:
/// 0 (none) with the portable kernels or when K is over one K block (kc).
long onsager_sparse_row_limit(long K, long kc);
/// C's rows whose keep mark is 0 = α·A·B, A (M x K) stored by columns (A[i + k·lda]) with at most
/// `limit` nonzeros in those rows, B (K x N, finite) by rows: the FMA kernels' bits for K in one
/// block, only the nonzero terms computed. With ckeep (not NULL), B is the compact copy of the
/// columns a B-columns product kept (clist, their indices of Cn; ckeep, a byte per column): each
/// row is spread over C's Cn columns, fill's values in those left out. Returns 0 without AVX2
/// or memory, or for a B not finite (some of those rows may then be written: compute them again).
int onsager_sparse_rows_f32(long M, long N, long K, float alpha, const float *A, long lda, const uint8_t *keep,
                            long limit, const float *B, long rsb, float *C, long ldc, const uint8_t *ckeep,
                            const int32_t *clist, const float *fill, long Cn);
int onsager_sparse_rows_f64(long M, long N, long K, double alpha, const double *A, long lda, const uint8_t *keep,
                            long limit, const double *B, long rsb, double *C, long ldc, const uint8_t *ckeep,
                            const int32_t *clist, const double *fill, long Cn);
/// C = α·A·B (+ bias, then max(C, 0) with relu) with every row of C computed from its row of A's
/// nonzeros (sparse_rows.c) when A and B are stored by rows, A holds at most a quarter of nonzeros
/// (35 % where B's block is read in passes: onsager_set_thread_sparse_passes) and each row at most
/// half of K (an RBM's binary samples, images on a dark background), B is finite, β is 0 and K is at most 1024: the FMA kernels' bits (K in their blocks of kcb, the
/// caller's, each block's sums folded into C as theirs; but for a zero whose sign an underflow set,
/// as skip_zeros.c). Returns 0, C untouched or unfinished, when it does not apply (B's finiteness
/// is checked block by block as the tasks copy it: a B with an infinity or NaN returns 0 once the
/// tasks under way have stopped, after A's rows were listed and part of C computed, and the
/// caller's kernels give the full product's NaNs).
int onsager_sparse_product_f32(long M, long N, long K, float alpha, const float *A, long rsa, long csa, const float *B,
                               long rsb, long csb, float beta, float *C, long ldc, const float *bias, int relu, long kcb);
int onsager_sparse_product_f64(long M, long N, long K, double alpha, const double *A, long rsa, long csa, const double *B,
                               long rsb, long csb, double beta, double *C, long ldc, const double *bias, int relu, long kcb);
/// gemm.c's test for dropping A's all-zero rows: beta zero, A stored by columns (rsa = 1), B by rows
/// (csb = 1), M and N at least 64, 2 MFLOP or more, and the switch on.
int onsager_skip_rows_eligible(long M, long N, long K, long rsa, long csb, int beta_zero);
/// gemm.c's test for dropping B's all-zero columns: beta zero, B stored by rows (csb = 1), M and N
/// at least 64, 2 MFLOP or more, and the switch on.
int onsager_skip_bcols_eligible(long M, long N, long K, long csb, int beta_zero);
/// Whether rows of a B stored by rows (K x N, rows rsb apart) hold only finite values: every row
/// (keep NULL), or those that keep marks 0 (onsager_count_nonfinite on each row, or on all of B at
/// once when its rows are contiguous).
int onsager_rows_finite_f32(long K, long N, const float *B, long rsb, const uint8_t *keep);
int onsager_rows_finite_f64(long K, long N, const double *B, long rsb, const uint8_t *keep);
/// Whether an M x K matrix (rows rsa apart, columns csa) holds only finite values.
int onsager_matrix_finite_f32(long M, long K, const float *A, long rsa, long csa);
int onsager_matrix_finite_f64(long M, long K, const double *A, long rsa, long csa);
/// This thread's buffer of 2n + 32 values for B's columns dropped: the fill row and the compact bias.
float *onsager_skip_zeros_fill_f32(long n);
double *onsager_skip_zeros_fill_f64(long n);
/// Writes dst's N values: src's, in order, where keep marks 1, fill's where it marks 0 (src is
/// read up to 16 values past those it gives); with stream, aligned vectors past the caches (then
/// call onsager_skip_zeros_stream_fence before another thread reads dst).
void onsager_expand_row_f32(long N, const float *src, float *dst, const uint8_t *keep, const float *fill, int stream);
void onsager_expand_row_f64(long N, const double *src, double *dst, const uint8_t *keep, const double *fill, int stream);
/// For each 8-bit mask, the positions of its set bits in order (8 bytes a mask; the rest 0): the
/// permutations with which AVX2 code packs the values a mask keeps to the front of a register.
/// (All zeros in a build without the x86 vector code, which alone uses it.)
const uint8_t *onsager_compress_permutations(void);
/// Orders the streamed stores of onsager_expand_row before later stores (sfence).
void onsager_skip_zeros_stream_fence(void);
/// This thread's buffer of n values (and 16 spare) for a chunk of compact C rows.
float *onsager_skip_zeros_chunk_f32(long n);
double *onsager_skip_zeros_chunk_f64(long n);
/// Frees this thread's chunk buffer when it is over 4 MB.
void onsager_skip_zeros_chunk_trim(void);
/// Counts one product for onsager_skip_zeros_product_count.
void onsager_skip_zeros_counted(void);
/// Frees this thread's buffers of the slot when they are over 4 MB.
void onsager_skip_zeros_trim(int slot);

// ---- elementwise ---------------------------------------------------------------------
enum onsager_unary_op {
    ONS_NEG = 0, ONS_ABS, ONS_SIGN, ONS_EXP, ONS_LOG, ONS_LOG1P, ONS_SQRT, ONS_SQUARE,
    ONS_SIGMOID, ONS_LOGSIGMOID, ONS_TANH, ONS_RELU, ONS_SOFTPLUS, ONS_RECIPROCAL,
    ONS_EXPM1, ONS_ERF,
    ONS_GELU,        // x·Φ(x), Φ the standard normal CDF (torch.nn.GELU())
    ONS_UNARY_COUNT
};
enum onsager_binary_op {
    ONS_ADD = 0, ONS_SUB, ONS_MUL, ONS_DIV, ONS_POW, ONS_MAX, ONS_MIN,
    ONS_EQ, ONS_NE, ONS_LT, ONS_LE, ONS_GT, ONS_GE,
    ONS_MASK_POS,    // x where y > 0 else 0 (relu's backward in one pass, as PyTorch's threshold_backward)
    ONS_GELU_BACKWARD,   // x · GELU′(y) = x · (Φ(y) + y·φ(y)) (GELU's backward in one pass)
    ONS_BINARY_COUNT
};
/// y[i] = op(x[i]) on contiguous arrays (in place allowed).
void onsager_unary_f32(int op, const float *x, float *y, long n);
void onsager_unary_f64(int op, const double *x, double *y, long n);
/// y[i] = p0 * x[i] + p1 (affine), clamp to [p0, p1], leaky relu (p0 slope), x^p0.
enum onsager_param_op { ONS_AFFINE = 0, ONS_CLAMP, ONS_LEAKY_RELU, ONS_LEAKY_STEP, ONS_POWS, ONS_CLAMP_MASK };
void onsager_param_unary_f32(int op, const float *x, float *y, long n, double p0, double p1);
void onsager_param_unary_f64(int op, const double *x, double *y, long n, double p0, double p1);

/// y[i] += alpha * x[i] (contiguous, one pass).
void onsager_axpy_f32(long n, float alpha, const float *x, float *y);
void onsager_axpy_f64(long n, double alpha, const double *x, double *y);
/// The optimizers' update rules, applied by onsager_update_* in one pass per parameter.
enum onsager_update_kind {
    ONSAGER_UPDATE_SGD = 0,       // state: s0 = momentum buffer (unused without momentum)
    ONSAGER_UPDATE_ADAM = 1,      // s0 = first moment m, s1 = second moment v
    ONSAGER_UPDATE_RMSPROP = 2,   // s0 = square average, s1 = gradient average (centered), s2 = momentum buffer
    ONSAGER_UPDATE_ADAGRAD = 3    // s0 = sum of squared gradients
};
/// One step's hyperparameters; fields a rule does not use are ignored. Formulas: templates/update_template.h.
typedef struct onsager_update_rule {
    int kind;                      // onsager_update_kind
    int first_step;                // SGD: the momentum buffer starts as the gradient
    int nesterov, centered, decoupled_weight_decay;
    double lr, weight_decay, momentum, dampening;
    double beta1, beta2, bias_correction1, bias_correction2;   // Adam: cᵢ = 1 − βᵢᵗ
    double alpha, eps;                                          // RMSProp's α; ε of Adam, RMSProp, AdaGrad
} onsager_update_rule;
/// Updates the n contiguous elements of p from the gradient g and the rule's state buffers
/// (NULL where the rule needs none), in place; no buffer may overlap another.
void onsager_update_f32(const onsager_update_rule *rule, long n, float *p, const float *g, float *s0, float *s1, float *s2);
void onsager_update_f64(const onsager_update_rule *rule, long n, double *p, const double *g, double *s0, double *s1,
                        double *s2);
/// y[i * incy] = alpha · Σₖ A[i * rsa + k] · x[k] for i < M (rows and x contiguous; vectorised).
void onsager_gemv_rows_f32(long M, long K, float alpha, const float *A, long rsa, const float *x, float *y, long incy);
void onsager_gemv_rows_f64(long M, long K, double alpha, const double *A, long rsa, const double *x, double *y, long incy);
/// y += (G∘G) x for the rows i0 ≤ i < i0 + b of a symmetric G held in C (rows ldc apart, columns
/// up to i0 + b): those rows in full, and the mirror image of the part left of the diagonal block.
void onsager_gram_square_block_f32(long b, long i0, const float *C, long ldc, const float *x, float *y);
void onsager_gram_square_block_f64(long b, long i0, const double *C, long ldc, const double *x, double *y);
/// The squared Gram product of the 4-cycle fields: for every p < P, y_p = (G_p ∘ G_p) x_p with
/// G_p = wᵀ diag(k_p) w, w [n, m] row-major (rows ldw apart), k [P, n] and x, y [P, m] contiguous.
/// G_p is symmetric, so only its lower part is computed, a block of rows at a time: about 0.6 of
/// the GEMM's flops, and never more than a block of G in memory. When m is much larger than n,
/// the n × n Gram matrix of the other side is cheaper and taken instead (see gram_square.c).
/// Returns 0, or -1 when its scratch memory cannot be allocated.
long onsager_gram_square_product_f32(long P, long n, long m, const float *w, long ldw, const float *k, const float *x, float *y);
long onsager_gram_square_product_f64(long P, long n, long m, const double *w, long ldw, const double *k, const double *x, double *y);
/// Multiply-adds per particle of the route `onsager_gram_square_product_*` takes for w [n, m]
/// (for benchmarks that report its rate).
double onsager_gram_square_multiply_adds(long n, long m);
/// out = a op b with broadcasting. shape/strides have `rank` entries (strides in elements,
/// 0 for broadcast dims); out is contiguous with that shape.
void onsager_binary_f32(int op, int rank, const long *shape, const float *a, const long *sa,
                        const float *b, const long *sb, float *out);
void onsager_binary_f64(int op, int rank, const long *shape, const double *a, const long *sa,
                        const double *b, const long *sb, double *out);
/// out = cond != 0 ? a : b, broadcasting all three.
void onsager_where_f32(int rank, const long *shape, const float *c, const long *sc, const float *a,
                       const long *sa, const float *b, const long *sb, float *out);
void onsager_where_f64(int rank, const long *shape, const double *c, const long *sc, const double *a,
                       const long *sa, const double *b, const long *sb, double *out);

// ---- sliding windows (windows.c) ---------------------------------------------------------
/// The windows of x [n, c, h, w] (contiguous), kh × kw every sh, sw, with ph, pw zeros on each
/// side (read, never stored), as columns, cols [n, c·kh·kw, oh·ow] (`torch.nn.functional.unfold`'s
/// layout): row (ch, di, dj) holds that kernel element of every window;
/// oh = (h + 2·ph − kh) / sh + 1, likewise ow.
void onsager_unfold2d_f32(const float *x, long n, long c, long h, long w, long kh, long kw, long sh, long sw,
                          long ph, long pw, float *cols);
void onsager_unfold2d_f64(const double *x, long n, long c, long h, long w, long kh, long kw, long sh, long sw,
                          long ph, long pw, double *cols);
/// The adjoint of unfold (`torch.nn.functional.fold`). Overwrites x.
void onsager_fold2d_f32(const float *cols, long n, long c, long h, long w, long kh, long kw, long sh, long sw,
                        long ph, long pw, float *x);
void onsager_fold2d_f64(const double *cols, long n, long c, long h, long w, long kh, long kw, long sh, long sw,
                        long ph, long pw, double *x);
// ---- convolution (conv2d.c) -----------------------------------------------------------------
/// The window and stride of a max pooling fused into a convolution (onsager_conv2d_*).
typedef struct { long kh, kw, sh, sw; } onsager_pool2d;
/// y [n, o, oh·ow] = w2 [o, c·kh·kw] · (each image's windows of x [n, c, h, w] as columns) + bias [o]
/// (nullable) per output channel, one image at a time, its columns in a scratch buffer.
/// With relu, each image's output ends as max(·, 0), as the elementwise relu, applied with the
/// bias while the image is in cache; with pool (nullable), y [n, o, oh, ow] is then max-pooled
/// into pooled [n, o, poh, pow] image by image, as onsager_maxpool2d does.
/// Returns 0; -1 when the scratch memory cannot be allocated; -2 for a pool without pooled, or
/// whose window or stride is not positive or does not fit the output.
long onsager_conv2d_f32(const float *x, const float *w2, const float *bias, long n, long c, long h, long w, long o,
                        long kh, long kw, long sh, long sw, long ph, long pw, int relu, float *y,
                        const onsager_pool2d *pool, float *pooled);
long onsager_conv2d_f64(const double *x, const double *w2, const double *bias, long n, long c, long h, long w, long o,
                        long kh, long kw, long sh, long sw, long ph, long pw, int relu, double *y,
                        const onsager_pool2d *pool, double *pooled);
/// The convolution's gradients from g [n, o, oh·ow]: dx [n, c, h, w] (nullable) = each image's
/// w2ᵀ · g folded back, dw [n, o, c·kh·kw] (nullable) = each image's g · columnsᵀ, and db [n, o]
/// (nullable) = each image's row sums of g, the last two to be summed over n by the caller. With
/// y (nullable: the output of a fused relu), g is first masked by y > 0 (relu's backward), image
/// by image. With pool (a fused pool after the relu: then y is given), g is not read: each image's
/// gradient is gpool [n, o, poh, pow] routed to the maxima of y as onsager_maxpool2d_route does,
/// pooled being y's pooling. Returns 0; -1 when scratch memory cannot be allocated; -2 for a pool
/// without y, pooled or gpool, no g without one, or a pool as onsager_conv2d_* refuses.
long onsager_conv2d_backward_f32(const float *x, const float *w2, const float *g, const float *y, long n, long c, long h,
                                 long w, long o, long kh, long kw, long sh, long sw, long ph, long pw, float *dx, float *dw,
                                 float *db, const onsager_pool2d *pool, const float *pooled, const float *gpool);
long onsager_conv2d_backward_f64(const double *x, const double *w2, const double *g, const double *y, long n, long c, long h,
                                 long w, long o, long kh, long kw, long sh, long sw, long ph, long pw, double *dx, double *dw,
                                 double *db, const onsager_pool2d *pool, const double *pooled, const double *gpool);
/// rows × n (one image's convolution output): bias[r] (nullable) added to row r, then with relu
/// max(·, 0) as the elementwise relu. Serial (called inside conv2d's image tasks).
void onsager_bias_relu_rows_f32(long rows, long n, float *y, const float *bias, int relu);
void onsager_bias_relu_rows_f64(long rows, long n, double *y, const double *bias, int relu);
/// rows × n: gz = g where y > 0 else 0 (y nullable: then gz is g and is not written), and sums[r]
/// (nullable) = Σ of row r of gz in the order onsager_reduce sums the rows of a [rows, n] array
/// (for a single row over 65,536 long onsager_reduce sums chunks instead). Serial.
void onsager_mask_row_sums_f32(long rows, long n, const float *g, const float *y, float *gz, float *sums);
void onsager_mask_row_sums_f64(long rows, long n, const double *g, const double *y, double *gz, double *sums);
/// Max pooling of planes x [p, h, w] into y [p, oh, ow] (no padding; a window with a NaN
/// gives the quiet NaN, as `max`).
void onsager_maxpool2d_f32(const float *x, long planes, long h, long w, long kh, long kw, long sh, long sw, float *y);
void onsager_maxpool2d_f64(const double *x, long planes, long h, long w, long kh, long kw, long sh, long sw, double *y);
/// Max pooling's gradient dx [p, h, w] (overwritten) from g [p, oh, ow]: each window's g shared
/// equally among its elements equal to its maximum y.
void onsager_maxpool2d_route_f32(const float *x, const float *y, const float *g, long planes, long h, long w,
                                 long kh, long kw, long sh, long sw, float *dx);
void onsager_maxpool2d_route_f64(const double *x, const double *y, const double *g, long planes, long h, long w,
                                 long kh, long kw, long sh, long sw, double *dx);
/// The adjoint of the routing: out [p, oh, ow] = for each window, the mean of gg over its tied maxima.
void onsager_maxpool2d_gather_f32(const float *x, const float *y, const float *gg, long planes, long h, long w,
                                  long kh, long kw, long sh, long sw, float *out);
void onsager_maxpool2d_gather_f64(const double *x, const double *y, const double *gg, long planes, long h, long w,
                                  long kh, long kw, long sh, long sw, double *out);

/// Strided N-d copy of elements of `elsize` bytes (4 or 8): dst[idx] = src[idx].
void onsager_copy_nd(int elsize, int rank, const long *shape, const void *src, const long *ss,
                     void *dst, const long *ds);
/// Blocks of `inner` elements of `elsize` bytes picked by index: src viewed as [outer, n, inner],
/// dst as [outer, k, inner], dst block (o, r) = src block (o, picks[r]) (each pick in 0..<n).
/// Large gathers run as pool tasks; the result does not depend on the thread count.
void onsager_take_blocks(int elsize, const void *src, long outer, long n, long inner, const long *picks, long k,
                         void *dst);

// ---- reductions on a contiguous [outer, R, inner] array to [outer, inner] -------------
enum onsager_reduce_op { ONS_RSUM = 0, ONS_RMAX, ONS_RMIN };
void onsager_reduce_f32(int op, const float *x, float *out, long outer, long R, long inner);
void onsager_reduce_f64(int op, const double *x, double *out, long outer, long R, long inner);
/// Index of the largest element of each row of a contiguous [rows, n] array (first on ties).
void onsager_argmax_f32(const float *x, long rows, long n, long *out);
void onsager_argmax_f64(const double *x, long rows, long n, long *out);
/// sum[r] = Σⱼ softplus(x[r, j]) and sig[r, j] = σ(x[r, j]) for a contiguous [rows, n] array,
/// one exp per element and one log1p per 64 terms of a vector lane; σ equals unary sigmoid bit
/// for bit, the sums equal unary softplus + last-axis reduce to within rounding.
void onsager_softplus_rowsum_f32(const float *x, long rows, long n, float *sum, float *sig);
void onsager_softplus_rowsum_f64(const double *x, long rows, long n, double *sum, double *sig);
/// Softmax of each contiguous row of x [rows, n] into y: exp(x − m) / Σ exp(x − m), m the row's
/// maximum (0 when it is not finite).
void onsager_softmax_rows_f32(const float *x, long rows, long n, float *y);
void onsager_softmax_rows_f64(const double *x, long rows, long n, double *y);
/// Softmax's backward on rows: gx = y ⊙ (g − Σⱼ g⊙y), y the softmax (all [rows, n], contiguous).
void onsager_softmax_rows_backward_f32(const float *y, const float *g, long rows, long n, float *gx);
void onsager_softmax_rows_backward_f64(const double *y, const double *g, long rows, long n, double *gx);
/// Log-softmax of each contiguous row of x [rows, n] into y: x − (m + log Σ exp(x − m)), m the row's
/// maximum (0 when it is not finite): the composed x − logSumExp(x), bit for bit (but for a single
/// row over 65,536 long, which onsager_reduce sums in chunks).
void onsager_log_softmax_rows_f32(const float *x, long rows, long n, float *y);
void onsager_log_softmax_rows_f64(const double *x, long rows, long n, double *y);
/// Its backward on rows: gx = g − exp(y)·Σⱼ g, y the log-softmax.
void onsager_log_softmax_rows_backward_f32(const float *y, const float *g, long rows, long n, float *gx);
void onsager_log_softmax_rows_backward_f64(const double *y, const double *g, long rows, long n, double *gx);
/// Batch normalisation of x viewed as [n, c, L] over each channel's n·L values: y = (x − μ)·r·γ + β,
/// r = 1/√(σ² + ε), σ² biased; μ, r and σ² written per channel. The backward takes x, g and the
/// saved μ and r and writes gx, dγ = Σ g·x̂ and dβ = Σ g (each may be NULL to skip it; gx needs γ).
void onsager_normalize_channels_f32(const float *x, long n, long c, long L, float eps, const float *gamma,
                                    const float *beta, float *y, float *mean, float *rstd, float *var);
void onsager_normalize_channels_f64(const double *x, long n, long c, long L, double eps, const double *gamma,
                                    const double *beta, double *y, double *mean, double *rstd, double *var);
void onsager_normalize_channels_backward_f32(const float *x, const float *g, long n, long c, long L, const float *gamma,
                                             const float *mean, const float *rstd, float *gx, float *dgamma,
                                             float *dbeta);
void onsager_normalize_channels_backward_f64(const double *x, const double *g, long n, long c, long L,
                                             const double *gamma, const double *mean, const double *rstd, double *gx,
                                             double *dgamma, double *dbeta);
/// Each contiguous row of x [rows, n] normalised: y = (x − μ)/√(σ² + eps), μ and σ² the row's
/// mean and (biased) variance; rstd[r] = 1/√(σ² + eps) for the backward.
void onsager_normalize_rows_f32(const float *x, long rows, long n, float eps, float *y, float *rstd);
void onsager_normalize_rows_f64(const double *x, long rows, long n, double eps, double *y, double *rstd);
/// Its backward: gx = rstd · (g − mean(g) − y · mean(g ⊙ y)) per row, y the normalised rows.
void onsager_normalize_rows_backward_f32(const float *y, const float *rstd, const float *g, long rows, long n, float *gx);
void onsager_normalize_rows_backward_f64(const double *y, const double *rstd, const double *g, long rows, long n,
                                         double *gx);
/// Layer normalisation with its affine map: xhat = the normalised rows (as onsager_normalize_rows,
/// with rstd), y = xhat·gamma + beta per row, with the bits of that product and sum composed; one
/// pass per row.
void onsager_normalize_rows_affine_f32(const float *x, long rows, long n, float eps, const float *gamma,
                                       const float *beta, float *xhat, float *rstd, float *y);
void onsager_normalize_rows_affine_f64(const double *x, long rows, long n, double eps, const double *gamma,
                                       const double *beta, double *xhat, double *rstd, double *y);
/// Its backward to x: the normalisation's backward of g·gamma (the bits of that product composed).
void onsager_normalize_rows_affine_backward_f32(const float *xhat, const float *rstd, const float *g,
                                                const float *gamma, long rows, long n, float *gx);
void onsager_normalize_rows_affine_backward_f64(const double *xhat, const double *rstd, const double *g,
                                                const double *gamma, long rows, long n, double *gx);
/// Layer normalisation's parameter gradients from its normalised rows xhat and the output's
/// gradient g, both [rows, n]: dgamma = Σ over rows of g ⊙ xhat, dbeta = Σ over rows of g (either
/// may be NULL), with the bits of that product and sum composed (each column row after row).
void onsager_layer_norm_param_grads_f32(const float *xhat, const float *g, long rows, long n, float *dgamma, float *dbeta);
void onsager_layer_norm_param_grads_f64(const double *xhat, const double *g, long rows, long n, double *dgamma,
                                        double *dbeta);
/// Count of non-finite values (NaN or +-Inf) in a contiguous array.
long onsager_count_nonfinite_f32(const float *x, long n);
long onsager_count_nonfinite_f64(const double *x, long n);

// ---- random numbers: counter-based, so element i depends only on (seed, counter + i) ----
void onsager_rand_uniform_f32(uint64_t seed, uint64_t counter, float *out, long n, float lo, float hi);
void onsager_rand_uniform_f64(uint64_t seed, uint64_t counter, double *out, long n, double lo, double hi);
void onsager_rand_normal_f32(uint64_t seed, uint64_t counter, float *out, long n, float mean, float std);
void onsager_rand_normal_f64(uint64_t seed, uint64_t counter, double *out, long n, double mean, double std);
/// out[i] = u_i < p[i] ? 1 : 0 with u_i uniform in [0, 1).
void onsager_rand_bernoulli_f32(uint64_t seed, uint64_t counter, const float *p, float *out, long n);
void onsager_rand_bernoulli_f64(uint64_t seed, uint64_t counter, const double *p, double *out, long n);
/// out[i] = u_i < σ(x[i]) ? 1 : 0: bernoulli from logits in one pass, the same u_i (and the same
/// σ) as onsager_rand_bernoulli on sigmoid(x), so results are identical.
void onsager_rand_bernoulli_logits_f32(uint64_t seed, uint64_t counter, const float *x, float *out, long n);
void onsager_rand_bernoulli_logits_f64(uint64_t seed, uint64_t counter, const double *x, double *out, long n);

#ifdef __cplusplus
}
#endif
#endif
