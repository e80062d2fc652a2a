"""Parameter initialization, in place, drawing from an explicit ``generator``."""
import math

from ..autograd import version
from ..autograd.engine import no_grad
from ..random import default_generator


def _fill(tensor, host_array):
    k = tensor.kernels
    src = k.from_host(host_array, tensor.data.dtype)
    with no_grad():
        k.cast(tensor.data.reshape(-1), src.reshape(-1))
    version.bump(tensor, "nn.init")
    return tensor


def _rng(generator):
    return (generator or default_generator).numpy


def _fans(tensor):
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dims, got shape "
                         f"{tensor.shape}")
    receptive = 1
    for n in tensor.shape[2:]:
        receptive *= n
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def calculate_gain(nonlinearity, param=None):
    """PyTorch's recommended gains."""
    if nonlinearity in ("linear", "conv2d", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def constant_(tensor, val):
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def _fan(tensor, mode):
    fan_in, fan_out = _fans(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def by_name(tensor, name, generator=None):
    """Initialize by a name, as the seed's ``weight_init="normal"``/``bias_init="zeros"``
    (MindSpore's "normal" is N(0, 0.01))."""
    table = {
        "normal": lambda: normal_(tensor, 0.0, 0.01, generator),
        "uniform": lambda: uniform_(tensor, -0.07, 0.07, generator),
        "zeros": lambda: zeros_(tensor),
        "ones": lambda: ones_(tensor),
        "xavier_uniform": lambda: xavier_uniform_(tensor, generator=generator),
        "xavier_normal": lambda: xavier_normal_(tensor, generator=generator),
        "kaiming_uniform": lambda: kaiming_uniform_(tensor, generator=generator),
        "kaiming_normal": lambda: kaiming_normal_(tensor, generator=generator),
    }
    if name not in table:
        raise ValueError(f"unknown initializer {name!r}; use one of {', '.join(table)}")
    return table[name]()
