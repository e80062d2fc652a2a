"""The child pytest process that runs ``tests/cuda`` under Numba's CUDA simulator.

It is single-threaded Python for minutes (the simulator runs every GPU thread in
Python), so ``conftest.py`` starts it as soon as collection has found
``test_cuda_simulator.py``'s test, and it runs beside the rest of the suite, at the
lowest CPU priority; the test waits for it. Output goes to files, not pipes, so a long
failure report cannot fill a pipe and stall the child.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 1500


class SimulatorRun:
    """``pytest tests/cuda`` in a child process with the simulator on; ``result()`` waits."""

    def __init__(self):
        env = dict(os.environ, NUMBAGRAD_TEST_CUDA="1", NUMBA_ENABLE_CUDASIM="1",
                   NUMBAGRAD_CUDA_THREADS="8", NUMBAGRAD_CUDA_MAX_BLOCKS="4")
        command = [sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "-p",
                   "no:cacheprovider", str(ROOT / "tests" / "cuda")]
        self._out = tempfile.TemporaryFile("w+")
        self._err = tempfile.TemporaryFile("w+")
        self._process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._out,
                                         stderr=self._err, text=True)
        # Lowest priority: it takes the CPU time the suite leaves idle (compiling and most
        # tests run one thread), not time from the suite's own timed subprocesses. Set
        # from here, as preexec_fn is unsafe in a process that may have threads.
        if hasattr(os, "setpriority"):
            os.setpriority(os.PRIO_PROCESS, self._process.pid, 19)

    def result(self):
        """(return code, stdout, stderr) once the child has ended (killed past the timeout)."""
        try:
            code = self._process.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            code = self._process.wait()
        outputs = []
        for f in (self._out, self._err):
            f.seek(0)
            outputs.append(f.read())
            f.close()
        return code, outputs[0], outputs[1]

    def stop(self):
        """End the child if the session ends without waiting for it (-x, a deselect)."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
