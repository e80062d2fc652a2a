"""``Parameter``: a leaf tensor that a Module registers as trainable."""
from ..autograd import version
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that requires grad and is collected by ``Module.parameters()``."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        src = data if isinstance(data, Tensor) else Tensor(data)
        self.data, self.device = src.data, src.device
        self.grad, self._grad_fn, self._output_nr = None, None, 0
        self._post_accumulate_grad_hooks = None
        self._version_counter = None
        version.share_counter(self, src)  # one memory, one count
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
