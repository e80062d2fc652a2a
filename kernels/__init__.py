"""Numba kernels for numbagrad: ``kernels.cpu`` (njit) and, later, ``kernels.cuda``.

Kernels know nothing of autograd: they take output arrays first, then inputs, then
scalars, and write results in place. ``kernels/spec.py`` lists the contract.
"""
from . import _spin  # noqa: F401  (must run before Numba starts its pool and BLAS loads)
from . import _cache

_cache.install()  # before any kernel's dispatcher picks its cache locator
