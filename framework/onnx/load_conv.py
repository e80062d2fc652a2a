"""Import of the image ops: Conv, MaxPool, AveragePool, global pooling, BatchNormalization,
Pad.

Attributes pass through to ``F.conv2d`` / ``F.max_pool2d`` / ``F.avg_pool2d`` as their
PyTorch-style arguments. A pooling attribute that our functional does not take is an
error at load time naming the node and the attribute; a value the functional rejects
(it checks its own arguments) is an error at run time naming the node.
"""
import inspect

import numpy as np

from ..autograd.ops import reduce as rd
from ..nn import functional as F


def _pair(values, name, spec):
    values = list(values)
    if len(values) != 2:
        raise spec.error(f"attribute {name}={values}: only 2-D (N, C, H, W) inputs are "
                         f"supported")
    return tuple(int(v) for v in values)


def _padding(spec, kernel, strides, dilations, allow_same=False):
    """The symmetric (h, w) padding from ``pads`` or ``auto_pad``."""
    auto = spec.attr("auto_pad", "NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto == "VALID":
        return (0, 0)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        spans = [d * (k - 1) for k, d in zip(kernel, dilations)]
        if any(s != 1 for s in strides) or any(span % 2 for span in spans):
            raise spec.error(f"attribute auto_pad={auto} with strides {list(strides)} and "
                             f"kernel {list(kernel)} needs asymmetric padding, which is "
                             f"not supported")
        return tuple(span // 2 for span in spans)
    if auto != "NOTSET":
        raise spec.error(f"attribute auto_pad={auto!r} is not supported")
    pads = list(spec.attr("pads", [0, 0, 0, 0]))
    if len(pads) != 4:
        raise spec.error(f"attribute pads={pads}: only 2-D (N, C, H, W) inputs are supported")
    if pads[:2] != pads[2:]:
        if allow_same and _same_padding(pads, kernel, strides, dilations):
            return "same"  # what we (and PyTorch) export for padding="same"
        raise spec.error(f"attribute pads={pads} (asymmetric: begin != end) is not supported")
    return tuple(pads[:2])


def _same_padding(pads, kernel, strides, dilations):
    """Whether asymmetric ``pads`` are PyTorch's padding="same" (stride 1, the odd pixel
    at the end)."""
    spans = [d * (k - 1) for k, d in zip(kernel, dilations)]
    return all(s == 1 for s in strides) and pads == [sp // 2 for sp in spans] + [
        sp - sp // 2 for sp in spans]


def _square(pair):
    """An (h, w) pair as one int when both agree: what every conv signature accepts."""
    return pair[0] if pair[0] == pair[1] else pair


def _geometry(spec, kernel, allow_same=False):
    kernel = _pair(kernel, "kernel_shape", spec)
    strides = _pair(spec.attr("strides", [1, 1]), "strides", spec)
    dilations = _pair(spec.attr("dilations", [1, 1]), "dilations", spec)
    return kernel, strides, _padding(spec, kernel, strides, dilations, allow_same), dilations


def _conv(spec):
    w = spec.const_input(1)
    kernel = spec.attr("kernel_shape", None if w is None else list(w.shape[2:]))
    if kernel is None:
        raise spec.error("a Conv without kernel_shape needs its weight as an initializer")
    _, strides, padding, dilations = _geometry(spec, kernel, allow_same=True)
    group = int(spec.attr("group", 1))
    stride, dilation = _square(strides), _square(dilations)
    pad = padding if isinstance(padding, str) else _square(padding)

    def conv(x, weight, bias=None):
        return F.conv2d(x, weight, bias, stride, pad, dilation, group)
    return conv


def _pool_kwargs(spec, fn, extras):
    """Keyword arguments for non-default attributes; an error where ``fn`` lacks one."""
    params = inspect.signature(fn).parameters
    kwargs = {}
    for attr, (arg, value, default) in extras.items():
        if value == default:
            continue
        if arg not in params:
            raise spec.error(f"attribute {attr}={value!r} is not supported")
        kwargs[arg] = value
    return kwargs


def _max_pool(spec):
    if len(spec.outputs) > 1 and spec.outputs[1]:
        raise spec.error("the Indices output of MaxPool is not supported")
    if spec.attr("storage_order", 0):
        raise spec.error("attribute storage_order=1 is not supported")
    kernel, strides, padding, dilations = _geometry(spec, spec.attr("kernel_shape"))
    kwargs = _pool_kwargs(spec, F.max_pool2d, {
        "dilations": ("dilation", _square(dilations), 1),
        "ceil_mode": ("ceil_mode", bool(spec.attr("ceil_mode", 0)), False)})
    args = (_square(kernel), _square(strides), _square(padding))
    return lambda x: F.max_pool2d(x, *args, **kwargs)


def _avg_pool(spec):
    kernel, strides, padding, dilations = _geometry(spec, spec.attr("kernel_shape"))
    include = bool(spec.attr("count_include_pad", 0)) or padding == (0, 0)
    kwargs = _pool_kwargs(spec, F.avg_pool2d, {
        "dilations": ("dilation", _square(dilations), 1),
        "ceil_mode": ("ceil_mode", bool(spec.attr("ceil_mode", 0)), False),
        # Our avg_pool2d, like PyTorch's, counts the padding by default.
        "count_include_pad": ("count_include_pad", include, True)})
    args = (_square(kernel), _square(strides), _square(padding))
    return lambda x: F.avg_pool2d(x, *args, **kwargs)


def _global_pool(is_max):
    def factory(spec):
        def run(x):
            dims = tuple(range(2, x.ndim))
            return rd.amax(x, dims, keepdim=True) if is_max else x.mean(dims, keepdim=True)
        return run
    return factory


def _batch_norm(spec):
    if spec.attr("training_mode", 0) or any(spec.outputs[1:]):
        raise spec.error("training mode (running statistics outputs) is not supported")
    eps = float(spec.attr("epsilon", 1e-5))

    def run(x, scale, bias, mean, var):
        return F.batch_norm(x, mean, var, scale, bias, False, 0.0, eps)
    return run


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate",
              "wrap": "circular"}


def _pad_inputs(spec):
    """(pads, constant value or None, axes or None) known at load time."""
    known = [spec.const_input(i) for i in (1, 2, 3)]
    for i, (what, value) in enumerate(zip(("pads", "constant_value", "axes"), known), 1):
        if value is None and i < len(spec.inputs) and spec.inputs[i]:
            raise spec.error(f"input {what} must be an initializer or a Constant")
    pads, value, axes = known
    if pads is None:
        raise spec.error("a Pad needs its pads input")
    value = None if value is None or not np.asarray(value).size else \
        np.asarray(value).reshape(-1)[0].item()
    axes = None if axes is None else [int(a) for a in np.asarray(axes).reshape(-1)]
    return [int(p) for p in np.asarray(pads).reshape(-1)], value, axes


def _pad(spec):
    mode = spec.attr("mode", "constant")
    if mode not in _PAD_MODES:
        raise spec.error(f"attribute mode={mode!r} is not supported")
    pads, value, axes = _pad_inputs(spec)
    if mode != "constant" and min(pads, default=0) < 0:
        raise spec.error(f"negative pads {pads} with mode {mode!r} are not supported")
    mode = _PAD_MODES[mode]

    def run(x, *_known_at_load):
        dims = list(range(x.ndim)) if axes is None else [a % x.ndim for a in axes]
        if len(pads) != 2 * len(dims):
            raise spec.error(f"pads {pads} do not match {len(dims)} padded axes of the "
                             f"input of shape {x.shape}")
        pairs = {d: (pads[i], pads[i + len(dims)]) for i, d in enumerate(dims)}
        first = min((d for d, p in pairs.items() if p != (0, 0)), default=x.ndim)
        if mode != "constant":  # these pad the dims after the (batch and) channel dims
            first = min(first, max(x.ndim - 2, 1))
        torch_pad = [p for d in reversed(range(first, x.ndim)) for p in pairs.get(d, (0, 0))]
        return F.pad(x, tuple(torch_pad), mode=mode,
                     value=(value or 0.0) if mode == "constant" else None)
    return run


NODES = {"Conv": _conv, "MaxPool": _max_pool, "AveragePool": _avg_pool,
         "GlobalAveragePool": _global_pool(False), "GlobalMaxPool": _global_pool(True),
         "BatchNormalization": _batch_norm, "Pad": _pad}
