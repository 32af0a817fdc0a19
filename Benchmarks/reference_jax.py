"""JAX (jit) reference for mlp-small-step and mlp-big-step, in onsager-bench's JSON-lines schema.

Usage: python3 Benchmarks/reference_jax.py [--threads 1,2] [--cases NAME,...]
One thread is enforced by XLA_FLAGS=--xla_cpu_multi_thread_eigen=false and CPU affinity to core 0,
set in a child process per thread count (JAX fixes its thread pool at start-up)."""
import json, os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refcommon import measure, threads_arg, wanted

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
    key = jax.random.PRNGKey(0)
    x = jax.random.uniform(key, (100, 784)); y = jax.random.randint(key, (100,), 0, 10)
    for name, sizes in (("mlp-small-step", [784, 500, 10]), ("mlp-big-step", [784, 2500, 2000, 1500, 1000, 500, 10])):
        if not wanted(name): continue
        state = {"ps": init(sizes, key)}
        def run():
            state["ps"] = step(state["ps"], x, y); jax.block_until_ready(state["ps"])
        med, lo, hi = measure(run, target=0.6 if len(sizes) > 3 else 0.4, reps=7, warm=20)
        print(json.dumps({"bench": name, "threads": t, "value": round(med, 2), "unit": "steps/s", "min": round(lo, 2),
                          "max": round(hi, 2), "impl": "jax " + jax.__version__}), flush=True)
else:
    for t in threads_arg():
        env = dict(os.environ, ONSAGER_JAX_CHILD=str(t))
        if t == 1: env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        cmd = ["taskset", "-c", ",".join(str(c) for c in range(t)), sys.executable, __file__, *sys.argv[1:]]
        subprocess.run(cmd, env=env, check=False)
