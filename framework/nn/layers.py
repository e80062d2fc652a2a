"""Linear, Identity, Flatten, Dropout, Sequential."""
import math
from collections import OrderedDict

from .. import creation
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def _init_affine(weight, bias, fan_in, weight_init, bias_init, generator):
    """PyTorch's default (uniform in +-1/sqrt(fan_in)) unless named initializers are given."""
    if weight_init is None:
        init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    else:
        init.by_name(weight, weight_init, generator)
    if bias is not None:
        if bias_init is None:
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(bias, -bound, bound, generator)
        else:
            init.by_name(bias, bias_init, generator)


class Linear(Module):
    """y = x @ W^T + b with W of shape (out_features, in_features), as PyTorch."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None,
                 generator=None, weight_init=None, bias_init=None):
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear: features must be positive, got in_features="
                             f"{in_features}, out_features={out_features}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(creation.empty(out_features, in_features, dtype=dtype,
                                               device=device))
        self.bias = Parameter(creation.empty(out_features, dtype=dtype, device=device)) \
            if bias else None
        _init_affine(self.weight, self.bias, in_features, weight_init, bias_init, generator)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    def forward(self, x):
        return x


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Zeroes elements with probability ``p`` in training; the identity in eval mode."""

    def __init__(self, p=0.5, generator=None):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability must be in [0, 1], got {p}")
        self.p, self.generator = p, generator

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.generator)

    def extra_repr(self):
        return f"p={self.p}"


class Sequential(Module):
    """Modules applied in order; indexable and sized like a list."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[index][1]

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self
