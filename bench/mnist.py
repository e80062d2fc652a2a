"""One MNIST epoch side by side: numbagrad, PyTorch eager (CPU) and a hand-written NumPy
MLP, same hyperparameters and thread count, plus time to the first training step with
a cold and a warm Numba cache (fresh processes).

    python bench/mnist.py --data-dir ../shared/data/mnist --threads 2
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import framework as fw  # noqa: E402
from bench.common import machine_facts, set_threads  # noqa: E402
from framework.data import MNIST, DataLoader  # noqa: E402
from framework.training import cnn, evaluate, mlp, train_epoch  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

MLP_FLOP_PER_SAMPLE = 6 * (784 * 512 + 512 * 512 + 512 * 10)  # fwd + bwd matmuls


def ours_epoch(data, model_name, batch, opt_name, lr, seed):
    train, test = data
    model = {"mlp": mlp, "cnn": cnn}[model_name](generator=fw.Generator(seed))
    opt = (fw.optim.SGD(model.parameters(), lr=lr) if opt_name == "sgd"
           else fw.optim.Adam(model.parameters(), lr=lr))
    loader = DataLoader(train, batch, shuffle=True, generator=fw.Generator(seed + 1))
    loss_fn = fw.nn.functional.cross_entropy
    start = time.perf_counter()
    train_epoch(model, loss_fn, opt, loader)
    seconds = time.perf_counter() - start
    _, acc = evaluate(model, loss_fn, DataLoader(test, 1000))
    return seconds, acc


def torch_epoch(data, model_name, batch, opt_name, lr, seed):
    train, test = data
    torch.manual_seed(seed)
    T = torch.nn
    if model_name == "mlp":
        model = T.Sequential(T.Flatten(), T.Linear(784, 512), T.ReLU(), T.Linear(512, 512),
                             T.ReLU(), T.Linear(512, 10))
    else:
        model = T.Sequential(T.Conv2d(1, 32, 3, padding=1), T.ReLU(), T.MaxPool2d(2),
                             T.Conv2d(32, 64, 3, padding=1), T.ReLU(), T.MaxPool2d(2),
                             T.Flatten(), T.Linear(3136, 128), T.ReLU(), T.Linear(128, 10))
    opt = (torch.optim.SGD(model.parameters(), lr=lr) if opt_name == "sgd"
           else torch.optim.Adam(model.parameters(), lr=lr))
    x, y = torch.from_numpy(train.data), torch.from_numpy(train.targets)
    perm = torch.randperm(len(y))
    start = time.perf_counter()
    for i in range(0, len(y), batch):
        idx = perm[i:i + batch]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        pred = model(torch.from_numpy(test.data)).argmax(1).numpy()
    return seconds, float((pred == test.targets).mean())


def numpy_mlp_epoch(data, batch, lr, seed):
    """The same MLP, forward and backward written by hand in NumPy, plain SGD."""
    train, test = data
    rng = np.random.default_rng(seed)
    sizes = [(784, 512), (512, 512), (512, 10)]
    params = []
    for fan_in, fan_out in sizes:
        bound = 1 / np.sqrt(fan_in)
        params.append([rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                       rng.uniform(-bound, bound, fan_out).astype(np.float32)])
    x_all = train.data.reshape(len(train), 784)
    y_all = train.targets
    perm = rng.permutation(len(y_all))
    start = time.perf_counter()
    for i in range(0, len(y_all), batch):
        idx = perm[i:i + batch]
        x, y = x_all[idx], y_all[idx]
        acts = [x]
        for j, (w, b) in enumerate(params):
            z = acts[-1] @ w + b
            acts.append(np.maximum(z, 0) if j < 2 else z)
        logits = acts[-1]
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        p[np.arange(len(y)), y] -= 1
        g = p / len(y)
        for j in (2, 1, 0):
            w, b = params[j]
            gw, gb = acts[j].T @ g, g.sum(0)
            if j:
                g = (g @ w.T) * (acts[j] > 0)
            w -= lr * gw
            b -= lr * gb
    seconds = time.perf_counter() - start
    h = test.data.reshape(len(test), 784)
    for j, (w, b) in enumerate(params):
        h = h @ w + b
        h = np.maximum(h, 0) if j < 2 else h
    return seconds, float((h.argmax(1) == test.targets).mean())


FIRST_STEP = r"""
import sys, time
t0 = time.perf_counter()
import framework as fw
fw.set_num_threads({threads})
model = fw.training.mlp(generator=fw.Generator(0))
opt = fw.optim.SGD(model.parameters(), lr=0.01)
x = fw.randn(64, 1, 28, 28, generator=fw.Generator(1))
y = fw.randint(0, 10, (64,), generator=fw.Generator(2))
loss = fw.nn.functional.cross_entropy(model(x), y)
loss.backward()
opt.step()
print(time.perf_counter() - t0)
"""


def time_to_first_step(threads):
    """Seconds from interpreter start-up to one finished MLP step: cold (empty Numba
    cache) and warm (the cache that run filled)."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache,
                   PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        code = FIRST_STEP.format(threads=threads)
        out = {}
        for label in ("cold", "warm"):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                  text=True, check=True)
            out[label] = {"in_process_s": float(proc.stdout.strip()),
                          "wall_s": time.perf_counter() - start}
        return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--cases", default="mlp64,mlp256,cnn64")
    p.add_argument("--json")
    args = p.parse_args(argv)
    set_threads(args.threads)
    data = (MNIST(args.data_dir, train=True), MNIST(args.data_dir, train=False))
    facts = machine_facts(args.threads)
    print(f"threads={args.threads}  numba {facts['numba']}  torch {facts['torch']}")
    result = {"machine": facts, "cases": {}}
    cases = {"mlp64": ("mlp", 64, "sgd", 0.01), "mlp256": ("mlp", 256, "sgd", 0.01),
             "cnn64": ("cnn", 64, "adam", 1e-3)}
    for name in args.cases.split(","):
        model_name, batch, opt_name, lr = cases[name]
        impls = {"numbagrad": lambda s: ours_epoch(data, model_name, batch, opt_name, lr, s)}
        if torch is not None:
            impls["torch"] = lambda s: torch_epoch(data, model_name, batch, opt_name, lr, s)
        if model_name == "mlp":
            impls["numpy"] = lambda s: numpy_mlp_epoch(data, batch, lr, s)
        runs = {k: [] for k in impls}
        for r in range(args.repeat):  # interleaved: machine drift hits every column alike
            for k, fn in impls.items():
                runs[k].append(fn(r))
        print(f"\n{name}: one epoch, {model_name} batch {batch} {opt_name} lr {lr}")
        row = {}
        for k, rs in runs.items():
            secs = [s for s, _ in rs]
            row[k] = {"min_s": min(secs), "median_s": statistics.median(secs),
                      "test_accuracy": [a for _, a in rs]}
            extra = ""
            if model_name == "mlp":
                extra = f"  {MLP_FLOP_PER_SAMPLE * 60000 / min(secs) / 1e9:6.1f} GFLOP/s"
            print(f"  {k:10s} min {min(secs):6.2f} s  median {statistics.median(secs):6.2f} s"
                  f"  accuracy {', '.join(f'{100 * a:.1f}%' for _, a in rs)}{extra}")
        for ref in ("torch", "numpy"):
            if ref in row:
                ratio = row["numbagrad"]["median_s"] / row[ref]["median_s"]
                row[f"ratio_vs_{ref}"] = ratio
                print(f"  ratio numbagrad/{ref} (median): {ratio:.2f}")
        result["cases"][name] = row
    first = time_to_first_step(args.threads)
    result["first_step"] = first
    print(f"\ntime to first step (fresh process): cold cache {first['cold']['wall_s']:.1f} s, "
          f"warm cache {first['warm']['wall_s']:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
