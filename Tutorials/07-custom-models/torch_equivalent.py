"""Tutorial 07 in PyTorch: the same denoising convolutional autoencoder, for comparison (the README
puts the two line counts side by side) and as a check of Onsager's checkpoints.

    python3 torch_equivalent.py --check autoencoder.safetensors sample.safetensors
        builds the model, load_state_dict(strict=True) on Onsager's file, and compares its
        evaluation-mode outputs with Onsager's on the saved sample (exit status 0 when they agree).
    python3 torch_equivalent.py --train MNIST_DIR [--epochs N]
        trains it the way the Swift tutorial does."""
import argparse, gzip, os, sys
import torch
from torch import nn

class Encoder(nn.Module):
    def __init__(self, code_size):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.code = nn.Linear(8 * 7 * 7, code_size)
    def forward(self, x):
        h = self.pool(torch.relu(self.conv2(self.pool(torch.relu(self.conv1(x))))))
        return self.code(h.flatten(1))

class DenoisingAutoencoder(nn.Module):
    def __init__(self, code_size=32):
        super().__init__()
        self.encoder = Encoder(code_size)
        self.decoder = nn.Sequential(nn.Linear(code_size, 256), nn.GELU(), nn.Dropout(0.1),
                                     nn.Linear(256, 784), nn.Sigmoid(), nn.Unflatten(1, (1, 28, 28)))
    def forward(self, x):
        return self.decoder(self.encoder(x))

def load_idx(path):
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)

def train(mnist_dir, epochs, noise=0.3):
    x = load_idx(os.path.join(mnist_dir, "train-images-idx3-ubyte.gz")).float().div(255).unsqueeze(1)
    xt = load_idx(os.path.join(mnist_dir, "t10k-images-idx3-ubyte.gz"))[:2000].float().div(255).unsqueeze(1)
    noisy_test = (xt + noise * torch.randn_like(xt)).clamp(0, 1)
    model = DenoisingAutoencoder()
    decay = [p for n, p in model.named_parameters() if not n.endswith("bias")]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias")]
    opt = torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0}], lr=2e-3, weight_decay=1e-5)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x), batch_size=64, shuffle=True)
    best, since = float("inf"), 0
    for epoch in range(epochs):
        model.train()
        for (clean,) in loader:
            opt.zero_grad()
            nn.functional.mse_loss(model((clean + noise * torch.randn_like(clean)).clamp(0, 1)), clean).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val = nn.functional.mse_loss(model(noisy_test), xt).item()
        print(f"epoch {epoch + 1}: test MSE {val:.4f}")
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch}, "checkpoint.pt")
        best, since = (val, 0) if val < best else (best, since + 1)
        if since >= 2:
            break

def check(model_file, sample_file):
    from safetensors.torch import load_file
    model = DenoisingAutoencoder()
    model.load_state_dict(load_file(model_file), strict=True)
    model.eval()
    sample = load_file(sample_file)
    with torch.no_grad():
        diff = (model(sample["input"]) - sample["output"]).abs().max().item()
    print(f"PyTorch loaded {os.path.basename(model_file)} with strict=True; max |torch − onsager| = {diff:.2e} on {len(sample['input'])} images")
    return diff <= 1e-5

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--check", nargs=2, metavar=("MODEL", "SAMPLE"))
    p.add_argument("--train", metavar="MNIST_DIR")
    p.add_argument("--epochs", type=int, default=5)
    a = p.parse_args()
    if a.check:
        sys.exit(0 if check(*a.check) else 1)
    if a.train:
        train(a.train, a.epochs)
