"""Make the PyTorch-exported ONNX fixtures in tests/onnx/fixtures (run once, by hand).

    PYTHONPATH=$PWD python tests/onnx/make_fixtures.py

Needs torch (not in the test extra, so the tests read these files instead of calling
torch). Each model is exported with ``torch.onnx.export(..., dynamo=False)`` (the
TorchScript exporter, no onnxscript needed) with a dynamic batch, and saved beside an
``.npz`` holding inputs at two batch sizes and PyTorch's outputs for them.
"""
from pathlib import Path

import numpy as np
import torch
from torch import nn

OUT = Path(__file__).resolve().parent / "fixtures"


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(),
                                  nn.Linear(16, 10))

    def forward(self, x):
        return self.body(x)


class CNN(nn.Module):
    """Conv, BatchNorm, pooling, and the Shape/Gather/Unsqueeze/Concat chain that
    ``x.view(x.size(0), -1)`` exports to."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=1, padding=1)
        self.fc = nn.Linear(6 * 2 * 2, 5)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn(self.conv1(x))), 2)
        x = nn.functional.avg_pool2d(torch.relu(self.conv2(x)), 2)
        return torch.log_softmax(self.fc(x.view(x.size(0), -1)), dim=1)


class Ops(nn.Module):
    """Activations, global pooling, matmul, transpose, cat, reductions, two outputs."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)
        self.proj = nn.Parameter(torch.randn(3, 4))

    def forward(self, x):
        h = self.conv(x)
        g = nn.functional.adaptive_avg_pool2d(h, 1).flatten(1)
        a = torch.cat([torch.sigmoid(g), torch.tanh(g), nn.functional.gelu(g)], 1)
        m = (g @ self.proj).transpose(0, 1).transpose(0, 1)
        out = torch.softmax(m, -1) + a.sum(1, keepdim=True) - a.mean(1, keepdim=True)
        return out, torch.clamp(h, -0.5, 0.5).amax(dim=(2, 3))


def _export(name, model, shape, batches=(2, 3), fold=True, opset=17):
    torch.manual_seed(0)
    model.eval()
    if hasattr(model, "bn"):
        with torch.no_grad():
            model.bn.running_mean.uniform_(-0.2, 0.2)
            model.bn.running_var.uniform_(0.5, 1.5)
    path = OUT / f"{name}.onnx"
    example = torch.randn(batches[0], *shape)
    outs = ["output"] if name != "torch_ops" else ["probs", "peak"]
    torch.onnx.export(model, (example,), str(path), dynamo=False, opset_version=opset,
                      input_names=["input"], output_names=outs,
                      dynamic_axes={n: {0: "batch"} for n in ["input"] + outs},
                      do_constant_folding=fold)
    arrays = {}
    for b in batches:
        x = torch.randn(b, *shape)
        with torch.no_grad():
            y = model(x)
        arrays[f"input_{b}"] = x.numpy()
        for n, t in zip(outs, y if isinstance(y, tuple) else (y,)):
            arrays[f"{n}_{b}"] = t.numpy()
    np.savez(OUT / f"{name}.npz", **arrays)
    print(f"{path.name}: {path.stat().st_size} bytes")


def main():
    OUT.mkdir(exist_ok=True)
    torch.manual_seed(0)
    _export("torch_mlp", MLP(), (1, 8, 8))
    torch.manual_seed(1)
    _export("torch_cnn", CNN(), (1, 8, 8), fold=False)
    torch.manual_seed(2)
    _export("torch_ops", Ops(), (2, 6, 6), opset=20)  # Gelu is a node from 20 on


if __name__ == "__main__":
    main()
