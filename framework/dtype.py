"""Tensor dtypes, named as in PyTorch, and the type-promotion rules of its ops."""
import numpy as np


class DType:
    """A tensor element type; ``np`` is the NumPy dtype kernels see."""

    __slots__ = ("name", "np")

    def __init__(self, name, np_dtype):
        self.name = name
        self.np = np.dtype(np_dtype)

    @property
    def is_floating_point(self):
        return self.np.kind == "f"

    @property
    def itemsize(self):
        return self.np.itemsize

    def __repr__(self):
        return f"framework.{self.name}"

    def __reduce__(self):
        return (as_dtype, (self.name,))


float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
int64 = DType("int64", np.int64)
int32 = DType("int32", np.int32)
bool_ = DType("bool", np.bool_)
uint8 = DType("uint8", np.uint8)

_ALL = (float32, float64, int64, int32, bool_, uint8)
_BY_NP = {d.np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update(float=float32, double=float64, long=int64, int=int32)

default_float = float32


def as_dtype(dtype):
    """A ``DType`` from a DType, a name, a NumPy dtype or a Python type."""
    if isinstance(dtype, DType):
        return dtype
    if isinstance(dtype, str) and dtype in _BY_NAME:
        return _BY_NAME[dtype]
    if dtype is float:
        return default_float
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    try:
        np_dtype = np.dtype(dtype)
    except TypeError:
        np_dtype = None
    if np_dtype is not None and np_dtype in _BY_NP:
        return _BY_NP[np_dtype]
    raise TypeError(f"unsupported dtype {dtype!r}; use one of "
                    f"{', '.join(d.name for d in _ALL)}")


def _category(dtype):
    return {"b": 0, "u": 1, "i": 1, "f": 2}[dtype.np.kind]


def promote(a, b):
    """The result dtype of a binary op on two tensors (PyTorch's rules)."""
    if a is b:
        return a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return _BY_NP[np.promote_types(a.np, b.np)]


def scalar_dtype(tensor_dtype, value):
    """The result dtype of ``tensor <op> python_scalar``: a scalar only raises the category."""
    if isinstance(value, bool):
        return tensor_dtype
    if isinstance(value, int):
        return tensor_dtype if _category(tensor_dtype) >= 1 else int64
    if isinstance(value, float):
        return tensor_dtype if tensor_dtype.is_floating_point else default_float
    raise TypeError(f"unsupported scalar {value!r} of type {type(value).__name__}")
