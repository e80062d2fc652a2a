"""Conv2d and pooling modules."""


from .. import creation
from . import functional as F
from .layers import _init_affine
from .module import Module
from .parameter import Parameter


class Conv2d(Module):
    """2-D convolution with square kernels; stride, padding, dilation 1, groups 1."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, device=None, dtype=None, generator=None,
                 weight_init=None, bias_init=None):
        super().__init__()
        if dilation not in (1, (1, 1)) or groups != 1:
            raise ValueError("Conv2d: only dilation=1 and groups=1 are supported")
        k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, (k, k)
        self.stride, self.padding = stride, padding
        self.weight = Parameter(creation.empty(out_channels, in_channels, k, k, dtype=dtype,
                                               device=device))
        self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device)) \
            if bias else None
        _init_affine(self.weight, self.bias, in_channels * k * k, weight_init, bias_init,
                     generator)


    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        stride = self.kernel_size if self.stride is None else self.stride
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


class AvgPool2d(MaxPool2d):
    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)
