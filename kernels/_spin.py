"""Keep idle pool threads from starving the threads that have work.

Numba's OpenMP pool and SciPy's OpenBLAS pool (Numba's ``np.dot``, i.e. every GEMM of
ours) share the cores, and each pool's idle threads busy-wait after a parallel region:

- libgomp spins ~300k times by default, starving the BLAS threads of the GEMM that
  follows (a GEMM plus a parallel bias add: 8.8 ms instead of 0.4 ms on 2 cores).
  ``GOMP_SPINCOUNT=1000`` keeps back-to-back kernels fast and hands the cores back.
- OpenBLAS spins 2^28 cycles by default (``OPENBLAS_THREAD_TIMEOUT=28``), against the
  Numba kernels between two GEMMs (im2col, bias, ReLU, pooling in a CNN step).
  2^16 cycles made a compiled MNIST CNN step 25% faster on 2 cores and left the MLP's
  back-to-back GEMMs as fast (4 sleeps at once and paid ~20% on the eager MLP step).

Both libraries read their variable once, when they are loaded, so it is set when the
``kernels`` package is imported, before Numba starts its pool and before
``framework.threads`` loads SciPy's BLAS. A value the user set wins. A library loaded
earlier by someone else (``import torch`` first loads libgomp) keeps its default:
``warn_if_loaded_early`` says so, with the fix.
"""
import os
import warnings

# variable: (our default, a piece of the library's path that tells it was loaded)
SETTINGS = {"GOMP_SPINCOUNT": ("1000", "/libgomp"),
            "OPENBLAS_THREAD_TIMEOUT": ("16", "scipy.libs/libscipy_openblas")}


def _loaded_libraries():
    """Paths of the shared libraries mapped into this process (empty where unknown)."""
    try:
        with open("/proc/self/maps") as f:
            return {line.split()[-1] for line in f if "/" in line}
    except OSError:  # not Linux: nothing to check
        return set()


def set_defaults(environ, loaded):
    """Set our defaults in ``environ`` where unset; returns, for each library of
    ``loaded`` (paths) that read its variable before we set it, a line saying so."""
    early = []
    for name, (value, library) in SETTINGS.items():
        if name in environ:
            continue  # the user's choice
        environ[name] = value
        hits = sorted(p for p in loaded if library in p)
        if hits:
            early.append(f"{hits[0]} (wants {name}={value})")
    return early


_EARLY = set_defaults(os.environ, _loaded_libraries())


def warn_if_loaded_early():
    """Warn once if a thread library was loaded, with its default spin, before us."""
    if _EARLY:
        warnings.warn(
            "numbagrad: these libraries were loaded before numbagrad and keep busy-waiting "
            "idle threads, which can make training several times slower on few cores: "
            + "; ".join(_EARLY) + ". Import numbagrad first (before torch or "
            "scipy.linalg), or set the variables in the environment.", RuntimeWarning,
            stacklevel=3)
