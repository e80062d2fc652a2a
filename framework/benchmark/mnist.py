"""Suite ``mnist``: one training epoch of the MLP (batch 64, 256) and the CNN (batch 64),
ours against PyTorch eager and a hand-written NumPy MLP, with loss and accuracy shown so
that a fast wrong answer cannot pass."""
import numpy as np

import framework as fw
from framework.data import MNIST, DataLoader, Subset
from framework.training import cnn, evaluate, make_step, mlp, train_epoch

from . import refs
from .core import Case

CONFIGS = {"MLP batch 64": ("mlp", 64, "sgd", 0.01), "MLP batch 256": ("mlp", 256, "sgd", 0.01),
           "CNN batch 64": ("cnn", 64, "adam", 1e-3)}
MLP_FLOPS_PER_SAMPLE = 6 * (784 * 512 + 512 * 512 + 512 * 10)


def ours_epoch(train, test, model_name, batch, opt_name, lr, seed, max_steps=None,
               device="cpu", compiled=False):
    """One epoch from a fresh model; ``compiled``: the step through ``fw.compile``, whose
    recording (and the loading of its generated code) is part of the epoch's time."""
    model = {"mlp": mlp, "cnn": cnn}[model_name](generator=fw.Generator(seed)).to(device)
    opt = (fw.optim.SGD(model.parameters(), lr=lr) if opt_name == "sgd"
           else fw.optim.Adam(model.parameters(), lr=lr))
    loader = DataLoader(train, batch, shuffle=True, generator=fw.Generator(seed + 1),
                        device=device)
    loss_fn = fw.nn.functional.cross_entropy
    step = make_step(model, loss_fn, opt)
    loss = train_epoch(model, loss_fn, opt, loader, max_steps=max_steps,
                       step=fw.compile(step) if compiled else step)
    _, acc = evaluate(model, fw.nn.functional.cross_entropy,
                      DataLoader(test, 1000, device=device))
    if device == "cuda":
        fw.cuda.synchronize()
    return {"train_loss": loss, "test_accuracy": acc}


def torch_model(torch, model_name):
    """PyTorch's twin of ``framework.training``'s model ``model_name``."""
    T = torch.nn
    if model_name == "mlp":
        return T.Sequential(T.Flatten(), T.Linear(784, 512), T.ReLU(), T.Linear(512, 512),
                            T.ReLU(), T.Linear(512, 10))
    return T.Sequential(T.Conv2d(1, 32, 3, padding=1), T.ReLU(), T.MaxPool2d(2),
                        T.Conv2d(32, 64, 3, padding=1), T.ReLU(), T.MaxPool2d(2),
                        T.Flatten(), T.Linear(3136, 128), T.ReLU(), T.Linear(128, 10))


def torch_epoch(torch, train, test, model_name, batch, opt_name, lr, seed, max_steps=None,
                device="cpu"):
    """One epoch in PyTorch eager, the data set first moved to ``device`` whole."""
    torch.manual_seed(seed)
    model = torch_model(torch, model_name).to(device)
    opt = (torch.optim.SGD(model.parameters(), lr=lr) if opt_name == "sgd"
           else torch.optim.Adam(model.parameters(), lr=lr))
    x, y = torch.from_numpy(train[0]).to(device), torch.from_numpy(train[1]).to(device)
    perm = torch.randperm(len(y), device=device)
    total, steps = 0.0, 0
    for i in range(0, len(y), batch):
        idx = perm[i:i + batch]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        total, steps = total + loss.item() * len(idx), steps + 1
        if max_steps and steps >= max_steps:
            break
    with torch.no_grad():
        xt, yt = torch.from_numpy(test[0]).to(device), torch.from_numpy(test[1]).to(device)
        correct = sum(int((model(xt[i:i + 1000]).argmax(1) == yt[i:i + 1000]).sum())
                      for i in range(0, len(yt), 1000))
    if device == "cuda":
        torch.cuda.synchronize()
    return {"train_loss": total / len(y), "test_accuracy": correct / len(yt)}


def numpy_mlp_epoch(train, test, batch, lr, seed, max_steps=None):
    """The MLP with forward and backward written by hand in NumPy; plain SGD."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in ((784, 512), (512, 512), (512, 10)):
        bound = 1 / np.sqrt(fan_in)
        params.append([rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                       rng.uniform(-bound, bound, fan_out).astype(np.float32)])
    x_all, y_all = train[0].reshape(len(train[1]), 784), train[1]
    perm = rng.permutation(len(y_all))
    total = 0.0
    for step, i in enumerate(range(0, len(y_all), batch)):
        idx = perm[i:i + batch]
        acts, y = [x_all[idx]], y_all[idx]
        for j, (w, b) in enumerate(params):
            z = acts[-1] @ w + b
            acts.append(np.maximum(z, 0) if j < 2 else z)
        p = np.exp(acts[-1] - acts[-1].max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        total -= np.log(p[np.arange(len(y)), y]).sum()
        p[np.arange(len(y)), y] -= 1
        g = p / len(y)
        for j in (2, 1, 0):
            w, b = params[j]
            gw, gb = acts[j].T @ g, g.sum(0)
            if j:
                g = (g @ w.T) * (acts[j] > 0)
            w -= lr * gw
            b -= lr * gb
        if max_steps and step + 1 >= max_steps:
            break
    h = test[0].reshape(len(test[1]), 784)
    for j, (w, b) in enumerate(params):
        h = h @ w + b
        h = np.maximum(h, 0) if j < 2 else h
    accuracy = float((h.argmax(1) == test[1]).mean())
    return {"train_loss": float(total) / len(y_all), "test_accuracy": accuracy}


def cases(against, data_dir=None, download=False, scale=1.0, configs=None, torch_missing=None):
    torch, missing = refs.torch_module(against)
    missing = missing or torch_missing
    train, test = MNIST(data_dir, True, download), MNIST(data_dir, False, download)
    if scale < 1:
        train = Subset(train, range(max(256, int(len(train) * scale))))
        test = Subset(test, range(max(100, int(len(test) * scale))))
    train_arrays, test_arrays = train.arrays(), test.arrays()
    out = []
    for name in configs or CONFIGS:
        model_name, batch, opt_name, lr = CONFIGS[name]
        args = (model_name, batch, opt_name, lr, 0)
        theirs = None
        if torch is not None:
            theirs = lambda a=args: torch_epoch(torch, train_arrays, test_arrays, *a)  # noqa
            torch_epoch(torch, train_arrays, test_arrays, *args, max_steps=3)
        numpy_impl = None
        if model_name == "mlp":
            numpy_impl = lambda b=batch, r=lr: numpy_mlp_epoch(  # noqa: E731
                train_arrays, test_arrays, b, r, 0)
        flops = MLP_FLOPS_PER_SAMPLE * len(train) if model_name == "mlp" else 0.0
        for compiled in (False, True):
            ours = lambda a=args, c=compiled: ours_epoch(train, test, *a, compiled=c)  # noqa
            # Compile kernels (and the recorded step) and warm caches, untimed.
            ours_epoch(train, test, *args, max_steps=3, compiled=compiled)
            label = ", fw.compile" if compiled else ""
            case = Case("mnist", f"{name}{label}, one epoch of {len(train)} images",
                        {"numbagrad": ours}, flops=flops, calibrate=False, warmup=False)
            out.append(refs.add_refs(case, against, theirs, numpy_impl, missing))
    return out
