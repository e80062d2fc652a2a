"""Numba's on-disk cache for the kernels, invalidated when any kernel source changes.

Numba stamps a cached function with its own file only (its mtime and size; a hash of its
contents since Numba 0.68), not the files of what it calls (numba issue #1833). Our
kernels inline code from other files: a kernel in ``cpu/elementwise.py`` compiles in
``vmath.py``, ``scalar.py`` and ``irops.py``, and calls helpers in other kernel files.
An edit, a ``git pull`` or a package upgrade that changed only those files
would load the old machine code from ``__pycache__`` (pip leaves Numba's ``.nbi``/``.nbc``
files behind). The locators here give every function defined under ``kernels/`` a stamp
that also covers a digest of all the kernel sources, so any change recompiles them;
functions defined elsewhere (the user's) keep Numba's own locators and stamps.

``install`` puts one in front of each of Numba's CPU locators; ``install_cuda`` does the
same for numba-cuda's, which keeps its own list. Both must run before the kernels'
dispatchers are created, as a dispatcher picks its locator when caching is enabled.
They use Numba internals (``CacheImpl._locator_classes``): where those differ, the
kernels still work, with Numba's own stamps and a warning. ``NUMBA_CACHE_LOCATOR_CLASSES``
(Numba 0.68) replaces the whole list, these locators too.
"""
import functools
import hashlib
import importlib
import os
import warnings

ROOT = os.path.dirname(os.path.abspath(__file__))


@functools.lru_cache(maxsize=None)
def sources_digest():
    """sha256 of every ``.py`` file under ``kernels/`` (paths and contents, in order);
    hidden files (an editor's lock links) are skipped."""
    h = hashlib.sha256()
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for name in sorted(f for f in files if f.endswith(".py") and not f.startswith(".")):
            path = os.path.join(folder, name)
            h.update(os.path.relpath(path, ROOT).encode() + b"\0")
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def _is_kernel_source(py_file):
    return os.path.abspath(py_file).startswith(ROOT + os.sep)


def _with_sources_stamp(base):
    """A subclass of Numba locator ``base`` that serves only kernel files, stamped with
    ``base``'s stamp of the file and ``sources_digest()``."""
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


def _prepend(impl_class):
    """Put a kernel locator derived from each of ``impl_class``'s locators first in its
    list (in Numba's order: a user-set cache dir, ``__pycache__``, the user-wide dir, ...),
    once."""
    present = list(impl_class._locator_classes)
    if any(getattr(c, "_kernels_locator", False) for c in present):
        return
    ours = []
    for base in present:
        cls = _with_sources_stamp(base)
        cls._kernels_locator = True
        ours.append(cls)
    impl_class._locator_classes = ours + present


def _install(module_name):
    try:
        caching = importlib.import_module(module_name)
        impl_class = getattr(caching, "CacheImpl", None) or caching._CacheImpl
        _prepend(impl_class)
    except (ImportError, AttributeError) as error:
        warnings.warn(f"numbagrad could not stamp the kernels' Numba cache with their sources "
                      f"({module_name}: {error}); after changing a file under kernels/, delete "
                      f"the kernels' __pycache__ folders", RuntimeWarning, stacklevel=3)


def install():
    """Stamp the CPU kernels' cache entries with ``sources_digest()``."""
    _install("numba.core.caching")


def install_cuda():
    """Stamp the CUDA kernels' cache entries likewise (numba-cuda keeps its own list)."""
    _install("numba.cuda.core.caching")
