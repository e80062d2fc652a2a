"""Numba's on-disk cache for the kernels, invalidated when any kernel source changes.

Numba stamps a cached function with a hash of the one file that defines it (numba
issue #9563). Our kernels inline code from other files: a kernel in ``cpu/elementwise.py``
compiles in ``vmath.py``, ``scalar.py`` and ``irops.py``, and calls helpers in other
kernel files. An edit, a ``git pull`` or a package upgrade that changed only those files
would load the old machine code from ``__pycache__`` (pip leaves Numba's ``.nbi``/``.nbc``
files behind). The locators here give every function defined under ``kernels/`` a stamp
that also covers a digest of all the kernel sources, so any change recompiles them;
functions defined elsewhere (the user's) keep Numba's own locators and stamps.

``install`` puts them in front of Numba's CPU locators; ``install_cuda`` does the same
for numba-cuda's, which keeps its own list. Both must run before the kernels'
dispatchers are created, as a dispatcher picks its locator when caching is enabled.
"""
import functools
import hashlib
import os

ROOT = os.path.dirname(os.path.abspath(__file__))


@functools.lru_cache(maxsize=None)
def sources_digest():
    """sha256 of every ``.py`` file under ``kernels/`` (paths and contents, in order)."""
    h = hashlib.sha256()
    for folder, dirs, files in sorted(os.walk(ROOT)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(folder, name)
            h.update(os.path.relpath(path, ROOT).encode() + b"\0")
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def _is_kernel_source(py_file):
    return os.path.abspath(py_file).startswith(ROOT + os.sep)


def _with_sources_stamp(base):
    """A subclass of Numba locator ``base`` that serves only kernel files, stamped with
    their own hash and ``sources_digest()``."""
    class KernelsLocator(base):
        @classmethod
        def from_function(cls, py_func, py_file):
            if not _is_kernel_source(py_file):
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self):
            return super().get_source_stamp(), sources_digest()

    KernelsLocator.__name__ = KernelsLocator.__qualname__ = "Kernels" + base.__name__.lstrip("_")
    return KernelsLocator


def _prepend(impl_class, bases):
    """Put kernel locators derived from ``bases`` (Numba's order) first in ``impl_class``'s
    list, once."""
    present = impl_class._locator_classes
    if any(getattr(c, "_kernels_locator", False) for c in present):
        return
    ours = []
    for base in bases:
        cls = _with_sources_stamp(base)
        cls._kernels_locator = True
        ours.append(cls)
    impl_class._locator_classes = ours + list(present)


def _attr(module, *names):
    """The first of ``names`` that ``module`` has (Numba dropped the underscores in 0.68)."""
    for name in names:
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"{module.__name__} has none of {names}")


def _install(caching):
    _prepend(_attr(caching, "CacheImpl", "_CacheImpl"),
             [_attr(caching, name, "_" + name) for name in
              ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")])


def install():
    """Stamp the CPU kernels' cache entries with ``sources_digest()``."""
    from numba.core import caching
    _install(caching)


def install_cuda():
    """Stamp the CUDA kernels' cache entries likewise (numba-cuda keeps its own list)."""
    from numba.cuda.core import caching
    _install(caching)
