// A small persistent thread pool. Work is split into tasks that write disjoint memory, so the
// result never depends on which thread ran which task: seeded runs are bit-identical for any
// thread count.
#include "onsager_kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#if defined(__linux__) && !defined(ONSAGER_PORTABLE_ONLY)
#include <sched.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define MAX_THREADS 64

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;   // held by the dispatching thread
static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv = PTHREAD_COND_INITIALIZER;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static _Atomic long generation = 0;
static _Atomic long next_task = 0;
static _Atomic int busy_workers = 0;
static _Atomic int num_threads = 1;
static int workers_started = 0;          // guarded by pool_lock
static onsager_task_fn job_fn;
static void *job_ctx;
static long job_ntasks;
static int job_nworkers;                 // workers that take part in the current job
static int job_isa;                      // the dispatching thread's ISA level
static _Thread_local int in_parallel = 0;

static void run_tasks(void) {
    long t;
    while ((t = atomic_fetch_add_explicit(&next_task, 1, memory_order_relaxed)) < job_ntasks)
        job_fn(job_ctx, t);
}

static void *worker_main(void *arg) {
    int id = (int)(intptr_t)arg;
    long seen = 0;
    in_parallel = 1;
    for (;;) {
        long g;
        int spins = 0;
        // Spin briefly: ops come in quick succession during training, and a futex wake costs
        // several microseconds. Then sleep so an idle pool costs nothing.
        while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
            if (++spins < 20000) { CPU_RELAX(); continue; }
            pthread_mutex_lock(&wake_mu);
            while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen)
                pthread_cond_wait(&wake_cv, &wake_mu);
            pthread_mutex_unlock(&wake_mu);
            break;
        }
        seen = g;
        if (id < job_nworkers) {
            onsager_set_thread_isa(job_isa);
            run_tasks();
            atomic_fetch_sub_explicit(&busy_workers, 1, memory_order_release);
        }
    }
    return NULL;
}

// The CPUs this process may use: its affinity mask where the platform has one (taskset, numactl,
// a container's cpuset), capped by a cgroup CPU quota (docker --cpus, Kubernetes limits) rounded
// up; else the online CPUs. `source` says which rule set the count.
static int cgroup_quota_cpus(void) {
#if defined(__linux__) && !defined(ONSAGER_PORTABLE_ONLY)
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");          // cgroup v2: "<quota|max> <period>"
    if (f) {
        char quota[32]; long period = 0; int cpus = 0;
        if (fscanf(f, "%31s %ld", quota, &period) == 2 && strcmp(quota, "max") != 0 && period > 0) {
            long q = atol(quota);
            if (q > 0) cpus = (int)((q + period - 1) / period);
        }
        fclose(f);
        return cpus;
    }
    long q = -1, period = 0;                                   // cgroup v1
    f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "r");
    if (f) { if (fscanf(f, "%ld", &q) != 1) q = -1; fclose(f); }
    f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "r");
    if (f) { if (fscanf(f, "%ld", &period) != 1) period = 0; fclose(f); }
    if (q > 0 && period > 0) return (int)((q + period - 1) / period);
#endif
    return 0;
}

int onsager_default_num_threads(int *source) {
    int n = 0, from = ONSAGER_THREADS_FROM_ONLINE_CPUS;
#if defined(__linux__) && !defined(ONSAGER_PORTABLE_ONLY)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) { n = CPU_COUNT(&set); from = ONSAGER_THREADS_FROM_AFFINITY; }
#endif
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
        from = ONSAGER_THREADS_FROM_ONLINE_CPUS;
    }
    int quota = cgroup_quota_cpus();
    if (quota > 0 && quota < n) { n = quota; from = ONSAGER_THREADS_FROM_CGROUP_QUOTA; }
    if (n > MAX_THREADS) n = MAX_THREADS;
    if (source) *source = from;
    return n;
}

static int thread_count_source = ONSAGER_THREADS_FROM_ONLINE_CPUS;

static void pool_init(void) {
    const char *env = getenv("ONSAGER_THREADS");
    int n = env ? atoi(env) : 0;
    if (n > 0) thread_count_source = ONSAGER_THREADS_FROM_ENVIRONMENT;
    else n = onsager_default_num_threads(&thread_count_source);
    if (n > MAX_THREADS) n = MAX_THREADS;
    atomic_store(&num_threads, n);
}

int onsager_num_threads_source(void) {
    pthread_once(&init_once, pool_init);
    return thread_count_source;
}

int onsager_get_num_threads(void) {
    pthread_once(&init_once, pool_init);
    return atomic_load(&num_threads);
}

void onsager_set_num_threads(int n) {
    pthread_once(&init_once, pool_init);
    thread_count_source = ONSAGER_THREADS_FROM_PROGRAM;
    if (n < 1) n = 1;
    if (n > MAX_THREADS) n = MAX_THREADS;
    atomic_store(&num_threads, n);
}

void onsager_parallel_for(long ntasks, onsager_task_fn fn, void *ctx) {
    if (ntasks <= 0) return;
    int nt = onsager_get_num_threads();
    if (ntasks == 1 || nt == 1 || in_parallel || pthread_mutex_trylock(&pool_lock) != 0) {
        for (long t = 0; t < ntasks; t++) fn(ctx, t);
        return;
    }
    int nworkers = nt - 1;
    if (nworkers > ntasks - 1) nworkers = (int)(ntasks - 1);
    while (workers_started < nworkers) {
        pthread_t th;
        if (pthread_create(&th, NULL, worker_main, (void *)(intptr_t)workers_started) != 0) break;
        pthread_detach(th);
        workers_started++;
    }
    if (nworkers > workers_started) nworkers = workers_started;
    job_fn = fn; job_ctx = ctx; job_ntasks = ntasks; job_nworkers = nworkers;
    job_isa = onsager_isa_level();
    atomic_store_explicit(&next_task, 0, memory_order_relaxed);
    atomic_store_explicit(&busy_workers, nworkers, memory_order_relaxed);
    pthread_mutex_lock(&wake_mu);
    atomic_fetch_add_explicit(&generation, 1, memory_order_release);
    pthread_cond_broadcast(&wake_cv);
    pthread_mutex_unlock(&wake_mu);
    in_parallel = 1;
    run_tasks();
    in_parallel = 0;
    while (atomic_load_explicit(&busy_workers, memory_order_acquire) > 0) CPU_RELAX();
    pthread_mutex_unlock(&pool_lock);
}

// Tensor buffers of a few MB are allocated and freed every training step. glibc hands out blocks
// above 128 KiB with mmap and unmaps them on free, so each step page-faults its buffers anew;
// a higher threshold keeps them in the heap for reuse (what PyTorch's caching allocator achieves).
// mallopt is a glibc extension: elsewhere (macOS, musl) this does nothing.
#if defined(__GLIBC__) && !defined(ONSAGER_PORTABLE_ONLY)
#include <malloc.h>
#endif
void onsager_tune_allocator(void) {
#if defined(__GLIBC__) && !defined(ONSAGER_PORTABLE_ONLY) && defined(M_MMAP_THRESHOLD)
    static int done = 0;
    if (done) return;
    done = 1;
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}
