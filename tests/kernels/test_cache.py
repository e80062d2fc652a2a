"""The kernels' on-disk cache entries are stamped with a digest of all kernel sources
(``kernels/_cache.py``), so a change to any kernel file recompiles every kernel."""
import os
import shutil
import subprocess
import sys
import textwrap
import warnings

import pytest
from numba.core import caching

import kernels
from kernels import _cache
from kernels.cpu import elementwise


def _split(impl_class):
    """(kernel locators, Numba's own) in ``impl_class``'s list."""
    classes = impl_class._locator_classes
    ours = [c for c in classes if getattr(c, "_kernels_locator", False)]
    return ours, [c for c in classes if c not in ours]


def test_locators_installed_once_and_serve_only_kernel_files():
    _cache.install()  # a second call adds nothing
    ours, numbas = _split(caching.CacheImpl)
    assert len(ours) == len(numbas) >= 3
    assert caching.CacheImpl._locator_classes == ours + numbas  # ours first, in Numba's order
    assert [c.__mro__[1] for c in ours] == numbas
    here = test_locators_installed_once_and_serve_only_kernel_files
    assert all(cls.from_function(here, __file__) is None for cls in ours)
    locator = elementwise.fill.serial._cache._impl.locator
    assert getattr(type(locator), "_kernels_locator", False)
    assert locator.get_source_stamp()[1] == _cache.sources_digest()


def test_cuda_locators_install_without_a_gpu():
    # numba-cuda keeps its own list; kernels/cuda installs into it on a real GPU only.
    from numba.cuda.core import caching as cuda_caching
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _cache.install_cuda()
        _cache.install_cuda()
    ours, numbas = _split(cuda_caching.CacheImpl)
    assert len(ours) == len(numbas) >= 3


def test_a_failed_install_warns_and_leaves_numba_alone():
    with pytest.warns(RuntimeWarning, match="could not stamp"):
        _cache._install("numba.no_such_caching_module")


def test_digest_covers_every_kernel_source(tmp_path, monkeypatch):
    # A copy of the tree gets the same digest; a one-byte change to a helper file
    # that no kernel is defined in changes it.
    shutil.copytree(os.path.dirname(kernels.__file__), tmp_path, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(_cache, "ROOT", str(tmp_path))
    _cache.sources_digest.cache_clear()
    try:
        same = _cache.sources_digest()
        (tmp_path / "vmath.py").write_bytes((tmp_path / "vmath.py").read_bytes() + b"\n")
        _cache.sources_digest.cache_clear()
        changed = _cache.sources_digest()
    finally:
        monkeypatch.undo()
        _cache.sources_digest.cache_clear()
    assert same == _cache.sources_digest()
    assert changed != same


_RUN = textwrap.dedent("""
    import sys
    import numpy as np
    import kernels
    from kernels import _cache
    if sys.argv[1] == "changed":  # as if a helper file such as vmath.py had changed
        _cache.sources_digest = lambda: "another version of the kernel sources"
    from kernels.cpu import elementwise
    out = np.empty(3)
    elementwise.fill.serial(out, 2.0)
    assert (out == 2.0).all()
    stats = elementwise.fill.serial.stats
    print(stats.cache_hits.get(elementwise.fill.serial.signatures[0], 0),
          stats.cache_misses.get(elementwise.fill.serial.signatures[0], 0))
""")


def _fresh_process(script, cache_dir, *argv):
    """``script``'s output, run in a fresh Python with Numba's cache in ``cache_dir``."""
    done = subprocess.run([sys.executable, "-c", script, *argv], text=True,
                          env=dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir)),
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_changed_sources_recompile_a_cached_kernel(tmp_path):
    def run(version):
        hits, misses = map(int, _fresh_process(_RUN, tmp_path, version).split())
        return hits, misses

    assert run("same") == (0, 1)     # compiled and saved
    assert run("same") == (1, 0)     # loaded
    assert run("changed") == (0, 1)  # the stamp differs: compiled again


_CROSS_ENTROPY = textwrap.dedent("""
    import numpy as np
    from kernels.cpu import loss
    x = np.arange(12, dtype=np.float32).reshape(4, 3) / 7
    rows, lse = np.empty(4, np.float32), np.empty(4)
    total, count = np.empty(1, np.float32), np.array([4.0], np.float32)
    loss.cross_entropy(rows, lse, x, np.array([0, 1, 2, 1]), 0.0, -100, total, count)
    assert total[0] == np.float32(rows.astype(np.float64).sum()) / np.float32(4)
    build = loss._cross_entropy_serial
    print(build.stats.cache_hits.get(build.signatures[0], 0))
""")


def test_a_serial_build_loaded_from_the_cache_runs_in_a_fresh_process(tmp_path):
    """A serial build must link no parallel code: one that did (cross-entropy's, calling
    ``sum_reduce.float``) segfaulted when a fresh process, whose threading layer nothing
    had started, loaded it from the disk cache."""
    hits = [int(_fresh_process(_CROSS_ENTROPY, tmp_path)) for _ in range(2)]
    assert hits == [0, 1]  # compiled and saved, then loaded
