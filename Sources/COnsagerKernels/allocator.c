// Tensor buffers: how they are allocated, and the process-wide malloc settings that keep large
// ones cheap to reuse and backed by 2 MiB pages.
#include "onsager_kernels.h"
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#if defined(__GLIBC__) && !defined(ONSAGER_PORTABLE_ONLY)
#include <malloc.h>
#endif
#if defined(__linux__) && defined(__GLIBC__) && !defined(ONSAGER_PORTABLE_ONLY)
#include <sys/mman.h>
#include <unistd.h>
#define HEAP_HUGE_PAGES 1
#endif

#if defined(HEAP_HUGE_PAGES) && defined(MADV_HUGEPAGE)
// The end of the main heap already advised to use transparent huge pages; 0 while off.
static _Atomic uintptr_t heap_advised_end;
#define ARENA_HEAP_BYTES ((uintptr_t)64 << 20)
#define DIRECT_MAP_BYTES ((size_t)32 << 20)
#define OTHER_ARENA_BYTES ((size_t)1 << 20)
static uintptr_t main_heap_start;   // the main heap's first byte ([heap] in /proc/self/maps)
static pthread_mutex_t advice_lock = PTHREAD_MUTEX_INITIALIZER;

// The start of the main heap, from /proc/self/maps; `fallback` (the current break) without one.
static uintptr_t find_main_heap_start(uintptr_t fallback) {
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps) return fallback;
    char line[512];
    uintptr_t start = fallback;
    while (fgets(line, sizeof line, maps)) {
        if (strstr(line, "[heap]")) {
            unsigned long from = 0;
            if (sscanf(line, "%lx-", &from) == 1) start = (uintptr_t)from;
            break;
        }
    }
    fclose(maps);
    return start;
}
#endif

// Tensor buffers of a few MB are allocated and freed every training step. glibc hands out blocks
// above 128 KiB with mmap and unmaps them on free, so each step page-faults its buffers anew;
// a higher threshold keeps them in the heap for reuse (what PyTorch's caching allocator achieves).
// Those freed buffers leave a large top chunk, and glibc then merges every freed small block that
// borders it and, the merged block being over 64 KiB, consolidates all fastbins on each such free:
// measured 12 % of a tiny op's time after one large GEMM (2.7 µs instead of 2.0 for add + sum +
// backward). Without fastbins (tcache still caches small blocks per thread) that cost is gone.
// mallopt is a glibc extension: elsewhere (macOS, musl) this does nothing.
//
// Huge pages: heap memory from here on is advised MADV_HUGEPAGE (see advise_for), so
// that products reading across many rows, the batch gather and the optimizer's passes miss the
// TLB 512 times less often. ONSAGER_HUGE_PAGES=0 turns this off.
void onsager_tune_allocator(void) {
#if defined(__GLIBC__) && !defined(ONSAGER_PORTABLE_ONLY) && defined(M_MMAP_THRESHOLD)
    static int done = 0;
    if (done) return;
    done = 1;
    // Older glibc refuses thresholds above HEAP_MAX_SIZE / 2 (32 MiB on 64-bit): then the
    // largest it accepts, rather than the 128 KiB default pinned by M_TRIM_THRESHOLD below.
    if (!mallopt(M_MMAP_THRESHOLD, 256 << 20)) mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
#if defined(M_MXFAST)
    mallopt(M_MXFAST, 0);
#endif
#if defined(HEAP_HUGE_PAGES) && defined(MADV_HUGEPAGE)
    const char *env = getenv("ONSAGER_HUGE_PAGES");
    if (!(env && strcmp(env, "0") == 0)) {
        // The heap grows 16 MiB beyond each request (128 KiB by default): malloc writes a chunk
        // header into the new memory before it can be advised, and the 2 MiB range holding that
        // header keeps small pages; with larger steps that is one range in eight or more.
        mallopt(M_TOP_PAD, 16 << 20);
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), brk = (uintptr_t)sbrk(0);
        if (brk != (uintptr_t)-1) {
            main_heap_start = find_main_heap_start(brk);
            atomic_store(&heap_advised_end, (brk + page - 1) & ~(page - 1));
        }
    }
#endif
#endif
}

// glibc's own `glibc.malloc.hugetlb=1` tunable advises each new piece of heap as it is taken,
// but a tunable is read at process start, which a library does not control. Advice must come
// before a 2 MiB range is first touched (a range with one small page mapped keeps small pages
// until the kernel's background collapse gets to it), so memory is advised ahead of use:
// - the main thread's heap: after each buffer allocation of 64 KiB or more (smaller ones seldom
//   grow the heap, and a tiny op's buffers should not pay even this check), its end is compared
//   with the end already advised (sbrk(0) reads a variable, no system call) and the new part,
//   with its 16 MiB of padding, advised in one madvise;
// - another thread's arena: glibc carves it out of heaps of 64 MiB aligned to 64 MiB, reserved
//   whole at creation and made writable as they grow; the buffer's whole heap is advised after
//   each allocation of 1 MiB or more there (0.4 µs when already advised: Zen 4, 6.18 kernel;
//   remembering advised heaps instead went wrong when glibc unmapped a heap and mapped a new
//   one at the same address);
// - a buffer of 32 MiB or more outside the main heap (glibc may map those apart): its pages.
// Page faults in advised memory then map 2 MiB pages where free ones exist (otherwise small
// pages, as before); freed buffers go back to malloc and are reused with their pages.
#if defined(HEAP_HUGE_PAGES) && defined(MADV_HUGEPAGE)

// madvise over whole pages; 0, or 1 when the kernel has no transparent huge pages (EINVAL).
static int advise_range(uintptr_t from, uintptr_t to) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    from &= ~(page - 1);
    to = (to + page - 1) & ~(page - 1);
    return madvise((void *)from, to - from, MADV_HUGEPAGE) != 0 && errno == EINVAL;
}

static void advise_for(const char *raw, size_t bytes) {
    uintptr_t done = atomic_load_explicit(&heap_advised_end, memory_order_relaxed);
    if (done == 0) return;
    uintptr_t at = (uintptr_t)raw, end = (uintptr_t)sbrk(0);
    if (end == (uintptr_t)-1) return;
    if (at >= main_heap_start && at < end) {   // the main heap
        if (end == done) return;
        pthread_mutex_lock(&advice_lock);
        done = atomic_load(&heap_advised_end);
        // Grown: advise the new part. Trimmed (over 512 MiB free at the top): what grows back
        // is new memory, to be advised from the lower end.
        if (done != 0 && end != done) atomic_store(&heap_advised_end, end > done && advise_range(done, end) ? 0 : end);
        pthread_mutex_unlock(&advice_lock);
        return;
    }
    if (bytes >= DIRECT_MAP_BYTES) {
        if (advise_range(at, at + bytes)) atomic_store(&heap_advised_end, 0);
    } else if (bytes >= OTHER_ARENA_BYTES) {
        uintptr_t base = at & ~(ARENA_HEAP_BYTES - 1);
        if (advise_range(base, base + ARENA_HEAP_BYTES)) atomic_store(&heap_advised_end, 0);
    }
}
#endif

// Tensor buffers: 64-byte aligned blocks carved out of plain malloc (64 bytes more; the caller
// keeps the block for onsager_buffer_release). glibc's aligned allocation (posix_memalign) takes
// no block from the per-thread cache (tcache) before glibc 2.38, and since then only blocks that
// happen to be aligned, and splits chunks under the arena lock; plain malloc and free of small
// blocks stay in that cache: a tiny op plus backward went from 1.79–1.89 to 1.65–1.71 µs (Zen 4,
// alternating builds). NULL when out of memory.
void *onsager_buffer_allocate(size_t bytes, void **block) {
    if (bytes > (size_t)-1 - 64) return *block = NULL;
    char *raw = (char *)malloc(bytes + 64);
    *block = raw;
    if (!raw) return NULL;
#if defined(HEAP_HUGE_PAGES) && defined(MADV_HUGEPAGE)
    if (bytes >= 65536) advise_for(raw, bytes);
#endif
    return raw + (64 - ((uintptr_t)raw & 63));
}
void onsager_buffer_release(void *block) { free(block); }
