"""The CUDA backend's tests, run in a child pytest process under Numba's CUDA simulator.

Tiny blocks (8 threads) and at most 4 blocks per launch, so multi-block, tail and
grid-stride paths all run on the tests' small inputs.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import framework as fw

ROOT = Path(__file__).resolve().parents[1]


def test_cuda_backend_under_the_simulator():
    pytest.importorskip("numba.cuda")
    env = dict(os.environ, NUMBAGRAD_TEST_CUDA="1", NUMBA_ENABLE_CUDASIM="1",
               NUMBAGRAD_CUDA_THREADS="8", NUMBAGRAD_CUDA_MAX_BLOCKS="4")
    command = [sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "-p",
               "no:cacheprovider", str(ROOT / "tests" / "cuda")]
    run = subprocess.run(command,
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-4000:]
    assert " passed" in run.stdout and "skipped" not in run.stdout, run.stdout[-2000:]


def test_cuda_without_a_gpu_or_simulator_is_one_clear_error():
    from numba import cuda
    if cuda.is_available():
        pytest.skip("a GPU (or the simulator) is available here")
    with pytest.raises(RuntimeError) as info:
        fw.ones(3, device="cuda")
    message = str(info.value)
    assert "\n" not in message and "cuda:0 is not available" in message
    assert "NUMBA_ENABLE_CUDASIM" in message
