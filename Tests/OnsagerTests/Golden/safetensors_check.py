"""Safetensors interoperability with PyTorch.

  python3 safetensors_check.py write            # writes from_torch.safetensors (committed; the Swift test reads it)
  python3 safetensors_check.py verify FILE      # checks a file written by Onsager's test (SafetensorsInteropTests)

Both sides use the same formulas: "w" = [[sin(i + 2j)]] (3x4, float32), "b" = [cos(k)] (4, float64).
Skips (exit 0 with a message) when torch or safetensors is not installed."""
import math, sys
try:
    import torch
    from safetensors.torch import save_file, load_file
except ImportError:
    print("skip: torch and safetensors are needed"); sys.exit(0)

w = torch.tensor([[math.sin(i + 2 * j) for j in range(4)] for i in range(3)], dtype=torch.float32)
b = torch.tensor([math.cos(k) for k in range(4)], dtype=torch.float64)
if sys.argv[1:2] == ["write"]:
    save_file({"w": w, "b": b}, "from_torch.safetensors", metadata={"writer": "torch"})
    print("wrote from_torch.safetensors")
elif sys.argv[1:2] == ["verify"]:
    t = load_file(sys.argv[2])
    assert set(t) >= {"w", "b"}, t.keys()
    assert t["w"].dtype == torch.float32 and t["b"].dtype == torch.float64
    assert torch.equal(t["w"], w) and torch.equal(t["b"], b), (t["w"], t["b"])
    print("ok: %s loads in safetensors/PyTorch with identical values" % sys.argv[2])
else:
    print(__doc__); sys.exit(2)
