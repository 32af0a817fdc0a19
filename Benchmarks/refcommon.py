"""Shared helpers of the reference benchmark scripts: thread list and the timing loop."""
import statistics, sys, time

def threads_arg(default=(1, 2)):
    if "--threads" in sys.argv:
        return [int(t) for t in sys.argv[sys.argv.index("--threads") + 1].split(",")]
    return list(default)

def wanted(name):
    """False when --cases NAME,NAME... is given without `name` (Benchmarks/rotation.py runs one case at a time)."""
    if "--cases" in sys.argv:
        return name in sys.argv[sys.argv.index("--cases") + 1].split(",")
    return True

def measure(fn, target=0.3, reps=9, warm=3):
    """Calls per second: warm up, size the loop to `target` seconds, median (min, max) of reps."""
    for _ in range(warm): fn()
    t0 = time.perf_counter(); n = 0
    while time.perf_counter() - t0 < 0.05: fn(); n += 1
    iters = max(1, int(n * target / (time.perf_counter() - t0)))
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(iters): fn()
        rates.append(iters / (time.perf_counter() - t0))
    return statistics.median(rates), min(rates), max(rates)
