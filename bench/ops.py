"""Per-op overhead and large elementwise / reduction throughput, side by side with
PyTorch (CPU) and NumPy in one run.

    python bench/ops.py --threads 2
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import interleaved, machine_facts, set_threads  # noqa: E402

import framework as fw  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


def tiny_step_cases():
    """Forward + backward of ((a*b + a).exp() * b).sum() on 64 elements."""
    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal(64).astype(np.float32), rng.standard_normal(64).astype(
        np.float32)
    a = fw.tensor(a_np, requires_grad=True)
    b = fw.tensor(b_np, requires_grad=True)

    def ours():
        a.grad = b.grad = None
        ((a * b + a).exp() * b).sum().backward()

    cases = {"numbagrad": ours}
    if torch is not None:
        ta = torch.tensor(a_np, requires_grad=True)
        tb = torch.tensor(b_np, requires_grad=True)

        def theirs():
            ta.grad = tb.grad = None
            ((ta * tb + ta).exp() * tb).sum().backward()

        cases["torch"] = theirs
    return cases


def throughput_cases(n):
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(n).astype(np.float32)
    y_np = rng.standard_normal(n).astype(np.float32)
    out = np.empty_like(x_np)
    x, y = fw.tensor(x_np), fw.tensor(y_np)
    cases = {
        "copy (np)": (lambda: np.copyto(out, x_np), 2),
        "add": (lambda: x + y, 3),
        "add (np)": (lambda: np.add(x_np, y_np), 3),
        "mul+exp": (lambda: (x * y).exp(), 5),
        "mul+exp (np)": (lambda: np.exp(x_np * y_np), 5),
        "sum": (lambda: x.sum(), 1),
        "sum (np)": (lambda: x_np.sum(), 1),
        "relu": (lambda: x.relu(), 2),
        "relu (np)": (lambda: np.maximum(x_np, 0), 2),
    }
    if torch is not None:
        tx, ty = torch.from_numpy(x_np), torch.from_numpy(y_np)
        cases.update({"add (torch)": (lambda: tx + ty, 3),
                      "mul+exp (torch)": (lambda: (tx * ty).exp(), 5),
                      "sum (torch)": (lambda: tx.sum(), 1),
                      "relu (torch)": (lambda: tx.relu(), 2)})
    return cases


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--sizes", default="1M,4M,16M")
    p.add_argument("--json")
    args = p.parse_args(argv)
    set_threads(args.threads)
    result = {"machine": machine_facts(args.threads), "tiny": {}, "throughput": {}}
    print(f"threads={args.threads}  numba {result['machine']['numba']}  torch "
          f"{result['machine']['torch']}")

    tiny = interleaved(tiny_step_cases(), repeat=args.repeat)
    result["tiny"] = tiny
    print("\ntiny step: ((a*b + a).exp() * b).sum().backward(), 64 float32 elements")
    for name, (lo, med) in tiny.items():
        print(f"  {name:12s} min {lo * 1e6:7.1f} us   median {med * 1e6:7.1f} us")
    if "torch" in tiny:
        print(f"  ratio numbagrad/torch (median): {tiny['numbagrad'][1] / tiny['torch'][1]:.2f}")

    for label in args.sizes.split(","):
        n = int(float(label.rstrip("M")) * (1 << 20))
        cases = throughput_cases(n)
        times = interleaved({k: v[0] for k, v in cases.items()}, repeat=args.repeat)
        copy_gbs = 2 * 4 * n / times["copy (np)"][0] / 1e9
        print(f"\n{label} float32 elements (copy reaches {copy_gbs:.1f} GB/s)")
        print(f"  {'case':16s} {'median ms':>10s} {'GB/s':>7s} {'% copy':>7s} {'vs torch':>9s} "
              f"{'vs numpy':>9s}")
        rows = {}
        for name, (fn, arrays) in cases.items():
            if "(" in name:
                continue
            lo, med = times[name]
            gbs = arrays * 4 * n / lo / 1e9
            vs_t = times.get(f"{name} (torch)", (None, None))[1]
            vs_n = times.get(f"{name} (np)", (None, None))[1]
            rows[name] = {"median_s": med, "min_s": lo, "gbs": gbs,
                          "frac_copy": gbs / copy_gbs,
                          "ratio_torch": med / vs_t if vs_t else None,
                          "ratio_numpy": med / vs_n if vs_n else None}
            print(f"  {name:16s} {med * 1e3:10.3f} {gbs:7.1f} {gbs / copy_gbs:7.0%} "
                  f"{(med / vs_t) if vs_t else float('nan'):9.2f} "
                  f"{(med / vs_n) if vs_n else float('nan'):9.2f}")
        result["throughput"][label] = {"copy_gbs": copy_gbs, "cases": rows}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
