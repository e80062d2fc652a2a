"""Suite ``ops``: per-op overhead, elementwise and reduction throughput, matmul."""
import numpy as np

import framework as fw
import framework.nn.functional as F

from . import refs
from .core import Case


def _tiny_step(against, torch):
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal(64).astype(np.float32)
    b_np = rng.standard_normal(64).astype(np.float32)
    a = fw.tensor(a_np, requires_grad=True)
    b = fw.tensor(b_np, requires_grad=True)

    def ours():
        a.grad = b.grad = None
        ((a * b + a).exp() * b).sum().backward()

    torch_impl = None
    if torch is not None:
        ta = torch.tensor(a_np, requires_grad=True)
        tb = torch.tensor(b_np, requires_grad=True)

        def torch_impl():
            ta.grad = tb.grad = None
            ((ta * tb + ta).exp() * tb).sum().backward()

    return Case("ops", "tiny step: ((a*b+a).exp()*b).sum().backward(), 64 elements",
                {"numbagrad": ours}), torch_impl


def _grad_step(compiled, torch):
    """Value and gradients of (a*b + c).relu().sum() on 64 elements: eager or through
    fw.compile, against PyTorch eager forward + torch.autograd.grad."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(64).astype(np.float32) for _ in range(3)]
    a, b, c = (fw.tensor(x) for x in arrays)

    def f(a, b, c):
        return (a * b + c).relu().sum()

    step = fw.value_and_grad(f, (0, 1, 2))
    if compiled:
        step = fw.compile(step)
    torch_impl = None
    if torch is not None:
        ta, tb, tc = (torch.tensor(x, requires_grad=True) for x in arrays)

        def torch_impl():
            value = (ta * tb + tc).relu().sum()
            return value, torch.autograd.grad(value, (ta, tb, tc))

    label = "fw.compile(value_and_grad)" if compiled else "value_and_grad, eager"
    return Case("ops", f"tiny step, {label}: (a*b+c).relu().sum(), 64 elements",
                {"numbagrad": lambda: step(a, b, c)},
                warmup_calls=3 if compiled else 1), torch_impl


def _label(n):
    return f"{n >> 20}M" if n >= 1 << 20 else f"{n >> 10}K" if n >= 1 << 10 else str(n)


def _elementwise_cases(n, rng, against, torch, missing):
    """Memory-bound cases on ``n`` elements. Built in a function of their own so that
    every closure binds this size's arrays (a loop variable would bind the last ones)."""
    x_np = rng.standard_normal(n).astype(np.float32)
    y_np = rng.standard_normal(n).astype(np.float32)
    x, y = fw.tensor(x_np), fw.tensor(y_np)
    tx, ty = (torch.from_numpy(x_np), torch.from_numpy(y_np)) if torch else (None, None)
    specs = [
        ("add", 12 * n, lambda: x + y, lambda: tx + ty, lambda: np.add(x_np, y_np)),
        ("relu", 8 * n, lambda: x.relu(), lambda: tx.relu(), lambda: np.maximum(x_np, 0)),
        ("mul+exp", 20 * n, lambda: (x * y).exp(), lambda: (tx * ty).exp(),
         lambda: np.exp(x_np * y_np)),
        ("sum", 4 * n, lambda: x.sum(), lambda: tx.sum(), lambda: x_np.sum()),
    ]
    out = []
    for name, nbytes, ours, theirs, numpy_impl in specs:
        case = Case("ops", f"{name}, {_label(n)} float32", {"numbagrad": ours}, bytes=nbytes)
        out.append(refs.add_refs(case, against, theirs if torch else None, numpy_impl, missing))
    return out


def _softmax_case(rows, cols, rng, against, torch, missing):
    """softmax forward + backward along the last dim of a (rows, cols) float32 batch."""
    x_np = rng.standard_normal((rows, cols)).astype(np.float32)
    x = fw.tensor(x_np, requires_grad=True)

    def ours():
        x.grad = None
        F.softmax(x, -1).sum().backward()

    theirs = None
    if torch is not None:
        tx = torch.tensor(x_np, requires_grad=True)

        def theirs():
            tx.grad = None
            torch.softmax(tx, -1).sum().backward()

    case = Case("ops", f"softmax fwd+bwd, ({rows}, {cols}) float32", {"numbagrad": ours},
                bytes=5 * 4 * rows * cols)
    return refs.add_refs(case, against, theirs, None, missing)


def cases(against, scale=1.0, torch_missing=None):
    torch, missing = refs.torch_module(against)
    missing = missing or torch_missing
    out = []
    case, torch_impl = _tiny_step(against, torch)
    out.append(refs.add_refs(case, against, torch_impl, None, missing))
    for compiled in (False, True):
        case, torch_impl = _grad_step(compiled, torch)
        out.append(refs.add_refs(case, against, torch_impl, None, missing))
    sizes = [1 << 20, 1 << 24] if scale >= 1 else [max(256, int((1 << 20) * scale))]
    rng = np.random.default_rng(0)
    for n in sizes:
        out.extend(_elementwise_cases(n, rng, against, torch, missing))
    for rows, cols in [(64, 10), (512, 1000)] if scale >= 1 else [(4, 10)]:
        out.append(_softmax_case(rows, cols, rng, against, torch, missing))
    dims = [256, 1024] if scale >= 1 else [max(8, int(256 * scale))]
    for d in dims:
        a_np = rng.standard_normal((d, d)).astype(np.float32)
        b_np = rng.standard_normal((d, d)).astype(np.float32)
        a, b = fw.tensor(a_np), fw.tensor(b_np)
        ta, tb = (torch.from_numpy(a_np), torch.from_numpy(b_np)) if torch else (None, None)
        case = Case("ops", f"matmul {d}x{d}x{d} float32", {"numbagrad": lambda a=a, b=b: a @ b},
                    flops=2.0 * d ** 3)
        theirs = (lambda ta=ta, tb=tb: ta @ tb) if torch else None
        out.append(refs.add_refs(case, against, theirs,
                                 lambda a_np=a_np, b_np=b_np: a_np @ b_np, missing))
    return out
