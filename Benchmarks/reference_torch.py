"""PyTorch reference for onsager-bench cases, in the same JSON-lines schema.

Usage: python3 Benchmarks/reference_torch.py [--threads 1,2] [--cases NAME,...]
Cases: sgemm-* (torch.mm), tiny-op-backward (add + sum + backward() on 10 elements, µs) and
rbm-cd1-autodiff (784x500 RBM, batch 100, CD-1 via autograd on F(v0) - F(v1), SGD; updates/s),
rbm-cd1-mnist (the same on MNIST's first 60 batches of 100 training images binarised at 0.5, in turn),
mlp-small-step / mlp-big-step (784-500-10 and 784-2500-2000-1500-1000-500-10 ReLU, batch 100, SGD,
softmax cross-entropy; steps/s), mlp-small-mnist-step / mlp-big-mnist-step (the same on the first 60 batches of
MNIST's training images in turn), mlp-tiny-step (the same with 8-8-2: the framework's own per-step cost), mlp-small-adam-step / mlp-big-adam-step (the same with
torch.optim.Adam at its defaults: lr 1e-3, the for-loop implementation PyTorch picks on CPU), cnn-step (PyTorch's MNIST example network without dropout: conv 1->32
3x3, ReLU, conv 32->64 3x3, ReLU, max-pool 2, linear 9216->128, ReLU, linear 128->10; batch 64, SGD;
steps/s), op-* (forward + backward of one op on Float data, (f(x) * w).sum().backward(), µs:
op-gelu [256, 1024], op-softmax [8, 4, 128, 128] on the last axis, op-layernorm [256, 1024],
op-batchnorm2d [64, 32, 26, 26] in training mode, op-embedding 4096 ids into 10000 x 256 with
.sum().backward(), op-cross-entropy: cross_entropy of [1024, 1000] logits, mean, and backward,
op-linear-head: a Linear(784, 10) on [1024, 784], (y * w).sum().backward() to x and the layer).
"""
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refcommon import measure, mnist_batches, threads_arg, wanted
import torch

threads = threads_arg()
torch.manual_seed(0)

def emit(name, t, value, unit, lo, hi):
    print(json.dumps({"bench": name, "threads": t, "value": round(value, 2), "unit": unit,
                      "min": round(lo, 2), "max": round(hi, 2), "impl": "torch " + torch.__version__}), flush=True)

for t in threads:
    torch.set_num_threads(t)
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    c, d = torch.randn(1024, 1024), torch.randn(1024, 1024)
    v, w, h = torch.randn(100, 784), torch.randn(784, 500), torch.randn(100, 500)
    v01, h01 = (torch.rand(100, 784) < 0.3).float(), (torch.rand(100, 500) < 0.3).float()
    x1, g1, x4, g4 = v[:1].clone(), h[:1].clone(), v[:4].clone(), h[:4].clone()
    for name, fn, flops in (("sgemm-512", lambda: a @ b, 2.0 * 512 ** 3), ("sgemm-1024", lambda: c @ d, 2.0 * 1024 ** 3),
                            ("sgemm-rbm-fwd", lambda: v @ w, 2.0 * 100 * 784 * 500),
                            ("sgemm-rbm-bwdT", lambda: h @ w.T, 2.0 * 100 * 500 * 784),
                            ("sgemm-rbm-vTh", lambda: v.T @ h, 2.0 * 784 * 100 * 500),
                            ("binary-rbm-fwd", lambda: v01 @ w, 2.0 * 100 * 784 * 500),
                            ("binary-rbm-bwdT", lambda: h01 @ w.T, 2.0 * 100 * 500 * 784),
                            ("binary-rbm-vTh", lambda: v01.T @ h, 2.0 * 784 * 100 * 500),
                            ("matvec-rbm-fwd", lambda: x1 @ w, 2.0 * 784 * 500),
                            ("matvec-rbm-bwdT", lambda: g1 @ w.T, 2.0 * 500 * 784),
                            ("rows4-rbm-fwd", lambda: x4 @ w, 2.0 * 4 * 784 * 500),
                            ("rows4-rbm-bwdT", lambda: g4 @ w.T, 2.0 * 4 * 500 * 784)):
        if not wanted(name): continue
        med, lo, hi = measure(fn, target=0.25, reps=7, warm=10)
        emit(name, t, med * flops / 1e9, "GFLOPS", lo * flops / 1e9, hi * flops / 1e9)
    ag, bg = torch.randn(10, requires_grad=True), torch.randn(10)
    def fwd_bwd():
        y = torch.add(ag, bg).sum(); y.backward()
    if wanted("tiny-op-backward"):
        med, lo, hi = measure(fwd_bwd, warm=10)
        emit("tiny-op-backward", t, 1e6 / med, "us", 1e6 / hi, 1e6 / lo)

    nv, nh, B = 784, 500, 100
    Wp = (0.01 * torch.randn(nv, nh)).requires_grad_(); bvp = torch.zeros(nv, requires_grad=True); bhp = torch.zeros(nh, requires_grad=True)
    opt = torch.optim.SGD([Wp, bvp, bhp], lr=0.01)
    v0 = (torch.rand(B, nv) < 0.3).float()
    def free_energy(v):
        return -(v @ bvp) - torch.nn.functional.softplus(torch.addmm(bhp, v, Wp)).sum(1)
    def cd1_autograd(v0=v0):
        with torch.no_grad():
            h0 = torch.bernoulli(torch.sigmoid(torch.addmm(bhp, v0, Wp)))
            v1 = torch.bernoulli(torch.sigmoid(torch.addmm(bvp, h0, Wp.t())))
        opt.zero_grad(set_to_none=True)
        loss = free_energy(v0).mean() - free_energy(v1).mean()
        loss.backward(); opt.step()
    if wanted("rbm-cd1-autodiff"):
        med, lo, hi = measure(cd1_autograd, target=0.5, reps=7, warm=10)
        emit("rbm-cd1-autodiff", t, med, "upd/s", lo, hi)
    binary = [(torch.from_numpy(bx) > 0.5).float() for bx, _ in mnist_batches() or []] if wanted("rbm-cd1-mnist") else []
    if binary:   # the same update on MNIST's first 60 batches, binarised at 0.5, in turn
        turn = [0]
        def cd1_mnist():
            cd1_autograd(binary[turn[0]]); turn[0] = (turn[0] + 1) % len(binary)
        med, lo, hi = measure(cd1_mnist, target=0.5, reps=7, warm=10)
        emit("rbm-cd1-mnist", t, med, "upd/s", lo, hi)

    mlps = (("mlp-small-step", [784, 500, 10]), ("mlp-big-step", [784, 2500, 2000, 1500, 1000, 500, 10]))
    tiny = (("mlp-tiny-step", [8, 8, 2]),)   # the per-step cost of the framework itself
    mnist = tuple((n.replace("-step", "-mnist-step"), s) for n, s in mlps)
    for name, sizes in tiny + mlps + tuple((n.replace("-step", "-adam-step"), s) for n, s in mlps) + mnist:
        if not wanted(name): continue
        batches = [(torch.from_numpy(bx), torch.from_numpy(by)) for bx, by in mnist_batches() or []] if "mnist" in name else None
        if batches == []: continue
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2: layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers)
        mopt = torch.optim.Adam(model.parameters()) if "adam" in name else torch.optim.SGD(model.parameters(), lr=0.01)
        x = torch.rand(100, sizes[0]); y = torch.randint(0, sizes[-1], (100,))
        data = batches or [(x, y)]; turn = [0]
        def mlp_step():
            bx, by = data[turn[0]]; turn[0] = (turn[0] + 1) % len(data)
            mopt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(bx), by).backward(); mopt.step()
        med, lo, hi = measure(mlp_step, target=0.6 if len(sizes) > 3 else 0.4, reps=7, warm=10)
        emit(name, t, med, "steps/s", lo, hi)

    layer_ops = {
        "op-gelu": ([256, 1024], torch.nn.functional.gelu),
        "op-softmax": ([8, 4, 128, 128], lambda v: torch.softmax(v, -1)),
        "op-layernorm": ([256, 1024], torch.nn.LayerNorm(1024)),
        "op-batchnorm2d": ([64, 32, 26, 26], torch.nn.BatchNorm2d(32)),
    }
    for name, (shape, f) in layer_ops.items():
        if not wanted(name): continue
        ox, ow = torch.randn(*shape), torch.randn(*shape)
        def layer_op():
            xi = ox.detach().requires_grad_()
            (f(xi) * ow).sum().backward()
        med, lo, hi = measure(layer_op, target=0.3, reps=7, warm=5)
        emit(name, t, 1e6 / med, "us", 1e6 / hi, 1e6 / lo)
    if wanted("op-embedding"):
        emb = torch.nn.Embedding(10000, 256); ids = torch.tensor([(i * 7919) % 10000 for i in range(4096)])
        def embedding_op():
            emb.zero_grad(set_to_none=True); emb(ids).sum().backward()
        med, lo, hi = measure(embedding_op, target=0.3, reps=7, warm=5)
        emit("op-embedding", t, 1e6 / med, "us", 1e6 / hi, 1e6 / lo)

    if wanted("op-cross-entropy"):
        logits = torch.randn(1024, 1000); labels = torch.tensor([(i * 7919) % 1000 for i in range(1024)])
        def cross_entropy_op():
            torch.nn.functional.cross_entropy(logits.detach().requires_grad_(), labels).backward()
        med, lo, hi = measure(cross_entropy_op, target=0.3, reps=7, warm=5)
        emit("op-cross-entropy", t, 1e6 / med, "us", 1e6 / hi, 1e6 / lo)

    if wanted("op-linear-head"):
        head = torch.nn.Linear(784, 10); hx = torch.randn(1024, 784); hw = torch.randn(1024, 10)
        def linear_head_op():
            (head(hx.detach().requires_grad_()) * hw).sum().backward()
        med, lo, hi = measure(linear_head_op, target=0.3, reps=7, warm=5)
        emit("op-linear-head", t, 1e6 / med, "us", 1e6 / hi, 1e6 / lo)

    if wanted("cnn-step"):
        cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(),
                                  torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(9216, 128), torch.nn.ReLU(),
                                  torch.nn.Linear(128, 10))
        copt = torch.optim.SGD(cnn.parameters(), lr=0.01)
        cx = torch.rand(64, 1, 28, 28); cy = torch.randint(0, 10, (64,))
        def cnn_step():
            copt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(cnn(cx), cy).backward(); copt.step()
        med, lo, hi = measure(cnn_step, target=0.6, reps=7, warm=5)
        emit("cnn-step", t, med, "steps/s", lo, hi)
