"""Suite ``gpu`` (``numbagrad bench --device cuda``): ours on the GPU against PyTorch on
the same GPU, in one run. TF32 is switched off in PyTorch, so both sides multiply in
full fp32. Every call ends with a device synchronize, so a time is the work's, not the
launch queue's.

Cases: the GEMM at 4096^3, the three forward GEMMs of the MNIST MLP at batch 256, and
one MNIST epoch of the MLP and the CNN with the data resident on the GPU on both sides
(ours: the DataLoader gathers batches on the device; PyTorch: indexing a CUDA tensor).
"""
import numpy as np

import framework as fw
from framework.data import MNIST, DataLoader, Subset
from framework.training import cnn, evaluate, mlp, train_epoch

from . import refs
from .core import Case
from .mnist import CONFIGS

MLP_GEMMS = ((256, 784, 512), (256, 512, 512), (256, 512, 10))  # (M, K, N) at batch 256


def _torch_cuda(against):
    torch, missing = refs.torch_module(against)
    if torch is not None and not torch.cuda.is_available():
        return None, "PyTorch here has no CUDA device"
    if torch is not None:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return torch, missing


def _gemm_case(torch, missing, against, shapes, name):
    rng = np.random.default_rng(0)
    mats = [(rng.standard_normal((m, k), dtype=np.float32),
             rng.standard_normal((k, n), dtype=np.float32)) for m, k, n in shapes]
    ours_in = [(fw.tensor(a, device="cuda"), fw.tensor(b, device="cuda")) for a, b in mats]

    def ours():
        for a, b in ours_in:
            a @ b
        fw.cuda.synchronize()
        return {}

    theirs = None
    if torch is not None:
        torch_in = [(torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda()) for a, b in mats]

        def theirs():
            for a, b in torch_in:
                a @ b
            torch.cuda.synchronize()
            return {}

    # No roofline column: the measured peaks are the CPU's. Against cuBLAS the ratio
    # says it directly (ratio 2 = half of cuBLAS's rate).
    case = Case("gpu", name, {"numbagrad": ours})
    return refs.add_refs(case, against, theirs, None, missing)


def ours_epoch(train, test, model_name, batch, opt_name, lr, seed, max_steps=None):
    model = {"mlp": mlp, "cnn": cnn}[model_name](generator=fw.Generator(seed)).to("cuda")
    opt = (fw.optim.SGD(model.parameters(), lr=lr) if opt_name == "sgd"
           else fw.optim.Adam(model.parameters(), lr=lr))
    loader = DataLoader(train, batch, shuffle=True, generator=fw.Generator(seed + 1),
                        device="cuda")
    loss = train_epoch(model, fw.nn.functional.cross_entropy, opt, loader, max_steps=max_steps)
    _, acc = evaluate(model, fw.nn.functional.cross_entropy,
                      DataLoader(test, 1000, device="cuda"))
    fw.cuda.synchronize()
    return {"train_loss": loss, "test_accuracy": acc}


def torch_epoch(torch, train, test, model_name, batch, opt_name, lr, seed, max_steps=None):
    torch.manual_seed(seed)
    T = torch.nn
    if model_name == "mlp":
        model = T.Sequential(T.Flatten(), T.Linear(784, 512), T.ReLU(), T.Linear(512, 512),
                             T.ReLU(), T.Linear(512, 10))
    else:
        model = T.Sequential(T.Conv2d(1, 32, 3, padding=1), T.ReLU(), T.MaxPool2d(2),
                             T.Conv2d(32, 64, 3, padding=1), T.ReLU(), T.MaxPool2d(2),
                             T.Flatten(), T.Linear(3136, 128), T.ReLU(), T.Linear(128, 10))
    model = model.cuda()
    opt = (torch.optim.SGD(model.parameters(), lr=lr) if opt_name == "sgd"
           else torch.optim.Adam(model.parameters(), lr=lr))
    x, y = torch.from_numpy(train[0]).cuda(), torch.from_numpy(train[1]).cuda()
    perm = torch.randperm(len(y), device="cuda")
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
        xt, yt = torch.from_numpy(test[0]).cuda(), torch.from_numpy(test[1]).cuda()
        correct = sum(int((model(xt[i:i + 1000]).argmax(1) == yt[i:i + 1000]).sum())
                      for i in range(0, len(yt), 1000))
    torch.cuda.synchronize()
    return {"train_loss": total / len(y), "test_accuracy": correct / len(yt)}


def cases(against, data_dir=None, download=False, scale=1.0):
    torch, missing = _torch_cuda(against)
    n = max(32, int(4096 * scale))
    out = [_gemm_case(torch, missing, against, [(n, n, n)], f"GEMM {n}^3 fp32")]
    if scale == 1:
        out.append(_gemm_case(torch, missing, against, MLP_GEMMS, "MLP forward GEMMs, batch "
                              "256 (256x784x512, 256x512x512, 256x512x10)"))
    train, test = MNIST(data_dir, True, download), MNIST(data_dir, False, download)
    if scale < 1:
        train = Subset(train, range(max(256, int(len(train) * scale))))
        test = Subset(test, range(max(100, int(len(test) * scale))))
    train_arrays, test_arrays = train.arrays(), test.arrays()
    for name, (model_name, batch, opt_name, lr) in CONFIGS.items():
        args = (model_name, batch, opt_name, lr, 0)
        ours = lambda a=args: ours_epoch(train, test, *a)  # noqa: E731
        ours_epoch(train, test, *args, max_steps=3)  # compile and warm caches, untimed
        theirs = None
        if torch is not None:
            theirs = lambda a=args: torch_epoch(torch, train_arrays, test_arrays, *a)  # noqa
            torch_epoch(torch, train_arrays, test_arrays, *args, max_steps=3)
        case = Case("gpu", f"{name}, one epoch of {len(train)} images on the GPU",
                    {"numbagrad": ours}, calibrate=False, warmup=False)
        out.append(refs.add_refs(case, against, theirs, None, missing))
    return out
