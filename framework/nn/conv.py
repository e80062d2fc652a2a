"""Conv2d and pooling modules, with PyTorch's arguments, weight layout and init."""
from .. import creation
from ..autograd.ops.conv import pair, same_padding
from . import functional as F
from .layers import _init_affine
from .module import Module
from .parameter import Parameter


def _positive_channels(in_channels, out_channels, groups):
    for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                    ("groups", groups)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"Conv2d: {name} must be a positive int, got {v!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"Conv2d: groups={groups} must divide in_channels={in_channels} and "
                         f"out_channels={out_channels}")


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _check_padding(padding, stride):
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"Conv2d: invalid padding string {padding!r}, should be 'valid' "
                             f"or 'same'")
        if padding == "same" and stride != (1, 1):
            raise ValueError(f"Conv2d: padding='same' is not supported for strided "
                             f"convolutions (stride={stride})")
        return padding
    pad = pair(padding, "padding", "Conv2d")
    if min(pad) < 0:
        raise ValueError(f"Conv2d: padding must be >= 0, got {pad}")
    return pad


def _reversed_padding(padding, kernel, dilation):
    """``F.pad``'s (left, right, top, bottom) for ``padding`` (a pair, "valid" or
    "same", whose odd pixel goes right/bottom), as PyTorch's
    ``_reversed_padding_repeated_twice``."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        lo, hi = same_padding(kernel, dilation)
    else:
        lo = hi = padding
    return (lo[1], hi[1], lo[0], hi[0])


class Conv2d(Module):
    """2-D convolution; weight (out_channels, in_channels / groups, kh, kw) as PyTorch.

    Every size argument is an int or a pair; ``padding`` also "valid" or "same".
    ``padding_mode`` "zeros" pads with zeros; "reflect", "replicate" or "circular"
    pad the input with ``F.pad`` in that mode, then convolve without padding.
    Initialized as PyTorch: kaiming_uniform(a=sqrt(5)) weights and
    uniform(+-1/sqrt(fan_in)) bias, with fan_in = in_channels / groups * kh * kw.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None, generator=None, weight_init=None, bias_init=None):
        super().__init__()
        _positive_channels(in_channels, out_channels, groups)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of "
                             f"{', '.join(map(repr, PADDING_MODES))}, got {padding_mode!r}")
        kh, kw = pair(kernel_size, "kernel_size", "Conv2d")
        if kh < 1 or kw < 1:
            raise ValueError(f"Conv2d: kernel_size must be positive, got {(kh, kw)}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = (kh, kw)
        self.stride = pair(stride, "stride", "Conv2d")
        self.padding = _check_padding(padding, self.stride)
        self.dilation, self.groups = pair(dilation, "dilation", "Conv2d"), groups
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = _reversed_padding(
            self.padding, self.kernel_size, self.dilation)
        self.weight = Parameter(creation.empty(out_channels, in_channels // groups, kh, kw,
                                               dtype=dtype, device=device))
        self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device)) \
            if bias else None
        _init_affine(self.weight, self.bias, in_channels // groups * kh * kw, weight_init,
                     bias_init, generator)

    def forward(self, x):
        if self.padding_mode == "zeros":
            return F.conv2d(x, self.weight, self.bias, self.stride, self.padding,
                            self.dilation, self.groups)
        pads = self._reversed_padding_repeated_twice
        if any(pads):
            x = F.pad(x, pads, mode=self.padding_mode)
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding not in ((0, 0), "valid"):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class MaxPool2d(Module):
    """Max pooling; arguments as ``F.max_pool2d``."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self):
        stride = self.kernel_size if self.stride is None else self.stride
        return (f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Average pooling; arguments as ``F.avg_pool2d``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        stride = self.kernel_size if self.stride is None else self.stride
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size; arguments as ``F.adaptive_avg_pool2d``."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
