"""numbagrad: define-by-run tensors and autograd on Numba kernels.

    import framework as fw
    x = fw.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
"""
from kernels._spin import warn_if_loaded_early as _warn_if_loaded_early

from . import autograd, cpu, cuda, data, distributed, nn, optim, training
from . import onnx  # framework.onnx; the onnx package itself is imported on first use
from .compile import HostReadError, compile
from .autograd import (enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled,
                       stop_gradient, value_and_grad)
from .autograd.ops.elementwise import (abs, add, clamp, div, exp, gelu, log, maximum, minimum,
                                       mul, neg, pow, relu, sigmoid, sign, sqrt, sub, tanh,
                                       where)
from .autograd.ops.matmul import matmul
from .autograd.ops.movement import (cat, chunk, expand, flatten, permute, reshape, split,
                                    squeeze, stack, transpose, unsqueeze)
from .autograd.ops.reduce import (amax, amin, argmax, argmin, max, mean, min, std, sum,
                                  var)
from .autograd.ops.softmax import log_softmax, logsumexp, softmax
from .creation import (arange, empty, empty_like, from_numpy, full, full_like, ones,
                       ones_like, rand, randint, randn, randperm, tensor, zeros, zeros_like)
from .device import Device
from .device import as_device as device
from .dtype import DType, bool_ as bool, float32, float64, int32, int64, uint8
from .io import load, save
from .random import Generator, manual_seed
from .tensor import Tensor
from .threads import get_num_threads, set_num_threads

float = float32
double = float64
long = int64

__version__ = "0.1.0"

clip = clamp

_warn_if_loaded_early()  # a thread library loaded before us keeps its busy-waiting
