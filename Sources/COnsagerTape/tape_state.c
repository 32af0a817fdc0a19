#include "onsager_tape.h"
#include <stdatomic.h>

static _Thread_local int grad_disabled = 0;
int onsager_grad_enabled(void) { return !grad_disabled; }
int onsager_set_grad_enabled(int enabled) {
    int prev = !grad_disabled;
    grad_disabled = !enabled;
    return prev;
}

static _Atomic uint64_t stamp_counter = 1;
uint64_t onsager_next_stamp(void) { return atomic_fetch_add(&stamp_counter, 1); }

static _Thread_local int anomaly_on = 0;
int onsager_anomaly_enabled(void) { return anomaly_on; }
int onsager_set_anomaly_enabled(int on) { int prev = anomaly_on; anomaly_on = on; return prev; }

// The slots live in a pthread key's value, whose destructor releases what they hold when the
// thread exits (a _Thread_local array has no destructor: each exited thread would leak them).
#include <pthread.h>
#include <stdlib.h>
typedef struct { void *slot[2]; void (*release)(void *); } backward_scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static void scratch_exit(void *p) {
    backward_scratch *s = p;
    for (int k = 0; k < 2; k++) if (s->slot[k] && s->release) s->release(s->slot[k]);
    free(s);
}
static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_exit); }
static _Thread_local backward_scratch *scratch_here;   // this thread's, once made (a fast path)
void **onsager_backward_scratch(int kind, void (*release)(void *)) {
    if (!scratch_here) {
        pthread_once(&scratch_once, scratch_init);
        backward_scratch *s = calloc(1, sizeof *s);
        if (!s) return 0;
        if (pthread_setspecific(scratch_key, s) != 0) { free(s); return 0; }
        scratch_here = s;
    }
    scratch_here->release = release;
    return &scratch_here->slot[kind & 1];
}
