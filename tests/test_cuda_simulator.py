"""The CUDA backend's tests, run in a child pytest process under Numba's CUDA simulator.

Tiny blocks (8 threads) and at most 4 blocks per launch, so multi-block, tail and
grid-stride paths all run on the tests' small inputs. ``conftest.py`` starts the child
when collection ends (``simulator_child.py``); this test waits for its result.
"""
import pytest

import framework as fw
from simulator_child import SimulatorRun


def test_cuda_backend_under_the_simulator(request):
    pytest.importorskip("numba.cuda")
    run = getattr(request.config, "simulator_run", None) or SimulatorRun()
    code, out, err = run.result()
    assert code == 0, out[-8000:] + err[-4000:]
    assert " passed" in out and "skipped" not in out, out[-2000:]


def test_cuda_without_a_gpu_or_simulator_is_one_clear_error():
    from numba import cuda
    if cuda.is_available():
        pytest.skip("a GPU (or the simulator) is available here")
    with pytest.raises(RuntimeError) as info:
        fw.ones(3, device="cuda")
    message = str(info.value)
    assert "\n" not in message and "cuda:0 is not available" in message
    assert "NUMBA_ENABLE_CUDASIM" in message
