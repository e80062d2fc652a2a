"""Suite ``layers``: forward + backward of MNIST-sized layers, and optimizer steps."""
import numpy as np

import framework as fw
import framework.nn as nn

from . import refs
from .core import Case


def _fwd_bwd(module, x):
    def run():
        module.zero_grad()
        module(x).sum().backward()
    return run


def cases(against, scale=1.0, torch_missing=None):
    torch, missing = refs.torch_module(against)
    missing = missing or torch_missing
    batch = 64 if scale >= 1 else 4
    rng = np.random.default_rng(0)
    img = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    feat = rng.standard_normal((batch, 32, 14, 14)).astype(np.float32)
    flat = img.reshape(batch, 784)
    pool_in = rng.standard_normal((batch, 32, 28, 28)).astype(np.float32)
    logits = rng.standard_normal((batch, 10)).astype(np.float32)
    target = rng.integers(0, 10, batch)
    # forward GEMM + weight-gradient GEMM (the inputs need no gradient)
    specs = [
        (f"Linear(784->512), batch {batch}", (784, 512), flat, 2 * 2 * batch * 784 * 512),
        (f"Conv2d(1->32, 3x3, pad 1), batch {batch}", (1, 32), img,
         2 * 2 * batch * 32 * 9 * 784),
        (f"Conv2d(32->64, 3x3, pad 1), batch {batch}", (32, 64), feat,
         2 * 2 * batch * 64 * 288 * 196),
    ]
    out = []
    for name, (a, b), x, flops in specs:
        ours = nn.Linear(a, b) if name.startswith("Linear") else nn.Conv2d(a, b, 3, padding=1)
        case = Case("layers", name, {"numbagrad": _fwd_bwd(ours, fw.tensor(x))}, flops=flops)
        theirs = None
        if torch is not None:
            module = torch.nn.Linear(a, b) if name.startswith("Linear") else \
                torch.nn.Conv2d(a, b, 3, padding=1)
            theirs = _fwd_bwd(module, torch.from_numpy(x))
        out.append(refs.add_refs(case, against, theirs, None, missing))

    px = fw.tensor(pool_in, requires_grad=True)
    case = Case("layers", f"MaxPool2d(2) on ({batch}, 32, 28, 28)",
                {"numbagrad": lambda: nn.functional.max_pool2d(px, 2).sum().backward()},
                bytes=pool_in.nbytes * 2.5)
    theirs = None
    if torch is not None:
        tpx = torch.tensor(pool_in, requires_grad=True)
        theirs = lambda: torch.nn.functional.max_pool2d(tpx, 2).sum().backward()  # noqa: E731
    out.append(refs.add_refs(case, against, theirs, None, missing))

    lx, lt = fw.tensor(logits, requires_grad=True), fw.tensor(target)
    case = Case("layers", f"cross_entropy, 10 classes, batch {batch}",
                {"numbagrad": lambda: nn.functional.cross_entropy(lx, lt).backward()})
    theirs = None
    if torch is not None:
        tlx, tlt = torch.tensor(logits, requires_grad=True), torch.from_numpy(target)
        theirs = lambda: torch.nn.functional.cross_entropy(tlx, tlt).backward()  # noqa: E731
    out.append(refs.add_refs(case, against, theirs, None, missing))

    out.extend(_optimizer_cases(against, torch, missing))
    return out


def _optimizer_cases(against, torch, missing):
    from framework.training import mlp
    model = mlp(generator=fw.Generator(0))
    n = sum(p.numel() for p in model.parameters())
    for p in model.parameters():
        p.grad = fw.ones(p.shape)
    opts = {"SGD momentum": (fw.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), 16),
            "Adam": (fw.optim.Adam(model.parameters(), lr=1e-3), 28)}
    tmodel = None
    if torch is not None:
        T = torch.nn
        tmodel = T.Sequential(T.Flatten(), T.Linear(784, 512), T.ReLU(), T.Linear(512, 512),
                              T.ReLU(), T.Linear(512, 10))
        for p in tmodel.parameters():
            p.grad = torch.ones_like(p)
    out = []
    for name, (opt, bytes_per_param) in opts.items():
        case = Case("layers", f"{name} step, MLP ({n / 1e3:.0f}K params)",
                    {"numbagrad": opt.step}, bytes=bytes_per_param * n)
        theirs = None
        if tmodel is not None:
            theirs = (torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9)
                      if name.startswith("SGD") else
                      torch.optim.Adam(tmodel.parameters(), lr=1e-3)).step
        out.append(refs.add_refs(case, against, theirs, None, missing))
    return out
