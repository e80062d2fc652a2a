"""Gradient utilities."""
import math

from ..autograd import version
from ..autograd.engine import no_grad
from ..compile.capture import recorder


def zero_grad_(parameters, set_to_none=True):
    """Drop (``set_to_none``) or zero the gradients of ``parameters``."""
    rec = recorder()
    for p in parameters:
        if rec is not None:
            rec.note_grad(p, resets=set_to_none)
        if p.grad is not None:
            if set_to_none:
                p.grad = None
            else:
                p.grad.zero_()


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale gradients in place so that their joint 2-norm is at most ``max_norm``.

    Returns the total norm before clipping (a Python float).
    """
    if float(norm_type) != 2.0:
        raise ValueError(f"clip_grad_norm_: only norm_type=2 is supported, got {norm_type}")
    params = [parameters] if hasattr(parameters, "grad") else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    total = 0.0
    for g in grads:
        k = g.kernels
        out = k.zeros((1,), "float64")
        k.sum_squares(out, g.data.reshape(-1))
        total += float(k.to_host(out)[0])
    norm = math.sqrt(total)
    if error_if_nonfinite and not math.isfinite(norm):
        raise RuntimeError(f"clip_grad_norm_: the total norm of gradients is {norm}")
    coef = max_norm / (norm + 1e-6)
    if coef < 1.0:
        with no_grad():
            for g in grads:
                g.kernels.scale(g.data.reshape(-1), coef)
                version.bump(g, "clip_grad_norm_")
    return norm
