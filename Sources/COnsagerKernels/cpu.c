// Run-time ISA detection. The kernels are compiled for three targets with function attributes,
// so the baseline build (SSE2) still carries the AVX-512 and AVX2 code.
#include "onsager_kernels.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int onsager_parse_switch(const char *value) {
    if (!value || !value[0]) return -1;
    static const char *const off[] = {"0", "off", "false", "no"}, *const on[] = {"1", "on", "true", "yes"};
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(value, off[i])) return 0;
        if (!strcasecmp(value, on[i])) return 1;
    }
    return -2;
}

int onsager_env_switch(const char *name, int fallback) {
    const char *value = getenv(name);
    int s = onsager_parse_switch(value);
    if (s == -2) {   // said at start: every caller caches the result (two racing first reads may both say it)
        fprintf(stderr, "onsager: %s=%s is not 0 or 1 (nor off/on, false/true, no/yes); the default applies\n", name, value);
        return fallback;
    }
    return s < 0 ? fallback : s;
}

int onsager_parse_isa(const char *value) {
    if (!value || !value[0]) return -1;
    if (!strcasecmp(value, "avx512")) return 2;
    if (!strcasecmp(value, "avx2")) return 1;
    if (!strcasecmp(value, "portable")) return 0;
    return -2;
}

static _Atomic int isa_level = -1;
// A per-thread cap (tests and benchmarks compare instruction sets without changing what other
// threads compute); the pool's workers adopt the dispatching thread's level for each job.
static _Thread_local int isa_override = -1;

static int detect(void) {
#if defined(__x86_64__) && defined(__clang__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("fma"))
        return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

int onsager_isa_level(void) {
    if (isa_override >= 0) return isa_override;
    int l = atomic_load_explicit(&isa_level, memory_order_relaxed);
    if (l >= 0) return l;
    l = detect();
    const char *env = getenv("ONSAGER_ISA");   // "avx512", "avx2" or "portable": cap, never raise
    int cap = onsager_parse_isa(env);
    if (cap == -2) fprintf(stderr, "onsager: ONSAGER_ISA=%s is not avx512, avx2 or portable; not capped\n", env);
    else if (cap >= 0 && cap < l) l = cap;
    int unset = -1;   // a thread that got here first has said it (and warned) already
    return atomic_compare_exchange_strong(&isa_level, &unset, l) ? l : unset;
}

int onsager_force_isa_level(int level) {
    isa_override = -1;
    int hw = onsager_isa_level();          // detected level, capped by ONSAGER_ISA
    if (level > hw) level = hw;
    if (level < 0) level = 0;
    isa_override = level == hw ? -1 : level;
    return level;
}

void onsager_set_thread_isa(int level) { isa_override = level; }

// The GEMM's blocking family. AVX-512 Float has two tunings of one kernel (gemm.c): the general one,
// measured on AMD Zen 4 and Zen 5, and Intel's, with shallower K blocks for its L1/L2 balance.
static _Atomic int gemm_tuning = -1;
static _Thread_local int gemm_tuning_override = -1;

static int detect_gemm_tuning(void) {
#if defined(__x86_64__) && defined(__clang__)
    __builtin_cpu_init();
    if (__builtin_cpu_is("intel")) return ONSAGER_GEMM_TUNING_INTEL;
#endif
    return ONSAGER_GEMM_TUNING_GENERAL;
}

int onsager_gemm_tuning(void) {
    if (gemm_tuning_override >= 0) return gemm_tuning_override;
    int t = atomic_load_explicit(&gemm_tuning, memory_order_relaxed);
    if (t >= 0) return t;
    t = detect_gemm_tuning();
    atomic_store(&gemm_tuning, t);
    return t;
}

void onsager_force_gemm_tuning(int tuning) {
    gemm_tuning_override = tuning == ONSAGER_GEMM_TUNING_GENERAL || tuning == ONSAGER_GEMM_TUNING_INTEL ? tuning : -1;
}

const char *onsager_isa_name(void) {
    switch (onsager_isa_level()) {
    case 2: return "avx512";
    case 1: return "avx2";
    default: return "portable";
    }
}

// A cache's size from the C library (sysconf `name`, -1 where it has none), read once into
// `cached`; outside lo ... hi (unknown, 0, or a misread) the fallback.
static long cache_bytes(_Atomic long *cached, int name, long lo, long hi, long fallback) {
    long bytes = atomic_load_explicit(cached, memory_order_relaxed);
    if (bytes > 0) return bytes;
    bytes = name >= 0 ? sysconf(name) : 0;
    if (bytes < lo || bytes > hi) bytes = fallback;
    atomic_store_explicit(cached, bytes, memory_order_relaxed);
    return bytes;
}

#if defined(_SC_LEVEL2_CACHE_SIZE) && !defined(ONSAGER_PORTABLE_ONLY)
#define L2_NAME _SC_LEVEL2_CACHE_SIZE
#else
#define L2_NAME (-1)
#endif
#if defined(_SC_LEVEL1_DCACHE_SIZE) && !defined(ONSAGER_PORTABLE_ONLY)
#define L1_NAME _SC_LEVEL1_DCACHE_SIZE
#else
#define L1_NAME (-1)
#endif

// Unknown or implausible: the 1 MiB of Zen 4 and many Xeons. A test may have the calling thread
// plan as if L2 were another size (onsager_force_l2_cache_bytes), to reach the paths another
// CPU's caches choose. The GEMM's split and packing plans never change a bit of the result; the
// cut-off of narrow products' dot path (gemm.c, N·K within half of L2) does.
static _Thread_local long l2_override = 0;
long onsager_l2_cache_bytes(void) {
    if (l2_override > 0) return l2_override;
    static _Atomic long cached = 0;
    return cache_bytes(&cached, L2_NAME, 64 << 10, 64L << 20, 1 << 20);
}

void onsager_force_l2_cache_bytes(long bytes) { l2_override = bytes > 0 ? bytes : 0; }

// Unknown or implausible: 32 KiB, the smallest of the x86 cores here.
long onsager_l1_cache_bytes(void) {
    static _Atomic long cached = 0;
    return cache_bytes(&cached, L1_NAME, 16 << 10, 1 << 20, 32 << 10);
}
