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
#include <time.h>
#include <fcntl.h>
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

// How a job runs. The caller publishes the job and a new generation, wakes sleeping workers, and
// takes tasks itself; tasks are claimed one at a time from a shared counter, so a worker that is
// late (descheduled by a busy neighbour process, still waking up) takes fewer tasks instead of
// holding the others up. The caller then waits for the tasks still running, closes the job, and
// waits only for workers caught inside it (they leave at once). Waits spin briefly, then sleep:
// a sleeping thread frees its core, so the kernel can run a descheduled worker there.
// Contention (another process wants our cores) is noticed two ways, twice within SLOW_WINDOW_NS
// so that one-off hiccups do not count: a gap in a spinning thread's clock (it was descheduled),
// or a worker that waited for a CPU. The second is read from the kernel's count of the time the
// worker spent runnable but not running (/proc/thread-self/schedstat), after a task, at most once
// per WAIT_WINDOW_NS: a sign when the worker waited over 1/WAIT_SHARE of the window (a wait its
// spin already reported as a gap excepted). Judged over windows, a busy neighbour and the guest's
// own daemons fall apart: 2 threads on a 2-vCPU KVM guest (Intel Xeon), 100x500x784 products,
// 20 ms windows: with no neighbour 440 of 448 windows under 5 % and none over 20 %; beside one
// busy process 4 in 5 over 30 % and 5 in 6 over 20 %. The rule this replaces (a wait of 0.5 ms
// and a tenth of the time since the last reading, read after tasks over 1 ms) missed the short
// tasks of a small MLP step and, read after shorter tasks, fired on daemons' waits of 2-4 ms.
// A slow task alone is no evidence on a virtual machine, whose host slows a vCPU without the
// guest's scheduler running anything else on it; nor is any involuntary switch, since daemons
// preempt for microseconds. (sgemm 1024³ at 2 threads with no process beside it, Zen 4 VM: worker
// tasks of 10 ms took 21 ms, and the rule this replaces, a worker task 2 ms slower than the
// caller's, sent three runs in six to one thread.) Where schedstat cannot be read, a worker's task
// taking much longer than the caller's counts. For a while after contention is seen
// (CONTENDED_NS) the pool runs every job in the caller, as one thread would: with a busy
// neighbour a second thread adds less than the waits for it cost, and one thread then runs at its
// quiet-machine speed.
// A third rule needs no count from the kernel. A worker whose vCPU the host takes away mid-task
// (a shared cloud machine: invisible to the guest's scheduler, no wait in schedstat, no gap in a
// spin) leaves the caller waiting for that task once it has run out of tasks to take; on a 2-vCPU
// Zen 4 guest in such a spell, a layer norm's forward and backward on [256, 1024] ran 1,249-1,284
// µs at 2 threads against 370 at 1, softmax's 1,817 against 704. The caller adds up these waits
// over windows of STALL_WINDOW_NS; a window in which they took over half its time is contention:
// with tasks claimed one at a time, so that the two threads' shares of a job are about equal
// (GEMM chunks differ by one tile at most), the worker's tasks then took more than twice the
// caller's, and the jobs would have been as fast on the caller alone. Single stretched tasks,
// which the host causes on a quiet guest too, do not add up to that: judged job by job (a wait
// longer than the caller's own work), the same guest ran half of 2,000 quiet 262,144-value exps
// in the caller.
// Right after a one-thread span these rules ask for less (one sign; windows of 10 ms holding two
// jobs): the span's probation, described at on_probation below.
// The results are the same either way (tasks write disjoint memory in a fixed decomposition).
#define SPIN_NS 1000000L            // an idle worker spins this long before it sleeps
#define CALLER_SPIN_NS 50000L       // the caller spins this long for running tasks, then sleeps
#define PREEMPTED_GAP_NS 500000L    // a gap this long between clock reads in a spin: preempted (a
                                    // neighbour's time slice; hypervisor hiccups are shorter)
#ifndef CONTENDED_NS
#define CONTENDED_NS 200000000L     // how long after contention is seen jobs run in the caller
#endif                              // (first; twice as long each time it is seen again soon after)
#define MAX_CONTENDED_NS 4000000000L // ... at most (note_job)
#define REPEAT_SPAN_NS 1000000000L  // a span after a span (seen again soon after) at least this long
#define REPEAT_NS 500000000L        // "soon after"
#define SLOW_WINDOW_NS 50000000L    // two signs of contention this close together: contention
#define WAIT_WINDOW_NS 20000000L    // a worker's wait for a CPU is judged over windows this long
#define WAIT_SHARE 5                // a sign: a worker waited over 1/WAIT_SHARE of a window
#define STALL_WINDOW_NS 50000000L  // the caller's waits for running tasks are judged over windows this long
#define PROBATION_SHARE 5           // right after a one-thread span: windows a fifth as long, one sign enough

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;   // held by the dispatching thread
static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;     // idle workers sleep on wake_cv
static pthread_cond_t wake_cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;     // a waiting caller sleeps on done_cv
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static _Atomic long generation = 0;
static _Atomic int job_open = 0;
static _Atomic long next_task = 0;
static _Atomic long done_tasks = 0;
static _Atomic int entered = 0;          // workers inside the current job
static _Atomic int sleepers = 0;         // workers asleep on wake_cv
static _Atomic int caller_sleeping = 0;
static _Atomic long contended_until = 0; // monotonic ns
static _Atomic long worker_delay_us = 0; // testing: workers sleep this long before each task
static _Atomic long worker_stall_us = 0; // testing: workers spin this long inside each task they take
static _Atomic int contention_detection = 1; // testing: 0 keeps every job split whatever the load
static _Atomic long slowest_worker_task = 0;  // ns, in the current job
static _Atomic int worker_preempted = 0;      // a worker waited for a CPU mid-job (current job)
#if defined(__linux__) && !defined(ONSAGER_PORTABLE_ONLY)
static _Atomic int run_delay_unknown = 0;     // a worker could not read its schedstat
#else
static _Atomic int run_delay_unknown = 1;
#endif
static _Atomic int num_threads = 1;
static int workers_started = 0;          // guarded by pool_lock
static onsager_task_fn job_fn;
static void *job_ctx;
static long job_ntasks;
static int job_nworkers;                 // workers that take part in the current job
static int job_isa;                      // the dispatching thread's ISA level
static int job_gemm_tuning;              // and its GEMM blocking family
static _Thread_local int in_parallel = 0;

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

// One sign of contention (a preemption gap, a slow worker task) can be a one-off: a first touch
// of fresh memory, a hypervisor hiccup. Two within SLOW_WINDOW_NS are taken as contention. (A
// share of the jobs would not do: a busy neighbour preempts a worker only at the end of a time
// slice, so most jobs look normal while the few that straddle a slice wait for milliseconds.)
// Spinning workers report gaps through pending_gaps; only the caller (holding pool_lock) counts.
static _Atomic long pending_gaps = 0;
#define NO_SIGN (-1000000000000L)          // long before any job
static long last_sign = NO_SIGN;   // guarded by pool_lock
static long stall_window_start = -1, stall_waited = 0, stall_jobs = 0;   // guarded by pool_lock: the current window
static long contended_span = CONTENDED_NS;  // guarded by pool_lock
static long last_split_end = 0;   // guarded by pool_lock: when the last split job ended
// onsager_pool_totals: split jobs, the callers' waits in them, and the time in one-thread spans:
// those that have ended (or were cut short by onsager_pool_clear_contention), and the current or
// last one's start.
static _Atomic long total_split_jobs = 0, total_caller_wait = 0, past_spans_ns = 0, span_start = 0;
static _Atomic long span_jobs = 0;   // jobs of several tasks run in the caller inside a span

// How much of a span from `start` to `until` has passed at time t (0 for none).
static long span_elapsed(long start, long until, long t) {
    long end = until < t ? until : t;
    return end > start ? end - start : 0;
}

// Contention seen again within REPEAT_NS of the end of a one-thread span means the neighbour is
// still there: the next span is twice as long (1 s at least), up to MAX_CONTENDED_NS, so that fewer
// jobs pay for finding that out again. Seen later, the span starts over at CONTENDED_NS, 0.2 s:
// short, because a one-off stall starts a span too (a host that takes a vCPU away for some tens of
// milliseconds from an otherwise quiet guest: on a Zen 4 guest, 2026-12-06, a span in about one
// 2-3 s bench case in ten). Benchmarks/pool-burst.c, 100x500x784 products at 2 threads for 3 s, a
// 40 ms burst of 2 ms worker stalls: 0.63-0.87 of the quiet rate with a first span of 1 s,
// 0.91-1.07 with 0.2 s; stalled throughout, 0.98-1.00 of 1 thread either way. The second span's
// second (rather than 0.4 s) keeps a neighbour that stays to one probation more than before:
// `onsager-bench contention`, two alternations with the 1 s build, the stalled rows' 2 ÷ 1 0.933
// and 0.968 (layer norm), 0.996 and 0.989 (mlp-small) against 0.938 and 0.969, 0.958 and 0.945
// (a noisy hour: 0.95-0.96 and 0.97-0.99 in the 1 s build's runs before); the busy neighbour's rows
// 0.98-1.00 either way.
// The REPEAT_NS after a one-thread span are its probation: the pool splits jobs again to see whether
// the contention has gone, and pays for every job it splits while it has not (a stalled worker's
// tasks cost the caller their whole stall). Contention was there a moment ago, so the evidence asked
// for is less: one sign rather than two, and the caller's waits judged over windows of a fifth of
// STALL_WINDOW_NS once they hold two jobs (a window of one job is judged as outside probation,
// so one stretched task, which a quiet guest's host causes too, decides no more than there). Signs counted before the span (a spin's gap as it
// began) are dropped at the first split job after it. Beside a worker stalled 0.5 ms in every
// task every finding, the first and each probation's (every 0.2-4 s), had taken waits of half a
// 50 ms window: 25 ms at least. `onsager-bench contention`, Intel Xeon (Emerald Rapids), the
// stalled rows (layer norm and the small MLP's step), three alternations with a build of the old
// rule (-DPOOL_PROBATION=0): the share of the 2-thread windows their callers spent waiting fell
// from 0.037-0.046 to 0.017-0.020 (the first finding, unchanged, is most of what is left), their
// throughput against 1 thread rose from 0.92-0.97 to 0.97-1.02. Beside one busy process, three
// alternations with the build before (d9582c9): the four cases' 2 ÷ 1 medians 0.95-1.05 against
// 0.92-1.01. (Measured before the two-job rule and the dropped signs.)
#ifndef POOL_PROBATION
#define POOL_PROBATION 1
#endif
static int on_probation(long t) {
    if (!POOL_PROBATION) return 0;
    long ended = atomic_load_explicit(&contended_until, memory_order_relaxed);
    return ended > 0 && t >= ended && t - ended < REPEAT_NS;
}

static int pool_trace = -1;   // ONSAGER_POOL_TRACE set: each one-thread span and its signs on stderr
static void note_job(int slow) {
    long gaps = atomic_exchange(&pending_gaps, 0), signs = slow + gaps;
    if (signs == 0) return;
    long t = now_ns();
    // Already in a span (this job's other rule began it: note_caller_wait follows note_job for
    // the same job): a second sign must not start another, which would count as a repeat.
    if (t < atomic_load_explicit(&contended_until, memory_order_relaxed)) {
        last_sign = t;
        return;
    }
    if (signs >= 2 || t - last_sign < SLOW_WINDOW_NS || on_probation(t)) {
        if (pool_trace < 0) pool_trace = onsager_env_switch("ONSAGER_POOL_TRACE", 0);
        if (pool_trace)
            fprintf(stderr, "onsager pool: one thread from %.3f s: %s%s, %ld gap(s)%s%s\n", t * 1e-9,
                    slow == 2 ? "the caller waited over half a window" : slow ? "a worker's sign" : "no job sign",
                    slow == 1 && !atomic_load(&run_delay_unknown) ? " (it waited for a CPU)" : "", gaps,
                    t - last_sign < SLOW_WINDOW_NS ? ", a sign 50 ms before" : "", on_probation(t) ? ", on probation" : "");
        long ended = atomic_load_explicit(&contended_until, memory_order_relaxed);
        contended_span = t - ended >= REPEAT_NS ? CONTENDED_NS
                         : contended_span * 2 > REPEAT_SPAN_NS ? contended_span * 2 : REPEAT_SPAN_NS;
        if (contended_span > MAX_CONTENDED_NS) contended_span = MAX_CONTENDED_NS;
        long start = atomic_load_explicit(&span_start, memory_order_relaxed);
        atomic_fetch_add_explicit(&past_spans_ns, span_elapsed(start, ended, t), memory_order_relaxed);
        atomic_store_explicit(&span_start, t, memory_order_relaxed);
        atomic_store_explicit(&contended_until, t + contended_span, memory_order_relaxed);
        stall_window_start = -1;   // the caller's waits are judged afresh after the span
    }
    last_sign = t;
}

// After a job that ran from `started` to `ended`, its caller waiting `waited` ns of that for
// running tasks. A window of STALL_WINDOW_NS in which such waits took over half the time is
// contention (see the top of the file).
static void note_caller_wait(long started, long ended, long waited) {
    if (atomic_load_explicit(&worker_delay_us, memory_order_relaxed) > 0) return;   // the test's own delay
    if (ended < atomic_load_explicit(&contended_until, memory_order_relaxed)) {
        stall_window_start = -1;   // this job's other rule began a span: its wait belongs to no window
        return;
    }
    if (stall_window_start < 0 || started - stall_window_start > 4 * STALL_WINDOW_NS) {   // a new window
        stall_window_start = started;                                                 // (or after a lull)
        stall_waited = 0;
        stall_jobs = 0;
    }
    stall_waited += waited;
    stall_jobs++;
    // (A span ends a window: note_job restarts it.)
    // In probation a window of two jobs or more is judged over the shorter span; a single job still
    // decides only as it would outside probation.
    long span = ended - stall_window_start;
    long window = on_probation(started) && stall_jobs >= 2 ? STALL_WINDOW_NS / PROBATION_SHARE : STALL_WINDOW_NS;
    // Waits over half a window already decide the window, whatever follows: decided early, a
    // stalled worker costs half the time before the pool turns to the caller.
    if (span < window && stall_waited * 2 <= window) return;
    int stalled = stall_waited * 2 > span;
    stall_window_start = ended;
    stall_waited = 0;
    stall_jobs = 0;
    if (stalled) note_job(2);
}

// The start of this thread's current wait window (-1: none) and its wait for a CPU then.
static _Thread_local long window_start = -1, window_delay;
#if defined(__linux__) && !defined(ONSAGER_PORTABLE_ONLY)
static _Thread_local int schedstat_fd = -2;   // -2: not opened yet
#endif

// Nanoseconds this thread has spent runnable but waiting for a CPU; NO_SCHEDSTAT where the
// kernel offers no such file, NOT_YET while it shows no CPU time for this thread.
#define NO_SCHEDSTAT (-1L)
#define NOT_YET (-2L)
static long run_delay_ns(void) {
#if defined(__linux__) && !defined(ONSAGER_PORTABLE_ONLY)
    if (schedstat_fd == -2) schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    char buf[96];
    ssize_t n = schedstat_fd >= 0 ? pread(schedstat_fd, buf, sizeof buf - 1, 0) : -1;
    if (n > 0) {   // "<ns on a CPU> <ns waiting for one> <time slices>"
        buf[n] = 0;
        char *end;
        long long oncpu = strtoll(buf, &end, 10);
        if (end == buf) return NO_SCHEDSTAT;
        // A new thread reads "0 0 1" until the kernel first accounts its time (at a tick or a
        // switch). Taken for "no accounting here", that sent the pool to its fallback rule for the
        // life of the process in 18 of 20 runs on a KVM guest (Intel Xeon), where slow tasks are the
        // host's doing, and 2 threads then ran at 1 thread's speed with no neighbour at all.
        return oncpu > 0 ? strtoll(end, 0, 10) : NOT_YET;
    }
#endif
    return NO_SCHEDSTAT;
}

// After a worker task: did this worker wait for a CPU over a share of the window now ending (see
// the top of the file)? A spin that saw this thread descheduled has already counted that as a gap
// and restarted the window (window_start = -1), so one preemption is not two signs.
static void check_worker_wait(long t) {
    if (window_start >= 0 && t - window_start < WAIT_WINDOW_NS) return;
    long delay = run_delay_ns();
    if (delay == NO_SCHEDSTAT) { atomic_store(&run_delay_unknown, 1); return; }
    if (delay == NOT_YET) return;
    if (window_start >= 0 && (delay - window_delay) * WAIT_SHARE > t - window_start) atomic_store(&worker_preempted, 1);
    window_start = t;
    window_delay = delay;
}

// Spins until done() or `budget` ns have passed; false when it gave up. A gap between clock
// reads means this thread was descheduled: that is evidence of contention and ends the spin.
static int spin_until(int (*done)(void), long budget) {
    long start = now_ns(), last = start, contended = atomic_load_explicit(&contended_until, memory_order_relaxed);
    if (last < contended) budget = budget / 20;
    for (;;) {
        for (int i = 0; i < 32; i++) {
            if (done()) return 1;
            CPU_RELAX();
        }
        long t = now_ns();
        if (t - last > PREEMPTED_GAP_NS) {
            atomic_fetch_add(&pending_gaps, 1);
            window_start = -1;
            return done();
        }
        if (t - start > budget) return done();
        last = t;
    }
}

static void signal_caller(void) {
    if (atomic_load(&caller_sleeping)) {
        pthread_mutex_lock(&done_mu);
        pthread_cond_broadcast(&done_cv);
        pthread_mutex_unlock(&done_mu);
    }
}

static long run_tasks(int is_worker) {
    long t, ran = 0;
    while ((t = atomic_fetch_add(&next_task, 1)) < job_ntasks) {
        ran++;
        long us = is_worker ? atomic_load_explicit(&worker_delay_us, memory_order_relaxed) : 0;
        long t0 = is_worker ? now_ns() : 0;
        if (us > 0) usleep((useconds_t)us);
        long stall = is_worker ? atomic_load_explicit(&worker_stall_us, memory_order_relaxed) : 0;
        if (stall > 0) {   // busy, as a vCPU the host has taken away looks from inside the guest
            long until = now_ns() + stall * 1000;
            while (now_ns() < until) CPU_RELAX();
        }
        job_fn(job_ctx, t);
        if (is_worker) {   // the longest task a worker ran in this job, from claim to finish
            long t1 = now_ns(), d = t1 - t0, prev = atomic_load_explicit(&slowest_worker_task, memory_order_relaxed);
            while (d > prev && !atomic_compare_exchange_weak_explicit(&slowest_worker_task, &prev, d, memory_order_relaxed, memory_order_relaxed)) {}
            check_worker_wait(t1);
        }
        if (atomic_fetch_add(&done_tasks, 1) == job_ntasks - 1 && is_worker) signal_caller();
    }
    return ran;
}

static _Thread_local long wait_seen;
static int generation_changed(void) { return atomic_load(&generation) != wait_seen; }

static void *worker_main(void *arg) {
    int id = (int)(intptr_t)arg;
    long seen = 0;
    in_parallel = 1;
    if (run_delay_ns() == NO_SCHEDSTAT) atomic_store(&run_delay_unknown, 1);   // the fallback rule from the start
    for (;;) {
        wait_seen = seen;
        // Spin briefly: ops come in quick succession during training, and a futex wake costs
        // several microseconds. Then sleep, so an idle or crowded pool takes no CPU time.
        if (!spin_until(generation_changed, SPIN_NS)) {
            pthread_mutex_lock(&wake_mu);
            atomic_fetch_add(&sleepers, 1);
            while (atomic_load(&generation) == seen) pthread_cond_wait(&wake_cv, &wake_mu);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&wake_mu);
        }
        long g = atomic_load(&generation);
        seen = g;
        if (id >= job_nworkers) continue;
        atomic_fetch_add(&entered, 1);
        // Enter only the job of generation g, while it is open; a late worker leaves untouched.
        if (atomic_load(&job_open) && atomic_load(&generation) == g) {
            onsager_set_thread_isa(job_isa);
            onsager_force_gemm_tuning(job_gemm_tuning);
            run_tasks(1);
        }
        if (atomic_fetch_sub(&entered, 1) == 1) signal_caller();
    }
    return NULL;
}

static int all_tasks_done(void) { return atomic_load(&done_tasks) >= job_ntasks; }
static int no_worker_inside(void) { return atomic_load(&entered) == 0; }

// The caller's wait: spin, then sleep until `done` holds.
static void caller_wait(int (*done)(void)) {
    if (spin_until(done, CALLER_SPIN_NS)) return;
    atomic_store(&caller_sleeping, 1);
    pthread_mutex_lock(&done_mu);
    while (!done()) pthread_cond_wait(&done_cv, &done_mu);
    pthread_mutex_unlock(&done_mu);
    atomic_store(&caller_sleeping, 0);
}

int onsager_pool_contended(void) {
    return atomic_load_explicit(&contention_detection, memory_order_relaxed) &&
           now_ns() < atomic_load_explicit(&contended_until, memory_order_relaxed);
}
int onsager_pool_reads_cpu_wait(void) { return !atomic_load(&run_delay_unknown); }
void onsager_set_contention_detection(int on) { atomic_store(&contention_detection, on != 0); }
int onsager_get_contention_detection(void) { return atomic_load(&contention_detection); }

void onsager_set_worker_delay(long microseconds) {
    atomic_store(&worker_delay_us, microseconds > 0 ? microseconds : 0);
}

void onsager_set_worker_stall(long microseconds) {
    atomic_store(&worker_stall_us, microseconds > 0 ? microseconds : 0);
}

void onsager_pool_clear_contention(void) {
    pthread_mutex_lock(&pool_lock);
    long t = now_ns();
    atomic_fetch_add(&past_spans_ns, span_elapsed(atomic_load(&span_start), atomic_load(&contended_until), t));
    atomic_store(&span_start, t);
    atomic_store(&contended_until, 0);
    atomic_store(&pending_gaps, 0);
    last_sign = NO_SIGN;
    stall_window_start = -1;
    stall_waited = 0;
    stall_jobs = 0;
    contended_span = CONTENDED_NS;
    pthread_mutex_unlock(&pool_lock);
}

void onsager_pool_totals(long *split_jobs, long *caller_wait_ns, long *one_thread_ns) {
    if (split_jobs) *split_jobs = atomic_load_explicit(&total_split_jobs, memory_order_relaxed);
    if (caller_wait_ns) *caller_wait_ns = atomic_load_explicit(&total_caller_wait, memory_order_relaxed);
    if (one_thread_ns) {
        *one_thread_ns = atomic_load_explicit(&past_spans_ns, memory_order_relaxed) +
                         span_elapsed(atomic_load_explicit(&span_start, memory_order_relaxed),
                                      atomic_load_explicit(&contended_until, memory_order_relaxed), now_ns());
    }
}

long onsager_pool_span_jobs(void) { return atomic_load_explicit(&span_jobs, memory_order_relaxed); }

long onsager_get_worker_delay(void) { return atomic_load(&worker_delay_us); }

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

int onsager_pool_items_as_tasks(long count) {
    // Four or more per thread: whole items balance within a quarter of one, with no fork-join
    // inside each. Measured on Zen 4, 2 threads, against splitting each item: order-4 fields of 100
    // particles 1.17x, cnn-step's 64 images 1.17x, EMF's batched products 1.07-1.52x.
    int nt = onsager_get_num_threads();
    return nt > 1 && count >= 4L * nt;
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
    // Asked under the lock, which note_job holds when it starts a span: a job split now cannot
    // begin inside one.
    if (onsager_pool_contended()) {
        pthread_mutex_unlock(&pool_lock);
        atomic_fetch_add_explicit(&span_jobs, 1, memory_order_relaxed);
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
    // Gaps spun before a span are no evidence for the probation after it.
    if (last_split_end < atomic_load_explicit(&contended_until, memory_order_relaxed)) atomic_store(&pending_gaps, 0);
    job_fn = fn; job_ctx = ctx; job_ntasks = ntasks; job_nworkers = nworkers;
    job_isa = onsager_isa_level();
    job_gemm_tuning = onsager_gemm_tuning();
    atomic_store(&next_task, 0);
    atomic_store(&done_tasks, 0);
    atomic_store(&slowest_worker_task, 0);
    atomic_store(&worker_preempted, 0);
    atomic_store(&job_open, 1);
    atomic_fetch_add(&generation, 1);
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&wake_mu);
        pthread_cond_broadcast(&wake_cv);
        pthread_mutex_unlock(&wake_mu);
    }
    in_parallel = 1;
    long started = now_ns();
    long mine = run_tasks(0);
    long finished = now_ns();
    in_parallel = 0;
    caller_wait(all_tasks_done);
    long ended = now_ns(), waited = ended - finished;
    atomic_fetch_add_explicit(&total_split_jobs, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&total_caller_wait, waited, memory_order_relaxed);
    // Without schedstat: a worker task that took much longer than ours (4×, or 2 ms more: a time
    // slice; from its claim to its end, so a worker that merely woke late does not count) means
    // that worker was descheduled mid-task, or shares its core with another process.
    long per_task = mine > 0 ? (finished - started) / mine : 0, slowest = atomic_load(&slowest_worker_task);
    int sign = atomic_load(&run_delay_unknown)
                   ? mine > 0 && ((slowest > 200000 && slowest > 4 * per_task) || slowest - per_task > 2000000)
                   : atomic_load(&worker_preempted);
    note_job(atomic_load(&worker_delay_us) == 0 && sign);
    note_caller_wait(started, ended, waited);
    last_split_end = ended;
    atomic_store(&job_open, 0);
    caller_wait(no_worker_inside);
    pthread_mutex_unlock(&pool_lock);
}
