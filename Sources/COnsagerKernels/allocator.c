// Tensor buffers: how they are allocated, and the process-wide malloc settings that keep large
// ones cheap to reuse and on huge pages.
#include "onsager_kernels.h"
#include <stdint.h>
#include <stdlib.h>

#if defined(__GLIBC__) && !defined(ONSAGER_PORTABLE_ONLY)
#include <malloc.h>
#endif
// Huge-page advice: Linux with glibc's malloc, 64-bit (glibc's heap layout below is that of
// 64-bit builds).
#if defined(__linux__) && defined(__GLIBC__) && !defined(ONSAGER_PORTABLE_ONLY) && UINTPTR_MAX > 0xffffffffu
#include <sys/mman.h>
#if defined(MADV_HUGEPAGE) && defined(M_TOP_PAD)
#define THP_ADVICE 1
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
static _Atomic int thp_advice;                  // 1 while advising
static _Atomic uintptr_t heap_advice_start;     // the lowest program break seen since advice began
static _Atomic uintptr_t heap_advised_end;      // the break up to which the main heap is advised
#endif
#endif

// The kernels' scratch buffers (templates/packed_products.h): the test hook that fails them.
_Thread_local long onsager_scratch_failure_countdown = -1;
void onsager_fail_scratch_reservation(long n) { onsager_scratch_failure_countdown = n < 0 ? -1 : n; }
long onsager_scratch_reservations_left(void) { return onsager_scratch_failure_countdown; }

// Tensor buffers of a few MB are allocated and freed every training step. glibc hands out blocks
// above 128 KiB with mmap and unmaps them on free, so each step page-faults its buffers anew;
// a higher threshold keeps them in the heap for reuse (what PyTorch's caching allocator achieves).
// Those freed buffers leave a large top chunk, and glibc then merges every freed small block that
// borders it and, the merged block being over 64 KiB, consolidates all fastbins on each such free:
// measured 12 % of a tiny op's time after one large GEMM (2.7 µs instead of 2.0 for add + sum +
// backward). Without fastbins (tcache still caches small blocks per thread) that cost is gone.
// mallopt is a glibc extension: elsewhere (macOS, musl) this does nothing.
//
// Huge pages: tensor memory is advised MADV_HUGEPAGE from here on (see advise_for), so that
// products reading across many rows, the batch gather and the optimizer's passes miss the TLB
// less often (a huge page, 2 MiB on x86-64, covers 512 small ones). 64-bit only. Not when
// ONSAGER_HUGE_PAGES=0; not when the process's malloc is not glibc's (a preloaded jemalloc or
// tcmalloc has its own layout and policy, and defines __libc_malloc too, so the symbols are
// compared through the dynamic linker; a static executable, where it cannot tell, goes without);
// not when glibc's own `glibc.malloc.hugetlb` tunable is set to anything but 0 (glibc then
// advises itself, or uses reserved huge pages and smaller heaps) or memory tagging is (a tagged
// pointer's header read would fault).
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
#if defined(THP_ADVICE)
    const char *off = getenv("ONSAGER_HUGE_PAGES"), *tunables = getenv("GLIBC_TUNABLES");
    const char *hugetlb = tunables ? strstr(tunables, "glibc.malloc.hugetlb=") : NULL;
    if ((off && strcmp(off, "0") == 0) || (hugetlb && hugetlb[21] != '0') ||
        (tunables && strstr(tunables, "glibc.mem.tagging")))
        return;
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    void *process_malloc = dlsym(RTLD_DEFAULT, "malloc"), *glibc_malloc = libc ? dlsym(libc, "malloc") : NULL;
    if (libc) dlclose(libc);
    if (!process_malloc || process_malloc != glibc_malloc) return;
    uintptr_t brk = (uintptr_t)sbrk(0);
    if (brk == (uintptr_t)-1) return;
    // The heap grows 16 MiB beyond each request (128 KiB by default): malloc writes a chunk
    // header into the new memory before it can be advised, and the 2 MiB range holding that
    // header keeps small pages; with larger steps that is one range in eight or more.
    mallopt(M_TOP_PAD, 16 << 20);
    atomic_store(&heap_advice_start, brk);   // advise_range rounds to pages
    atomic_store(&heap_advised_end, brk);
    atomic_store(&thp_advice, 1);
#endif
#endif
}

// glibc's own `glibc.malloc.hugetlb=1` tunable advises each new piece of heap as it is taken,
// but a tunable is read at process start, which a library does not control. Advice must come
// before a 2 MiB range is first touched (a range with one small page mapped keeps small pages
// until the kernel's background collapse gets to it), so memory is advised ahead of use. After
// each buffer allocation of 64 KiB or more (a tiny op's buffers should not pay even this check),
// glibc's chunk header says where the buffer lies:
// - the main arena's heap (the program break): when the break has moved since the last look
//   (sbrk(0) reads a variable, no system call), the heap from where advice began to the break
//   is advised in one madvise, its 16 MiB of padding included (and whatever another library
//   took with sbrk in between); a heap grown by other allocations is advised at the next
//   buffer. Advising all of it, not only the new part, also covers memory that was trimmed
//   (over 512 MiB free at the top, which only freeing a large buffer can leave: its release
//   notes the lower break) and has grown back;
// - another thread's arena (usually one per thread): glibc carves it out of heaps of 64 MiB
//   aligned to 64 MiB, reserved whole at creation and made writable as they grow; the buffer's
//   whole heap is advised after each allocation of 1 MiB or more there (0.4 µs when already
//   advised, Zen 4 and Linux 6.18, but the kernel takes its memory-map lock for writing; a table
//   of advised heaps instead went wrong when glibc unmapped a heap and mapped a new one at the
//   same address), so smaller buffers there are covered once a large one has been;
// - a buffer with a mapping of its own (over the mmap threshold, or where the heap could not
//   grow): its pages.
// Page faults in advised memory then map huge pages where free ones exist (otherwise small
// pages, as before); freed buffers go back to malloc and are reused with their pages. Races
// between threads only repeat an madvise; errno is left as malloc left it.
#if defined(THP_ADVICE)
#define ADVISED_MIN_BYTES ((size_t)65536)        // smaller buffers are not looked at
#define ARENA_HEAP_BYTES ((uintptr_t)64 << 20)   // glibc's HEAP_MAX_SIZE on 64-bit
#define OTHER_ARENA_BYTES ((size_t)1 << 20)
#define CHUNK_IS_MMAPPED 2                        // bits of glibc's chunk size field
#define CHUNK_NON_MAIN_ARENA 4

// madvise over whole pages; turns the advice off when the kernel has no transparent huge pages.
static void advise_range(uintptr_t from, uintptr_t to) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    from &= ~(page - 1);
    to = (to + page - 1) & ~(page - 1);
    if (madvise((void *)from, to - from, MADV_HUGEPAGE) != 0 && errno == EINVAL) atomic_store(&thp_advice, 0);
}

static void advise_for(const char *raw, size_t bytes) {
    if (!atomic_load_explicit(&thp_advice, memory_order_relaxed)) return;
    int saved_errno = errno;
    // The chunk's size field lies just before what malloc returned, outside the object as the
    // compiler sees it; the empty asm hides where the address came from, or the read would be
    // undefined and the optimiser free to drop it (it did: no buffer was advised).
    uintptr_t at = (uintptr_t)raw;
    __asm__("" : "+r"(at));
    size_t head = ((const size_t *)at)[-1];
    if (head & CHUNK_IS_MMAPPED) {
        advise_range(at, at + bytes + 64);
    } else if (head & CHUNK_NON_MAIN_ARENA) {
        if (bytes >= OTHER_ARENA_BYTES) {
            uintptr_t base = at & ~(ARENA_HEAP_BYTES - 1);
            advise_range(base, base + ARENA_HEAP_BYTES);
        }
    } else {   // the main arena
        uintptr_t end = (uintptr_t)sbrk(0);
        if (end == (uintptr_t)-1 || at >= end) {   // beyond the break: mapped when it could not move
            advise_range(at, at + bytes + 64);
        } else if (end != atomic_load_explicit(&heap_advised_end, memory_order_relaxed)) {
            uintptr_t start = atomic_load(&heap_advice_start);
            if (end < start) atomic_store(&heap_advice_start, start = end);
            if (end > start) advise_range(start, end);
            atomic_store(&heap_advised_end, end);
        }
    }
    errno = saved_errno;
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
#if defined(THP_ADVICE)
    if (bytes >= ADVISED_MIN_BYTES) advise_for(raw, bytes);
#endif
    return raw + (64 - ((uintptr_t)raw & 63));
}
void onsager_buffer_release(void *block, size_t bytes) {
    free(block);
#if defined(THP_ADVICE)
    // A trim lowers the break inside free; what grows back is new memory, which the next buffer
    // must advise even if the break returns to exactly where it was advised up to.
    if (bytes >= ADVISED_MIN_BYTES && atomic_load_explicit(&thp_advice, memory_order_relaxed)) {
        uintptr_t end = (uintptr_t)sbrk(0);
        if (end != (uintptr_t)-1 && end < atomic_load_explicit(&heap_advised_end, memory_order_relaxed))
            atomic_store(&heap_advised_end, end);
    }
#else
    (void)bytes;
#endif
}
