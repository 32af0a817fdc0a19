"""Shared helpers of the reference benchmark scripts: thread list and the timing loop."""
import gzip, os, statistics, sys, time

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

def mnist_batches(count=60, size=100):
    """The batches of mlp-*-mnist-step, as onsager-bench takes them: the first count x size MNIST training
    images (pixels / 255, float32 rows of 784) and labels, as numpy arrays; None when MNIST is not found
    ($ONSAGER_DATA/mnist, else ../shared/data/mnist beside the repository)."""
    import numpy as np
    here = os.path.dirname(os.path.abspath(__file__))
    # The folders DatasetLocator searches, in its order, and the files with or without .gz.
    folders = ([os.path.join(os.environ["ONSAGER_DATA"], "mnist")] if "ONSAGER_DATA" in os.environ else []) + \
        [os.path.join("..", "shared", "data", "mnist"), os.path.join("shared", "data", "mnist"),
         "/usr/share/datasets/mnist", os.path.join(here, "..", "..", "shared", "data", "mnist")]
    def read(folder, stem):
        for name, opener in ((stem + ".gz", gzip.open), (stem, open)):
            if os.path.exists(os.path.join(folder, name)):
                with opener(os.path.join(folder, name), "rb") as f: return f.read()
        return None
    for f in folders:
        images, labels = read(f, "train-images-idx3-ubyte"), read(f, "train-labels-idx1-ubyte")
        if images is not None and labels is not None:
            n = count * size
            x = np.frombuffer(images[16:16 + n * 784], np.uint8).reshape(n, 784).astype(np.float32) / 255
            y = np.frombuffer(labels[8:8 + n], np.uint8).astype(np.int64)
            return [(x[b * size:(b + 1) * size], y[b * size:(b + 1) * size]) for b in range(count)]
    print("mlp-*-mnist-step skipped: MNIST not found (set ONSAGER_DATA)", file=sys.stderr)
    return None
