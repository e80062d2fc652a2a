"""``Tensor``: an n-dimensional array on a device that records the ops applied to it.

A tensor's ``data`` is always a C-contiguous device array (a NumPy array on the CPU),
so every kernel can take it as it is. Ops that PyTorch implements as strided views
(transpose, slicing) copy through a kernel here; reshapes stay free.
"""
import numpy as np

from . import dtype as dt
from .autograd import engine, version
from .device import as_device, kernels_for


class Tensor:
    """A multi-dimensional array with autograd support; see ``framework.tensor()``."""

    __slots__ = ("data", "device", "requires_grad", "grad", "_grad_fn", "_output_nr",
                 "_post_accumulate_grad_hooks", "_version_counter", "__weakref__")

    def __init__(self, data, dtype=None, device=None, requires_grad=False):
        from .creation import tensor as _tensor
        t = _tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        self.data, self.device = t.data, t.device
        self.requires_grad, self.grad = t.requires_grad, None
        self._grad_fn, self._output_nr = None, 0
        self._post_accumulate_grad_hooks = None
        self._version_counter = None

    @classmethod
    def _wrap(cls, array, device, grad_fn, output_nr):
        """A tensor around an existing device array (no copy), as ops produce them."""
        t = object.__new__(cls)
        t.data = array
        t.device = device
        if grad_fn is not None and array.dtype.kind != "f":
            grad_fn = None
        t.requires_grad = grad_fn is not None
        t.grad = None
        t._grad_fn = grad_fn
        t._output_nr = output_nr
        t._post_accumulate_grad_hooks = None
        t._version_counter = None
        return t

    # ----- attributes -------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return dt._BY_NP[self.data.dtype]

    @property
    def kernels(self):
        return kernels_for(self.device)

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def _version(self):
        """How many in-place writes this tensor's storage has seen (as PyTorch's)."""
        counter = self._version_counter
        return 0 if counter is None else counter.value

    @property
    def T(self):
        return _mv.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return _mv.transpose(self, -2, -1)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self.data.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # ----- conversions ------------------------------------------------------------
    def numpy(self):
        """The data as a NumPy array (shares memory on the CPU)."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self.kernels.to_host(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): only a tensor with one element can be converted to a "
                             f"Python scalar, this one has shape {self.shape}")
        return self.kernels.to_host(self.data).reshape(-1)[0].item()

    def tolist(self):
        return self.kernels.to_host(self.data).tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted "
                            "to an index")
        return int(self.item())

    def __array__(self, dtype=None, copy=None):
        arr = self.kernels.to_host(self.data)
        return arr if dtype is None else arr.astype(dtype)

    def __repr__(self):
        body = np.array2string(self.kernels.to_host(self.data), separator=", ",
                               prefix="tensor(", threshold=200, precision=4)
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in (dt.float32, dt.int64, dt.bool_):
            extras.append(f"dtype={self.dtype!r}")
        if self._grad_fn is not None:
            extras.append(f"grad_fn=<{self._grad_fn.fn.__name__}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    def to(self, *args, dtype=None, device=None):
        """A copy on another device and/or of another dtype (``self`` if nothing changes)."""
        for arg in args:
            if isinstance(arg, (dt.DType, type)) or (isinstance(arg, str) and arg in dt._BY_NAME):
                dtype = arg
            else:
                device = arg
        out = self
        if device is not None and as_device(device) != self.device:
            out = _mv.to_device(out, as_device(device))
        if dtype is not None:
            out = _ew.to_dtype(out, dtype)
        return out

    def cpu(self):
        return self.to(device="cpu")

    def cuda(self, device=None):
        return self.to(device="cuda" if device is None else f"cuda:{int(device)}")

    def float(self):
        return _ew.to_dtype(self, dt.float32)

    def double(self):
        return _ew.to_dtype(self, dt.float64)

    def long(self):
        return _ew.to_dtype(self, dt.int64)

    def int(self):
        return _ew.to_dtype(self, dt.int32)

    def bool(self):
        return _ew.to_dtype(self, dt.bool_)

    def type(self, dtype):
        return _ew.to_dtype(self, dtype)

    # ----- autograd ---------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, "
                               f"this one is {self.dtype!r}")
        if not requires_grad and self._grad_fn is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` during backward once this leaf's ``.grad`` is final.

        It runs after the last node feeding this leaf has run and its gradient has been
        added into ``.grad`` (as PyTorch's hook of the same name). Returns a handle whose
        ``remove()`` unregisters the hook.
        """
        if self._grad_fn is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: only leaf tensors can "
                               "have post-accumulate-grad hooks (this one has grad_fn "
                               f"{self._grad_fn.fn.__name__}); register it on the leaves "
                               "it is computed from")
        if not callable(hook):
            raise TypeError(f"register_post_accumulate_grad_hook: hook must be callable, "
                            f"got {type(hook).__name__}")
        if self._post_accumulate_grad_hooks is None:
            self._post_accumulate_grad_hooks = {}
        return engine.HookHandle(self._post_accumulate_grad_hooks, hook)

    def detach(self):
        """The same data, cut from the graph (in-place writes to either show in both)."""
        out = Tensor._wrap(self.data, self.device, None, 0)
        version.share_counter(out, self)
        return out

    def backward(self, gradient=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        Args:
            gradient: d(loss)/d(self) for a non-scalar tensor (ones for a scalar).
            retain_graph: keep the graph so that backward can run through it again.
        """
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad and has no "
                               "grad_fn (did you compute it under no_grad or from tensors "
                               "without requires_grad=True?)")
        k = self.kernels
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward(): grad can be implicitly created only for "
                                   f"scalar outputs; this tensor has shape {self.shape}, "
                                   f"pass gradient= of that shape")
            g = k.empty(self.data.shape, self.data.dtype)
            k.fill(g.reshape(-1), 1)
        else:
            g = _gradient_array(gradient, self)
        engine.run_backward([self], [g], retain_graph=retain_graph)

    def zero_(self):
        self.kernels.fill(self.data.reshape(-1), 0)
        version.bump(self, "zero_")
        return self

    def fill_(self, value):
        self.kernels.fill(self.data.reshape(-1), value)
        version.bump(self, "fill_")
        return self

    def copy_(self, src):
        """Copy ``src``'s values into this tensor's memory (broadcast to its shape)."""
        src = src if isinstance(src, Tensor) else Tensor(src, device=self.device)
        if src.device != self.device:
            src = src.to(device=self.device)
        _check_inplace(self, "copy_")
        from .autograd.ops import arrays
        k = self.kernels
        out = arrays.expand(k, src.data, self.data.shape)
        k.cast(self.data.reshape(-1), out.reshape(-1))
        version.bump(self, "copy_")
        _observe_assign(src, self)
        return self

    def clone(self):
        return _mv.clone(self)

    def contiguous(self):
        return self

    # ----- operators --------------------------------------------------------------
    def __add__(self, other):
        return _ew.add(self, other)

    def __radd__(self, other):
        return _ew.add(other, self)

    def __sub__(self, other):
        return _ew.sub(self, other)

    def __rsub__(self, other):
        return _ew.sub(other, self)

    def __mul__(self, other):
        return _ew.mul(self, other)

    def __rmul__(self, other):
        return _ew.mul(other, self)

    def __truediv__(self, other):
        return _ew.div(self, other)

    def __rtruediv__(self, other):
        return _ew.div(other, self)

    def __pow__(self, other):
        return _ew.pow(self, other)

    def __rpow__(self, other):
        return _ew.pow(other, self)

    def __matmul__(self, other):
        return _mm.matmul(self, other)

    def __rmatmul__(self, other):
        return _mm.matmul(other, self)

    def __neg__(self):
        return _ew.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ew.abs(self)

    def __eq__(self, other):
        return _ew.compare(self, other, _ew.op.EQ)

    def __ne__(self, other):
        return _ew.compare(self, other, _ew.op.NE)

    def __lt__(self, other):
        return _ew.compare(self, other, _ew.op.LT)

    def __le__(self, other):
        return _ew.compare(self, other, _ew.op.LE)

    def __gt__(self, other):
        return _ew.compare(self, other, _ew.op.GT)

    def __ge__(self, other):
        return _ew.compare(self, other, _ew.op.GE)

    __hash__ = object.__hash__

    def _inplace(self, fn, other, name):
        _check_inplace(self, name)
        result = fn(self, other)
        if result.shape != self.shape:
            raise RuntimeError(f"{name}: result of shape {result.shape} cannot be written "
                               f"into a tensor of shape {self.shape}")
        self.kernels.cast(self.data.reshape(-1), result.data.reshape(-1))
        version.bump(self, name)
        _observe_assign(result, self)
        return self

    def __iadd__(self, other):
        return self._inplace(_ew.add, other, "add_")

    def __isub__(self, other):
        return self._inplace(_ew.sub, other, "sub_")

    def __imul__(self, other):
        return self._inplace(_ew.mul, other, "mul_")

    def __itruediv__(self, other):
        return self._inplace(_ew.div, other, "div_")

    def add_(self, other, alpha=1):
        return self._inplace(_ew.add, other if alpha == 1 else other * alpha, "add_")

    def sub_(self, other, alpha=1):
        return self._inplace(_ew.sub, other if alpha == 1 else other * alpha, "sub_")

    def mul_(self, other):
        return self._inplace(_ew.mul, other, "mul_")

    def div_(self, other):
        return self._inplace(_ew.div, other, "div_")

    def clamp_(self, min=None, max=None):
        return self._inplace(lambda x, _: _ew.clamp(x, min, max), None, "clamp_")

    # ----- math -------------------------------------------------------------------
    def exp(self):
        return _ew.exp(self)

    def log(self):
        return _ew.log(self)

    def sqrt(self):
        return _ew.sqrt(self)

    def abs(self):
        return _ew.abs(self)

    def tanh(self):
        return _ew.tanh(self)

    def sigmoid(self):
        return _ew.sigmoid(self)

    def relu(self):
        return _ew.relu(self)

    def sign(self):
        return _ew.sign(self)

    def neg(self):
        return _ew.neg(self)

    def pow(self, exponent):
        return _ew.pow(self, exponent)

    def clamp(self, min=None, max=None):
        return _ew.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _ew.maximum(self, other)

    def minimum(self, other):
        return _ew.minimum(self, other)

    def add(self, other):
        return _ew.add(self, other)

    def sub(self, other):
        return _ew.sub(self, other)

    def mul(self, other):
        return _ew.mul(self, other)

    def div(self, other):
        return _ew.div(self, other)

    def matmul(self, other):
        return _mm.matmul(self, other)

    def eq(self, other):
        return _ew.compare(self, other, _ew.op.EQ)

    def ne(self, other):
        return _ew.compare(self, other, _ew.op.NE)

    def lt(self, other):
        return _ew.compare(self, other, _ew.op.LT)

    def le(self, other):
        return _ew.compare(self, other, _ew.op.LE)

    def gt(self, other):
        return _ew.compare(self, other, _ew.op.GT)

    def ge(self, other):
        return _ew.compare(self, other, _ew.op.GE)

    # ----- reductions -------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None):
        return _rd.sum(self, dim, keepdim, dtype)

    def mean(self, dim=None, keepdim=False):
        return _rd.mean(self, dim, keepdim)

    def var(self, dim=None, keepdim=False, unbiased=None, correction=None):
        return _rd.var(self, dim, keepdim=keepdim, unbiased=unbiased, correction=correction)

    def std(self, dim=None, keepdim=False, unbiased=None, correction=None):
        return _rd.std(self, dim, keepdim=keepdim, unbiased=unbiased, correction=correction)

    def max(self, dim=None, keepdim=False):
        return _rd.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _rd.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return _rd.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return _rd.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _rd.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _rd.argmin(self, dim, keepdim)

    def softmax(self, dim):
        return _sm.softmax(self, dim)

    def log_softmax(self, dim):
        return _sm.log_softmax(self, dim)

    def logsumexp(self, dim, keepdim=False):
        return _sm.logsumexp(self, dim, keepdim)

    # ----- shape ------------------------------------------------------------------
    def reshape(self, *shape):
        return _mv.reshape(self, _shape_args(shape))

    def view(self, *shape):
        return _mv.reshape(self, _shape_args(shape))

    def flatten(self, start_dim=0, end_dim=-1):
        return _mv.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        return _mv.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _mv.unsqueeze(self, dim)

    def expand(self, *shape):
        return _mv.expand(self, _shape_args(shape))

    def expand_as(self, other):
        return _mv.expand(self, other.shape)

    def view_as(self, other):
        return _mv.reshape(self, other.shape)

    def reshape_as(self, other):
        return _mv.reshape(self, other.shape)

    def transpose(self, dim0, dim1):
        return _mv.transpose(self, dim0, dim1)

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t(): expects a tensor of at most 2 dims, got {self.ndim}")
        return self.T

    def permute(self, *dims):
        return _mv.permute(self, _shape_args(dims))

    def split(self, split_size_or_sections, dim=0):
        return _mv.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _mv.chunk(self, chunks, dim)

    def __getitem__(self, key):
        return _ix.getitem(self, key)

    def __setitem__(self, key, value):
        """``x[key] = value`` in place (not recorded by autograd: use it under no_grad
        or on tensors that do not require grad)."""
        _check_inplace(self, "__setitem__")
        if engine.is_grad_enabled() and getattr(value, "requires_grad", False):
            raise RuntimeError("__setitem__: the value requires grad, and an assignment into "
                               "a tensor is not recorded by autograd; build the result out "
                               "of place (where, cat) instead")
        _ix.setitem(self, key, value)
        version.bump(self, "__setitem__")

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))


def _shape_args(args):
    """Accept both ``reshape(2, 3)`` and ``reshape((2, 3))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _check_inplace(t, name):
    if engine.is_grad_enabled() and t.requires_grad:
        what = "a leaf tensor that requires grad" if t.is_leaf else "a tensor in the graph"
        raise RuntimeError(f"{name}: in-place update of {what} would corrupt autograd; "
                           "do it under framework.no_grad() or on a detached tensor")


class Assign:
    """Not a Function: the op an observer is told of when ``target`` is overwritten in
    place with ``value`` (broadcast and cast), as ``observer(Assign, (value,), (target,))``."""


def _observe_assign(value, target):
    observer = engine.get_observer()
    if observer is not None:
        observer(Assign, (value,), (target,))


def array_on_device_of(t, value, what):
    """``value`` as an array on ``t``'s device: a Tensor's own data (on another device
    an error naming ``what``), or host data copied in, in ``t``'s dtype."""
    if isinstance(value, Tensor):
        if value.device != t.device:
            raise RuntimeError(f"{what} is on {value.device} but the tensor is on "
                               f"{t.device}")
        return value.data
    return t.kernels.from_host(np.asarray(value), t.data.dtype)


def _gradient_array(gradient, t):
    """The ``gradient=`` of ``backward`` as a fresh array of ``t``'s shape, dtype and device."""
    arr = array_on_device_of(t, gradient, "backward(): gradient")
    if tuple(arr.shape) != t.shape:
        raise RuntimeError(f"backward(): gradient has shape {tuple(arr.shape)} but the tensor "
                           f"has shape {t.shape}")
    out = t.kernels.empty(arr.shape, t.data.dtype)
    t.kernels.cast(out.reshape(-1), arr.reshape(-1))
    return out


from .autograd.ops import elementwise as _ew  # noqa: E402  (ops need Tensor defined first)
from .autograd.ops import indexing as _ix  # noqa: E402
from .autograd.ops import matmul as _mm  # noqa: E402
from .autograd.ops import movement as _mv  # noqa: E402
from .autograd.ops import reduce as _rd  # noqa: E402
from .autograd.ops import softmax as _sm  # noqa: E402
