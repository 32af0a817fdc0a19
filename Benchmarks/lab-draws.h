// What the skip labs share (skip-zeros-lab.c, sparse-product-lab.c): a seeded xorshift draw in
// [0, 1), the same sequence in every run, and a monotonic clock in seconds.
#ifndef ONSAGER_LAB_DRAWS_H
#define ONSAGER_LAB_DRAWS_H
#include <time.h>

static unsigned long long lab_state = 88172645463325252ULL;
static double draw(void) {
    lab_state ^= lab_state << 13;
    lab_state ^= lab_state >> 7;
    lab_state ^= lab_state << 17;
    return (double)(lab_state >> 11) * (1.0 / 9007199254740992.0);
}
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
#endif
