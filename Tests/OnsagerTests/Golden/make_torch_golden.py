"""PyTorch golden values for Onsager's optimizers and schedules. Parameters start from formulas
and the loss L(θ) = Σᵢ ½cᵢθᵢ² + dᵢθᵢ (cᵢ = 1 + i/4, dᵢ = sin(i)) gives the gradients; the Swift test
(OptimizerGoldenTests.swift) rebuilds both. Five steps per configuration; parameters after each
step are stored. Run here: python3 make_torch_golden.py (writes torch.json). CI reads the JSON."""
import json, math
import torch

torch.set_default_dtype(torch.float64)
N = 6
c = torch.tensor([1 + i / 4 for i in range(N)]); d = torch.tensor([math.sin(i) for i in range(N)])
def start(): return torch.tensor([math.cos(0.7 * i) for i in range(N)], requires_grad=True)

configs = {
    "sgd": lambda p: torch.optim.SGD([p], lr=0.1),
    "sgd_momentum": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9),
    "sgd_nesterov_wd": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05),
    "sgd_dampening": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.8, dampening=0.3),
    "adam": lambda p: torch.optim.Adam([p], lr=0.05),
    "adam_wd": lambda p: torch.optim.Adam([p], lr=0.05, weight_decay=0.1),
    "adamw": lambda p: torch.optim.AdamW([p], lr=0.05, weight_decay=0.1),
    "rmsprop": lambda p: torch.optim.RMSprop([p], lr=0.01),
    "rmsprop_momentum_centered": lambda p: torch.optim.RMSprop([p], lr=0.01, momentum=0.9, centered=True, weight_decay=0.01),
    "adagrad": lambda p: torch.optim.Adagrad([p], lr=0.1),
    "adagrad_decay": lambda p: torch.optim.Adagrad([p], lr=0.1, lr_decay=0.05, weight_decay=0.02, initial_accumulator_value=0.1),
}
out = {"optimizers": {}, "schedules": {}}
for name, make in configs.items():
    p = start(); opt = make(p); trace = []
    for _ in range(5):
        opt.zero_grad(); loss = (0.5 * c * p * p + d * p).sum(); loss.backward(); opt.step()
        trace.append(p.detach().tolist())
    out["optimizers"][name] = trace

def lrs(make, n=12):
    p = torch.zeros(1, requires_grad=True); opt = torch.optim.SGD([p], lr=0.5); sched = make(opt); seq = []
    for _ in range(n):
        seq.append(opt.param_groups[0]["lr"]); opt.step(); sched.step()
    return seq
S = torch.optim.lr_scheduler
out["schedules"] = {
    "step": lrs(lambda o: S.StepLR(o, step_size=3, gamma=0.5)),
    "exponential": lrs(lambda o: S.ExponentialLR(o, gamma=0.9)),
    "cosine": lrs(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.01)),
    "linear_warmup": lrs(lambda o: S.LinearLR(o, start_factor=0.25, total_iters=4)),
}
p = torch.tensor([3.0, -4.0, 12.0], requires_grad=True); (p * p).sum().backward()
norm = torch.nn.utils.clip_grad_norm_([p], max_norm=5.0)
out["clip"] = {"norm": float(norm), "grad": p.grad.tolist()}
out["generator"] = "make_torch_golden.py (torch %s)" % torch.__version__
json.dump(out, open("torch.json", "w"), indent=1)
print("wrote", len(out["optimizers"]), "optimizer traces,", len(out["schedules"]), "schedules")
