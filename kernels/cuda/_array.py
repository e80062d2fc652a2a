"""``DeviceArray``: Numba's ``DeviceNDArray`` with a cheap constructor and reshape.

Numba builds a full strided-layout descriptor (``_dummy``) for every device array and
every reshape, ~10 us each on an H100 host; an op makes several (its output, the
rank-4 and flat views its kernels take). Arrays here are C-contiguous, so their
strides follow from the shape: this subclass computes them directly and builds the
descriptor only when Numba asks for it (slicing, layout flags). Arrays with other
strides take Numba's own path.
"""
import math
import threading

import numpy as np
from numba.cuda.cudadrv import devices, dummyarray
from numba.cuda.cudadrv.devicearray import DeviceNDArray


def c_strides(shape, itemsize):
    strides = []
    step = itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


_local = threading.local()


def _context():
    """This thread's CUDA context. Numba's ``get_context()`` asks the driver on every
    call: 12% of an MLP training step's host time in a profile on an H100 machine."""
    ctx = getattr(_local, "context", None)
    if ctx is None:
        ctx = _local.context = devices.get_context()
    return ctx


class DeviceArray(DeviceNDArray):
    def __init__(self, shape, strides, dtype, stream=0, gpu_data=None):
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(map(int, shape))
        dtype = np.dtype(dtype)
        contiguous = c_strides(shape, dtype.itemsize)
        size = math.prod(shape)
        if size == 0 or (strides is not None and tuple(strides) != contiguous):
            self._contiguous = False
            super().__init__(shape, strides if strides is not None else contiguous, dtype,
                             stream, gpu_data)
            return
        if gpu_data is None:
            gpu_data = _context().memalloc(size * dtype.itemsize)
        self._set(shape, contiguous, dtype, size, gpu_data, stream)

    def _set(self, shape, strides, dtype, size, gpu_data, stream):
        self.ndim, self.shape, self.strides = len(shape), shape, strides
        self.dtype, self.size, self.alloc_size = dtype, size, size * dtype.itemsize
        self.gpu_data, self.stream = gpu_data, stream
        self._contiguous = True

    @property
    def _dummy(self):
        dummy = self.__dict__.get("_layout_desc")
        if dummy is None:
            dummy = dummyarray.Array.from_desc(0, self.shape, self.strides, self.dtype.itemsize)
            self.__dict__["_layout_desc"] = dummy
        return dummy

    @_dummy.setter
    def _dummy(self, value):
        self.__dict__["_layout_desc"] = value

    def reshape(self, *newshape, **kws):
        if kws or not self._contiguous:
            return super().reshape(*newshape, **kws)
        if len(newshape) == 1 and isinstance(newshape[0], (tuple, list)):
            newshape = newshape[0]
        shape = [int(n) for n in newshape]
        if shape.count(-1) == 1:
            known = math.prod(n for n in shape if n != -1)
            shape[shape.index(-1)] = self.size // known if known else 0
        if math.prod(shape) != self.size or min(shape, default=0) < 0:
            raise ValueError(f"cannot reshape a device array of shape {self.shape} into "
                             f"{tuple(newshape)}")
        # A view of the same memory: no allocation, no layout descriptor, no checks left.
        view = DeviceArray.__new__(DeviceArray)
        shape = tuple(shape)
        view._set(shape, c_strides(shape, self.dtype.itemsize), self.dtype, self.size,
                  self.gpu_data, self.stream)
        return view
