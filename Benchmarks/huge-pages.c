// Which tensor buffers end up in memory advised for transparent huge pages (allocator.c), on the
// main thread's heap, which the package's tests cannot reach (their threads usually use other
// malloc arenas), and after the heap was trimmed and grew back. Allocates buffers of an RBM epoch's and an MLP step's sizes through
// onsager_buffer_allocate, writes them, and prints for each the mapping holding its middle,
// whether that is advised ("hg" among its VmFlags) and its AnonHugePages; exits 1 when a buffer
// of 64 KiB or more lies in memory not advised (unless ONSAGER_HUGE_PAGES=0, when it expects
// none advised).
// Build and run (Benchmarks/build-labs.sh does both):
//   K=Sources/COnsagerKernels
//   clang -O2 -D_GNU_SOURCE -I$K/include Benchmarks/huge-pages.c $K/allocator.c -o /tmp/huge-pages && /tmp/huge-pages
#include "onsager_kernels.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The VmFlags and AnonHugePages (kB) of the mapping holding `at`; 0 when none does.
static int mapping_of(uintptr_t at, char *flags, size_t flags_size, long *huge_kb, char *range) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return 0;
    char line[1024];
    int inside = 0, found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {   // a mapping's first line
            inside = lo <= at && at < hi;
            if (inside) snprintf(range, 64, "%lx-%lx", lo, hi);
        } else if (inside && strncmp(line, "AnonHugePages:", 14) == 0) {
            *huge_kb = strtol(line + 14, NULL, 10);
        } else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            snprintf(flags, flags_size, "%s", line + 8);
            flags[strcspn(flags, "\n")] = 0;
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}

// Prints the row of a buffer (the mapping holding its middle: the first buffer may begin in heap
// that existed before the advice began) and returns 1 when it is advised or not against what
// `off` expects.
static int report(const char *buf, size_t bytes, const char *note, int off) {
    char flags[256] = "", range[64] = "?";
    long huge_kb = 0;
    if (!mapping_of((uintptr_t)buf + bytes / 2, flags, sizeof flags, &huge_kb, range)) {
        printf("%12zu  no mapping found %s\n", bytes, note);
        return 1;
    }
    int advised = strstr(flags, " hg") != NULL;
    printf("%12zu  %-28s %-8s %8ld kB  %s\n", bytes, range, advised ? "yes" : "no", huge_kb, note);
    return advised == off;
}

int main(void) {
    const char *env = getenv("ONSAGER_HUGE_PAGES"), *tunables = getenv("GLIBC_TUNABLES");
    int off = env && strcmp(env, "0") == 0;
    const char *hugetlb = tunables ? strstr(tunables, "glibc.malloc.hugetlb=") : NULL;
    if (hugetlb && hugetlb[21] != '0') {
        printf("huge-pages: GLIBC_TUNABLES sets glibc.malloc.hugetlb, so glibc advises and the package does not; nothing to check\n");
        return 0;
    }
    FILE *thp = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!thp) {
        printf("huge-pages: this kernel has no transparent huge pages; nothing to check\n");
        return 0;
    }
    fclose(thp);
    onsager_tune_allocator();
    // An RBM epoch on 10,000 MNIST rows (data set, weights, their gradient, batch fields) and an
    // MLP step's first layer; then more than the heap's 16 MiB padding, so that it grows twice.
    const size_t sizes[] = {31360000, 1568000, 1568000, 313600, 200000, 400000, 627200, 80000, 6272000, 24000000, 1000};
    const int n = sizeof sizes / sizeof sizes[0];
    void *blocks[16];
    int bad = 0;
    char *bufs[16];
    // First, while the heap is small: a buffer over the mmap threshold (256 MiB) gets a mapping of
    // its own (not written). Later, the freed heap's top could hold it.
    {
        void *block;
        char *big = onsager_buffer_allocate((size_t)300 << 20, &block);
        if (!big) { fprintf(stderr, "huge-pages: out of memory\n"); return 2; }
        printf("%12s  %-28s %-8s %11s  %s\n", "bytes", "mapping", "advised", "AnonHuge", "");
        bad |= report(big, (size_t)300 << 20, "(a mapping of its own)", off);
        onsager_buffer_release(block, (size_t)300 << 20);
    }
    for (int i = 0; i < n; i++) {
        bufs[i] = onsager_buffer_allocate(sizes[i], &blocks[i]);
        if (!bufs[i]) { fprintf(stderr, "huge-pages: out of memory\n"); return 2; }
        memset(bufs[i], 1, sizes[i]);
    }
    for (int i = 0; i < n; i++)
        if (report(bufs[i], sizes[i], "", off) && sizes[i] >= 65536) bad = 1;
    for (int i = 0; i < n; i++) onsager_buffer_release(blocks[i], sizes[i]);
    // Trimmed and grown back: three buffers of 200 MiB (not written: the flags are the check)
    // freed leave over 512 MiB free at the top, which glibc returns; the three made again lie
    // in memory mapped anew, which must be advised too.
    // The trim happens inside free; the second round first takes the break back up with plain
    // mallocs the package never sees. (Where the break returns to exactly the value last advised,
    // only the release's note of the lower break triggers the advice; these sizes do not land
    // there, so that path is not checked here.)
    uintptr_t before_trim = 0;
    for (int round = 0; round < 2; round++) {
        void *plain[2] = {NULL, NULL};
        if (round == 1) {
            if ((uintptr_t)sbrk(0) >= before_trim) { fprintf(stderr, "huge-pages: the heap was not trimmed; the check below would prove nothing\n"); bad = 1; }
            for (int i = 0; i < 2; i++) plain[i] = malloc((size_t)200 << 20);
        }
        for (int i = 0; i < 3; i++) {
            bufs[i] = onsager_buffer_allocate((size_t)200 << 20, &blocks[i]);
            if (!bufs[i]) { fprintf(stderr, "huge-pages: out of memory\n"); return 2; }
        }
        if (round == 0) before_trim = (uintptr_t)sbrk(0);
        for (int i = 0; round == 1 && i < 3; i++) bad |= report(bufs[i], (size_t)200 << 20, "(grown back after a trim)", off);
        for (int i = 0; i < 3; i++) onsager_buffer_release(blocks[i], (size_t)200 << 20);
        for (int i = 0; i < 2; i++) free(plain[i]);
    }
    if (bad) fprintf(stderr, "huge-pages: a buffer of 64 KiB or more is %s\n", off ? "advised though ONSAGER_HUGE_PAGES=0" : "in memory not advised for huge pages");
    return bad;
}
