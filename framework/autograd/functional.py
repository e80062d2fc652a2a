"""Functional transforms in the style of JAX and MindSpore: ``grad``, ``value_and_grad``.

``grad`` is ``value_and_grad`` without the value: one implementation, as in JAX.
Arguments are validated before ``fn`` runs, so a bad ``argnums`` fails at once.
"""
import functools

from ..tensor import Tensor
from . import engine


def stop_gradient(x):
    """``x`` cut from the graph: no gradient flows back through it."""
    return x.detach()


def _check_argnums(argnums, weights):
    if argnums is None:
        if weights is None:
            raise TypeError("argnums=None needs weights=[...] to differentiate with respect to")
        return None
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if not isinstance(nums, tuple) or not nums or any(
            not isinstance(i, int) or isinstance(i, bool) for i in nums):
        raise TypeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    if len(set(nums)) != len(nums):
        raise TypeError(f"argnums {argnums!r} names an argument twice")
    return nums


def _check_weights(weights):
    if weights is None:
        return None
    weights = list(weights)
    for i, w in enumerate(weights):
        if not isinstance(w, Tensor):
            raise TypeError(f"weights[{i}] is a {type(w).__name__}, expected a Tensor")
        if not w.dtype.is_floating_point:
            raise TypeError(f"weights[{i}] has dtype {w.dtype!r}; only floating point "
                            "tensors can be differentiated")
    return weights


def _diff_inputs(args, nums, fname):
    """Fresh leaves standing in for the differentiated arguments."""
    args = list(args)
    for i in nums:
        if not -len(args) <= i < len(args):
            raise TypeError(f"{fname}: argnums {i} is out of range for a call with "
                            f"{len(args)} positional arguments")
        a = args[i]
        if not isinstance(a, Tensor):
            raise TypeError(f"{fname}: argument {i} is a {type(a).__name__}; grad needs a "
                            "floating point Tensor there")
        if not a.dtype.is_floating_point:
            raise TypeError(f"{fname}: argument {i} has dtype {a.dtype!r}; only floating "
                            "point tensors can be differentiated")
        args[i] = a.detach().requires_grad_(True)
    return args, [args[i] for i in nums]


def _split_outputs(out, has_aux, fname):
    """(tensors to differentiate, aux tuple) from ``fn``'s return value."""
    if has_aux:
        if not isinstance(out, tuple) or len(out) < 2:
            raise TypeError(f"{fname}: has_aux=True needs fn to return a tuple "
                            "(output, aux...), got " + type(out).__name__)
        head, aux = out[0], tuple(out[1:])
        _check_scalar(head, fname)
        return [head], aux
    if isinstance(out, tuple):
        for i, o in enumerate(out):
            if not isinstance(o, Tensor):
                raise TypeError(f"{fname}: output {i} of fn is a {type(o).__name__}, "
                                "expected a Tensor")
        return list(out), None
    _check_scalar(out, fname)
    return [out], None


def _check_scalar(out, fname):
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}: fn must return a Tensor, got {type(out).__name__}")
    if out.numel() != 1:
        raise TypeError(f"{fname}: fn must return a scalar (one-element) Tensor, got shape "
                        f"{out.shape}; return a tuple to differentiate several outputs, or "
                        "reduce it (e.g. .sum())")


def _gradients(outputs, inputs):
    """d(sum of outputs)/d(inputs), each output seeded with ones; zeros where unused."""
    roots, seeds = [], []
    for o in outputs:
        if o.requires_grad:
            k = o.kernels
            seed = k.empty(o.data.shape, o.data.dtype)
            k.fill(seed.reshape(-1), 1)
            roots.append(o)
            seeds.append(seed)
    grads = engine.run_backward(roots, seeds, capture=inputs, accumulate=False) \
        if roots else [None] * len(inputs)
    result = []
    for t, g in zip(inputs, grads):
        if g is None:
            g = t.kernels.zeros(t.data.shape, t.data.dtype)
        result.append(Tensor._wrap(g, t.device, None, 0))
    return result


def value_and_grad(fn, argnums=0, has_aux=False, weights=None):
    """A function returning ``(fn(*args), gradients)``.

    Args:
        fn: returns a scalar Tensor; or a tuple of Tensors, whose gradients add up
            (each seeded with ones); or, with ``has_aux``, a tuple whose first item
            is the scalar to differentiate and the rest auxiliary data.
        argnums: int or tuple of ints, the positional arguments to differentiate;
            None with ``weights`` to differentiate with respect to those only.
        has_aux: see ``fn``.
        weights: tensors (parameters) that ``fn`` uses, to differentiate as well.

    Returns:
        The gradient(s): one Tensor for an int ``argnums``, a tuple for a tuple, the
        weights' tuple for ``argnums=None``, and ``(args_grads, weights_grads)`` when
        both are given.
    """
    nums = _check_argnums(argnums, weights)
    weights = _check_weights(weights)
    fname = getattr(fn, "__name__", "fn")

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        args, diff_args = _diff_inputs(args, nums or (), fname)
        with engine.enable_grad():
            out = fn(*args, **kwargs)
        outputs, aux = _split_outputs(out, has_aux, fname)
        grads = _gradients(outputs, diff_args + (weights or []))
        if has_aux:  # as in JAX and MindSpore: auxiliary outputs carry no graph
            out = (out[0],) + tuple(a.detach() if isinstance(a, Tensor) else a for a in aux)
        arg_grads, weight_grads = grads[:len(diff_args)], tuple(grads[len(diff_args):])
        if nums is not None:
            arg_grads = arg_grads[0] if isinstance(argnums, int) else tuple(arg_grads)
        if nums is None:
            result = weight_grads
        elif weights is None:
            result = arg_grads
        else:
            result = (arg_grads, weight_grads)
        return out, result

    return wrapped


def grad(fn, argnums=0, has_aux=False, weights=None):
    """Like ``value_and_grad`` but returns only the gradients (and, with ``has_aux``,
    ``(gradients, aux)`` where ``aux`` is the tuple of ``fn``'s other outputs)."""
    value_and_grad_fn = value_and_grad(fn, argnums, has_aux, weights)

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        out, grads = value_and_grad_fn(*args, **kwargs)
        return (grads, tuple(out[1:])) if has_aux else grads

    return wrapped
