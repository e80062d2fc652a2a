"""``framework.nn.functional`` (``F``): activations and ``linear``; losses and
convolutions join it with the nn modules."""
from ..autograd.ops.elementwise import gelu, relu, sigmoid, tanh
from ..autograd.ops.matmul import linear
from ..autograd.ops.softmax import log_softmax, softmax

__all__ = ["gelu", "linear", "log_softmax", "relu", "sigmoid", "softmax", "tanh"]
