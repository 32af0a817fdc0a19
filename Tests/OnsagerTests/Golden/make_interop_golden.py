"""PyTorch interop goldens for Onsager's module checkpoints (InteropTests.swift), both ways:

1. torch -> Onsager: a seeded torch.nn.Sequential (conv, pooling, GELU, Linear, BatchNorm1d, SiLU,
   LayerNorm) is trained two steps (so BatchNorm's statistics and num_batches_tracked are not
   trivial), saved with safetensors.torch.save_file as interop_torch.safetensors (float32, with
   the int64 num_batches_tracked), and its evaluation-mode outputs on a fixed input are stored.
2. Onsager -> torch: interop_onsager.safetensors, written by the Swift test from its own seeded
   model (ONSAGER_WRITE_GOLDEN=1 swift test --filter Interop), is loaded into a fresh torch model
   with load_state_dict(strict=True) and its evaluation-mode outputs on the same input are stored.

Run here after the Swift test has written its file: python3 make_interop_golden.py (writes
interop.json and interop_torch.safetensors). CI reads the files; it needs neither torch nor numpy."""
import json, math, os
import torch
from torch import nn
from safetensors.torch import save_file, load_file

here = os.path.dirname(os.path.abspath(__file__))

def model():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3), nn.GELU(), nn.Flatten(),
        nn.Linear(24, 16), nn.BatchNorm1d(16), nn.SiLU(), nn.LayerNorm(16), nn.Linear(16, 3))

# The fixed input: 5 images of 8x8, from a formula (no RNG needed on the Swift side).
x = torch.tensor([[[[math.sin(0.37 * (64 * n + 8 * i + j)) + 0.2 * math.cos(1.3 * n + i)
                     for j in range(8)] for i in range(8)]] for n in range(5)], dtype=torch.float32)

torch.manual_seed(0)
m = model()
opt = torch.optim.SGD(m.parameters(), lr=0.1)
for step in range(2):
    opt.zero_grad(); m(x * (1 + step)).pow(2).mean().backward(); opt.step()
m.eval()
save_file({k: v.contiguous() for k, v in m.state_dict().items()}, os.path.join(here, "interop_torch.safetensors"),
          metadata={"writer": "torch " + torch.__version__})
with torch.no_grad():
    torch_out = m(x)

out = {"input_shape": list(x.shape), "torch_outputs": torch_out.flatten().tolist(),
       "torch_dtypes": {k: str(v.dtype) for k, v in m.state_dict().items()}}
ours = os.path.join(here, "interop_onsager.safetensors")
if os.path.exists(ours):
    fresh = model()
    fresh.load_state_dict(load_file(ours), strict=True)     # raises on any missing or unexpected name
    fresh.eval()
    with torch.no_grad():
        out["onsager_file_in_torch_outputs"] = fresh(x).flatten().tolist()
else:
    print("note: interop_onsager.safetensors is absent; run ONSAGER_WRITE_GOLDEN=1 swift test --filter Interop first")
with open(os.path.join(here, "interop.json"), "w") as f:
    json.dump(out, f, indent=1)
print("wrote interop.json", "with" if "onsager_file_in_torch_outputs" in out else "without", "the Onsager -> torch outputs")
