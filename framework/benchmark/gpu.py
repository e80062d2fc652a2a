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
from framework.data import MNIST, Subset

from . import refs
from .core import Case
from .mnist import CONFIGS, ours_epoch, torch_epoch

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
        theirs = None
        if torch is not None:
            theirs = lambda a=args: torch_epoch(  # noqa: E731
                torch, train_arrays, test_arrays, *a, device="cuda")
            torch_epoch(torch, train_arrays, test_arrays, *args, max_steps=3, device="cuda")
        for compiled in (False, True):
            ours = lambda a=args, c=compiled: ours_epoch(  # noqa: E731
                train, test, *a, device="cuda", compiled=c)
            ours_epoch(train, test, *args, max_steps=3, device="cuda",
                       compiled=compiled)  # compile, warm; untimed
            label = ", fw.compile" if compiled else ""
            case = Case("gpu", f"{name}{label}, one epoch of {len(train)} images on the GPU",
                        {"numbagrad": ours}, calibrate=False, warmup=False)
            out.append(refs.add_refs(case, against, theirs, None, missing))
    return out
