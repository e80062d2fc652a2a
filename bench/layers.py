"""Forward + backward of MNIST-sized layers and one optimizer step, side by side with
PyTorch (CPU) in one run at the same thread count.

    python bench/layers.py --threads 2
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import interleaved, machine_facts, set_threads  # noqa: E402

import framework as fw  # noqa: E402
import framework.nn as nn  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


def _fwd_bwd(module, x):
    def run():
        module.zero_grad()
        module(x).sum().backward()
    return run


def layer_cases(batch):
    rng = np.random.default_rng(0)
    img = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    feat = rng.standard_normal((batch, 32, 14, 14)).astype(np.float32)
    flat = img.reshape(batch, 784)
    logits = rng.standard_normal((batch, 10)).astype(np.float32)
    target = rng.integers(0, 10, batch)
    pool_in = rng.standard_normal((batch, 32, 28, 28)).astype(np.float32)

    cases = {}
    ours = {
        "Linear(784->512)": (nn.Linear(784, 512), flat),
        "Conv2d(1->32, 3x3, pad 1)": (nn.Conv2d(1, 32, 3, padding=1), img),
        "Conv2d(32->64, 3x3, pad 1)": (nn.Conv2d(32, 64, 3, padding=1), feat),
    }
    for name, (module, x) in ours.items():
        cases[name] = {"numbagrad": _fwd_bwd(module, fw.tensor(x))}
    px = fw.tensor(pool_in, requires_grad=True)
    cases["MaxPool2d(2)"] = {"numbagrad": lambda: nn.functional.max_pool2d(px, 2).sum().backward()}
    lx, lt = fw.tensor(logits, requires_grad=True), fw.tensor(target)
    cases["cross_entropy(10 classes)"] = {
        "numbagrad": lambda: nn.functional.cross_entropy(lx, lt).backward()}

    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512),
                        nn.ReLU(), nn.Linear(512, 10))
    for p in mlp.parameters():
        p.grad = fw.ones(p.shape)
    sgd = fw.optim.SGD(mlp.parameters(), lr=0.01, momentum=0.9)
    adam = fw.optim.Adam(mlp.parameters(), lr=1e-3)
    cases["SGD momentum step (MLP, 670K params)"] = {"numbagrad": sgd.step}
    cases["Adam step (MLP, 670K params)"] = {"numbagrad": adam.step}

    if torch is not None:
        T = torch.nn
        theirs = {
            "Linear(784->512)": (T.Linear(784, 512), flat),
            "Conv2d(1->32, 3x3, pad 1)": (T.Conv2d(1, 32, 3, padding=1), img),
            "Conv2d(32->64, 3x3, pad 1)": (T.Conv2d(32, 64, 3, padding=1), feat),
        }
        for name, (module, x) in theirs.items():
            cases[name]["torch"] = _fwd_bwd(module, torch.from_numpy(x))
        tpx = torch.tensor(pool_in, requires_grad=True)
        cases["MaxPool2d(2)"]["torch"] = \
            lambda: torch.nn.functional.max_pool2d(tpx, 2).sum().backward()
        tlx = torch.tensor(logits, requires_grad=True)
        tlt = torch.from_numpy(target)
        cases["cross_entropy(10 classes)"]["torch"] = \
            lambda: torch.nn.functional.cross_entropy(tlx, tlt).backward()
        tmlp = T.Sequential(T.Flatten(), T.Linear(784, 512), T.ReLU(), T.Linear(512, 512),
                            T.ReLU(), T.Linear(512, 10))
        for p in tmlp.parameters():
            p.grad = torch.ones_like(p)
        tsgd = torch.optim.SGD(tmlp.parameters(), lr=0.01, momentum=0.9)
        tadam = torch.optim.Adam(tmlp.parameters(), lr=1e-3)
        cases["SGD momentum step (MLP, 670K params)"]["torch"] = tsgd.step
        cases["Adam step (MLP, 670K params)"]["torch"] = tadam.step
    return cases


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--json")
    args = p.parse_args(argv)
    set_threads(args.threads)
    facts = machine_facts(args.threads)
    print(f"threads={args.threads} batch={args.batch}  numba {facts['numba']}  "
          f"torch {facts['torch']}")
    print(f"  {'case':40s} {'ours ms':>9s} {'torch ms':>9s} {'ratio':>6s}   (medians)")
    results = {}
    for name, impls in layer_cases(args.batch).items():
        times = interleaved(impls, repeat=args.repeat)
        ours = times["numbagrad"][1]
        ref = times.get("torch", (None, None))[1]
        results[name] = {k: {"min_s": v[0], "median_s": v[1]} for k, v in times.items()}
        ratio = f"{ours / ref:6.2f}" if ref else "   n/a"
        ref_s = f"{ref * 1e3:9.3f}" if ref else "      n/a"
        print(f"  {name:40s} {ours * 1e3:9.3f} {ref_s} {ratio}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": facts, "batch": args.batch, "cases": results}, f, indent=1)


if __name__ == "__main__":
    main()
