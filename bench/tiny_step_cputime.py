"""Thread CPU time of the ops suite's tiny step, for A/B runs of two source trees.

On a shared, loaded machine the wall-clock medians of ``numbagrad bench`` move by tens
of percent between runs; the time this thread spends on the CPU does not count the
time the OS gives to other processes, so a few microseconds of Python overhead show.
Run it alternately on both trees: ``PYTHONPATH=<tree> python bench/tiny_step_cputime.py``.
"""
import time

import numpy as np

import framework as fw


def tiny_step_times(rounds=30, steps=200):
    """Per-step thread CPU times (seconds) of ``rounds`` batches of ``steps`` steps."""
    fw.set_num_threads(2)
    rng = np.random.default_rng(0)
    a = fw.tensor(rng.standard_normal(64).astype(np.float32), requires_grad=True)
    b = fw.tensor(rng.standard_normal(64).astype(np.float32), requires_grad=True)

    def step():
        ((a * b + a).exp() * b).sum().backward()

    for _ in range(500):  # compile and warm up
        step()
    times = []
    for _ in range(rounds):
        start = time.thread_time()
        for _ in range(steps):
            step()
        times.append((time.thread_time() - start) / steps)
    return sorted(times)


if __name__ == "__main__":
    t = tiny_step_times()
    print(f"tiny step, thread CPU time: min {t[0] * 1e6:.1f} us, "
          f"median {t[len(t) // 2] * 1e6:.1f} us")
