"""Finite-difference gradient checking, used by the tests of every op."""
import numpy as np

from ..tensor import Tensor
from . import engine


def gradcheck(fn, inputs, eps=1e-6, atol=1e-7, rtol=1e-6, raise_exception=True):
    """Compare the autograd gradient of ``fn`` with float64 central differences.

    ``fn(*inputs)`` may return any Tensor (or tuple); its outputs are contracted with
    fixed random weights so that every output element is checked. Inputs that require
    grad must be float64.

    Defaults: float64 central differences with ``eps`` 1e-6 err by truncation
    (~eps**2) and rounding (~1e-16/eps times the objective, a sum of many products),
    so ``atol`` 1e-7 and ``rtol`` 1e-6 reject a 1e-4 % error (PyTorch's rtol 1e-3
    lets 0.1 % pass) while the suite's checks still pass: ten times tighter, a conv
    check already fails on rounding alone.
    Contracting the outputs with random weights checks one vector-Jacobian product
    per input: a wrong Jacobian entry shows unless its error cancels against the
    random weights, which happens with probability zero.

    Returns True, or raises AssertionError naming the input and the worst element.
    """
    inputs = list(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad")
    for i in diff:
        if inputs[i].dtype.np != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype!r}; use float64")
    rng = np.random.default_rng(0)
    weights = []

    def objective(*args):
        outs = fn(*args)
        outs = outs if isinstance(outs, (tuple, list)) else (outs,)
        total = 0.0
        for j, o in enumerate(o for o in outs if isinstance(o, Tensor) and
                              o.dtype.is_floating_point):
            if len(weights) <= j:
                weights.append(rng.standard_normal(o.shape))
            total = total + (o * Tensor._wrap(o.kernels.from_host(weights[j], o.data.dtype),
                                              o.device, None, 0)).sum()
        return total

    for x in inputs:
        if isinstance(x, Tensor):
            x.grad = None
    objective(*inputs).backward()
    analytic = {i: (inputs[i].grad.numpy().copy() if inputs[i].grad is not None
                    else np.zeros(inputs[i].shape)) for i in diff}
    with engine.no_grad():
        for i in diff:
            host = inputs[i].data  # perturbed in place on the CPU
            flat = host.reshape(-1)
            numeric = np.zeros(flat.size)
            for j in range(flat.size):
                orig = flat[j]
                flat[j] = orig + eps
                plus = objective(*inputs).item()
                flat[j] = orig - eps
                minus = objective(*inputs).item()
                flat[j] = orig
                numeric[j] = (plus - minus) / (2 * eps)
            numeric = numeric.reshape(inputs[i].shape)
            err = np.abs(numeric - analytic[i]) - (atol + rtol * np.abs(numeric))
            if err.size and err.max() > 0:
                j = np.unravel_index(np.argmax(err), err.shape)
                msg = (f"gradcheck: gradient of input {i} (shape {inputs[i].shape}) differs "
                       f"at {tuple(int(v) for v in j)}: analytic {analytic[i][j]:.6g}, "
                       f"numeric {numeric[j]:.6g}")
                if raise_exception:
                    raise AssertionError(msg)
                return False
    return True
