"""``Function``: an op's forward and backward, declared once, side by side.

``forward(ctx, *args)`` receives raw device arrays for tensor arguments (other
arguments as given) and returns an array or a tuple of arrays; ``backward(ctx,
*grad_outputs)`` returns one gradient array (or None) per forward argument. Both
call kernels through ``ctx.kernels`` and never touch numba or the device directly.
A backward returns fresh arrays or the very ``grad_output`` it was given: the
engine copies where one array would reach two destinations.
"""
from ..device import kernels_for
from . import engine, version

_TENSOR = []


def _load_tensor():
    # tensor.py imports this package, so Tensor is looked up on first use, once.
    from ..tensor import Tensor
    _TENSOR.append(Tensor)
    return Tensor


class Context:
    """Per-call state shared by forward and backward; doubles as the graph node.

    Ops may set further attributes of their own (shapes, plans) in forward.
    """

    # Class-level defaults: a new Context sets only what differs per call.
    saved = ()
    fn = None
    inputs = ()
    n_outputs = 1
    freed = False
    versions = ()  # flat: counter, value at save, saved array (version.record_saved)

    def __init__(self, kernels, device, needs_input_grad):
        self.kernels = kernels
        self.device = device
        self.out_device = device  # only a device transfer changes it
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *arrays):
        """Keep arrays for backward; they are dropped once backward has run."""
        self.saved = arrays

    @property
    def saved_tensors(self):
        return self.saved


class Function:
    """Base class of every differentiable op."""

    # True for ops whose output is a view of their first input's memory (reshape):
    # the output then shares the input's version counter.
    returns_view = False

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        Tensor = _TENSOR[0] if _TENSOR else _load_tensor()
        device = None
        needs = []
        raw = []
        for arg in args:
            if isinstance(arg, Tensor):
                if device is None:
                    device = arg.device
                elif arg.device is not device and arg.device != device:
                    raise RuntimeError(
                        f"{cls.__name__}: expected all tensors on one device, found "
                        f"{device} and {arg.device}")
                needs.append(arg.requires_grad)
                raw.append(arg.data)
            else:
                needs.append(False)
                raw.append(arg)
        record = engine.is_grad_enabled() and any(needs)
        ctx = Context(kernels_for(device), device, tuple(needs))
        out = cls.forward(ctx, *raw)
        if record:
            ctx.fn = cls
            ctx.inputs = args if all(needs) else tuple(
                a if n else None for a, n in zip(args, needs))
        device = ctx.out_device
        if isinstance(out, tuple):
            ctx.n_outputs = len(out)
            ctx.output_meta = [(o.shape, o.dtype) for o in out]
            result = tuple(Tensor._wrap(o, device, ctx if record else None, i)
                           for i, o in enumerate(out))
        else:
            result = Tensor._wrap(out, device, ctx if record else None, 0)
            if cls.returns_view:
                version.share_counter(result, args[0])
        if record and ctx.saved:
            version.record_saved(ctx, args, result if isinstance(result, tuple) else (result,))
        observer = engine._state.observer
        if observer is not None:
            observer(cls, args, result if isinstance(result, tuple) else (result,))
        return result
