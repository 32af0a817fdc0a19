// The autodiff tape's per-thread switches. They are read on every tensor op, so they live in C
// as _Thread_local variables (one load, no lookup); Swift has no thread-local storage of its own.
// Only OnsagerCore uses this target: the kernels know nothing of the tape.
#ifndef ONSAGER_TAPE_H
#define ONSAGER_TAPE_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Whether ops are recorded on this thread (1) or not (0, inside `withoutGrad`).
int onsager_grad_enabled(void);
/// Sets this thread's recording switch; returns the previous value.
int onsager_set_grad_enabled(int enabled);
/// A process-wide unique number, used to mark the nodes one backward sweep has visited.
uint64_t onsager_next_stamp(void);
/// Anomaly detection: when on (per thread), every op checks its output for NaN/Inf.
int onsager_anomaly_enabled(void);
/// Sets this thread's anomaly switch; returns the previous value.
int onsager_set_anomaly_enabled(int on);
/// This thread's slot for the backward sweep's reusable work arrays of one scalar type (`kind`
/// 0 or 1); the sweep takes the object out (leaving NULL) while it runs and puts it back after.
/// When the thread exits, `release` is called on what its slots hold. NULL if out of memory.
void **onsager_backward_scratch(int kind, void (*release)(void *));

#ifdef __cplusplus
}
#endif
#endif
