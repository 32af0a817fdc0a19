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

static _Thread_local void *backward_scratch[2];
void **onsager_backward_scratch(int kind) { return &backward_scratch[kind & 1]; }
