"""Direct kernel launches for argument kinds Numba has already compiled (see
``_launch.run``). Arguments are marshalled exactly as Numba's ``_Kernel.launch`` does
for the types the kernel was compiled with: an array becomes (meminfo, parent, size,
itemsize, data pointer, shape..., strides...), a scalar a ctypes value of its type."""
import ctypes

from cuda.core import LaunchConfig
from cuda.core import launch as _core_launch
from numba.cuda import types
from numba.cuda._compat import CUDA_CORE_GE_1_0
from numba.cuda.cudadrv import driver

_STREAM = []   # the default stream, as cuda.core wants it
_CONFIGS = {}  # (grid, block) -> LaunchConfig


def entry(fn, args):
    """(CUfunction, per-argument marshallers) for the overload ``args`` selected."""
    argtypes = tuple(fn.typeof_pyval(a) for a in args)
    kernel = fn.overloads[argtypes]
    if kernel.debug or kernel.cooperative or getattr(kernel, "extensions", None):
        return False
    cufunc = kernel._codelibrary.get_cufunc().kernel
    return cufunc, tuple(_marshaller(t) for t in argtypes)


def _marshaller(ty):
    if isinstance(ty, types.Array):
        return _array
    if isinstance(ty, types.Boolean):
        return _bool
    if isinstance(ty, types.Integer):
        ctype = getattr(ctypes, f"c_{ty}")
        return lambda v, out: out.append(ctype(v))
    if ty == types.float64:
        return lambda v, out: out.append(ctypes.c_double(v))
    if ty == types.float32:
        return lambda v, out: out.append(ctypes.c_float(v))
    if isinstance(ty, types.BaseTuple):
        parts = tuple(_marshaller(t) for t in ty)

        def tuple_args(v, out):
            for m, x in zip(parts, v):
                m(x, out)
        return tuple_args
    raise NotImplementedError(ty)


def _array(a, out):
    data = a.gpu_data
    # An empty array has no memory: its pointer is None.
    out += (0, 0, a.size, a.dtype.itemsize,
            (data.device_pointer_value or 0) if data is not None else 0)
    out += a.shape
    out += a.strides


def _bool(v, out):
    out.append(bool(v))


def launch(entry, grid, block, args):
    cufunc, marshallers = entry
    config = _CONFIGS.get((grid, block))
    if config is None:
        dims = dict(grid=grid if isinstance(grid, tuple) else (grid, 1, 1),
                    block=block if isinstance(block, tuple) else (block, 1, 1), shmem_size=0)
        dims["is_cooperative" if CUDA_CORE_GE_1_0 else "cooperative_launch"] = False
        config = _CONFIGS[(grid, block)] = LaunchConfig(**dims)
    if not _STREAM:
        _STREAM.append(driver._to_core_stream(0))
    kernel_args = []
    for m, a in zip(marshallers, args):
        m(a, kernel_args)
    _core_launch(_STREAM[0], config, cufunc, *kernel_args)
