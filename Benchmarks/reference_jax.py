"""JAX (jit) reference for mlp-tiny-step, mlp-small-step, mlp-big-step, their -adam-step and -mnist-step variants (the
latter on the first 60 batches of MNIST's training images in turn) (Adam at PyTorch's
defaults written out in the jitted step, as optax.adam computes it) and cnn-step (the network of reference_torch.py), in onsager-bench's JSON-lines schema.

Usage: python3 Benchmarks/reference_jax.py [--threads 1,2] [--cases NAME,...]
One thread is enforced by XLA_FLAGS=--xla_cpu_multi_thread_eigen=false and CPU affinity to core 0,
set in a child process per thread count (JAX fixes its thread pool at start-up)."""
import json, os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refcommon import measure, mnist_batches, threads_arg, wanted

if os.environ.get("ONSAGER_JAX_CHILD"):
    import jax, jax.numpy as jnp
    t = int(os.environ["ONSAGER_JAX_CHILD"])
    def init(sizes, key):
        ps = []
        for i in range(len(sizes) - 1):
            key, k = jax.random.split(key)
            ps.append((jax.random.normal(k, (sizes[i], sizes[i + 1]), jnp.float32) * (2.0 / sizes[i]) ** 0.5, jnp.zeros((sizes[i + 1],), jnp.float32)))
        return ps
    def loss_fn(ps, x, y):
        h = x
        for W, b in ps[:-1]: h = jax.nn.relu(h @ W + b)
        W, b = ps[-1]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(h @ W + b), y[:, None], 1))
    @jax.jit
    def step(ps, x, y):
        g = jax.grad(loss_fn)(ps, x, y)
        return jax.tree_util.tree_map(lambda p, gp: p - 0.01 * gp, ps, g)
    @jax.jit
    def adam_step(ps, m, v, t, x, y):
        g = jax.grad(loss_fn)(ps, x, y)
        b1, b2, lr, eps = 0.9, 0.999, 1e-3, 1e-8
        m = jax.tree_util.tree_map(lambda a, gp: b1 * a + (1 - b1) * gp, m, g)
        v = jax.tree_util.tree_map(lambda a, gp: b2 * a + (1 - b2) * gp * gp, v, g)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        ps = jax.tree_util.tree_map(lambda p, a, s: p - lr * (a / c1) / (jnp.sqrt(s / c2) + eps), ps, m, v)
        return ps, m, v, t + 1
    key = jax.random.PRNGKey(0)
    mlps = (("mlp-small-step", [784, 500, 10]), ("mlp-big-step", [784, 2500, 2000, 1500, 1000, 500, 10]))
    tiny = (("mlp-tiny-step", [8, 8, 2]),)   # the per-step cost of the framework itself
    mnist = tuple((n.replace("-step", "-mnist-step"), s) for n, s in mlps)
    for name, sizes in tiny + mlps + tuple((n.replace("-step", "-adam-step"), s) for n, s in mlps) + mnist:
        if not wanted(name): continue
        batches = [(jnp.asarray(bx), jnp.asarray(by.astype("int32"))) for bx, by in mnist_batches() or []] if "mnist" in name else None
        if batches == []: continue
        x = jax.random.uniform(key, (100, sizes[0])); y = jax.random.randint(key, (100,), 0, sizes[-1])
        data = batches or [(x, y)]; turn = [0]
        ps0 = init(sizes, key)
        zeros = jax.tree_util.tree_map(jnp.zeros_like, ps0)
        state = {"ps": ps0, "opt": (zeros, zeros, jnp.float32(1))}
        def run():
            if "adam" in name:
                state["ps"], *rest = adam_step(state["ps"], *state["opt"], x, y); state["opt"] = tuple(rest)
            else:
                bx, by = data[turn[0]]; turn[0] = (turn[0] + 1) % len(data)
                state["ps"] = step(state["ps"], bx, by)
            jax.block_until_ready(state["ps"])
        med, lo, hi = measure(run, target=0.6 if len(sizes) > 3 else 0.4, reps=7, warm=20)
        print(json.dumps({"bench": name, "threads": t, "value": round(med, 2), "unit": "steps/s", "min": round(lo, 2),
                          "max": round(hi, 2), "impl": "jax " + jax.__version__}), flush=True)
    if wanted("cnn-step"):
        def conv(x, W, b):
            return jax.lax.conv_general_dilated(x, W, (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW")) + b[None, :, None, None]
        def cnn_init(key):
            ks = jax.random.split(key, 4)
            def u(k, shape, fan_in):
                return jax.random.uniform(k, shape, jnp.float32, -1.0, 1.0) * (1.0 / fan_in) ** 0.5
            return [(u(ks[0], (32, 1, 3, 3), 9), jnp.zeros((32,))), (u(ks[1], (64, 32, 3, 3), 288), jnp.zeros((64,))),
                    (u(ks[2], (9216, 128), 9216), jnp.zeros((128,))), (u(ks[3], (128, 10), 128), jnp.zeros((10,)))]
        def cnn_loss(ps, x, y):
            h = jax.nn.relu(conv(x, *ps[0])); h = jax.nn.relu(conv(h, *ps[1]))
            h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID").reshape(x.shape[0], -1)
            h = jax.nn.relu(h @ ps[2][0] + ps[2][1])
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(h @ ps[3][0] + ps[3][1]), y[:, None], 1))
        @jax.jit
        def cnn_step(ps, x, y):
            g = jax.grad(cnn_loss)(ps, x, y)
            return jax.tree_util.tree_map(lambda p, gp: p - 0.01 * gp, ps, g)
        cx = jax.random.uniform(key, (64, 1, 28, 28)); cy = jax.random.randint(key, (64,), 0, 10)
        cstate = {"ps": cnn_init(key)}
        def crun():
            cstate["ps"] = cnn_step(cstate["ps"], cx, cy); jax.block_until_ready(cstate["ps"])
        med, lo, hi = measure(crun, target=0.6, reps=7, warm=5)
        print(json.dumps({"bench": "cnn-step", "threads": t, "value": round(med, 2), "unit": "steps/s", "min": round(lo, 2),
                          "max": round(hi, 2), "impl": "jax " + jax.__version__}), flush=True)
else:
    for t in threads_arg():
        env = dict(os.environ, ONSAGER_JAX_CHILD=str(t))
        if t == 1: env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        cmd = ["taskset", "-c", ",".join(str(c) for c in range(t)), sys.executable, __file__, *sys.argv[1:]]
        subprocess.run(cmd, env=env, check=False)
