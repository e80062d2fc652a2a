"""Graphs are freed: many training-like steps do not grow the process's memory."""
import gc
import resource

import numpy as np

import framework as fw
import framework.nn.functional as F


def _rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def test_10000_steps_do_not_grow_memory():
    gen = fw.Generator(0)
    w1 = (fw.randn(64, 32, generator=gen) * 0.1).requires_grad_()
    b1 = fw.zeros(64, requires_grad=True)
    w2 = (fw.randn(10, 64, generator=gen) * 0.1).requires_grad_()
    x = fw.randn(16, 32, generator=gen)
    target = fw.tensor(np.arange(16) % 10)

    def step():
        h = F.relu(F.linear(x, w1, b1))
        logp = F.log_softmax(F.linear(h, w2), 1)
        loss = -logp[fw.arange(16), target].mean()
        loss.backward()
        with fw.no_grad():
            for p in (w1, b1, w2):
                p -= 0.01 * p.grad
                p.grad = None
        return loss.item()

    for _ in range(500):  # warm up: compile, allocator pools
        step()
    gc.collect()
    before = _rss_mb()
    first = step()
    for _ in range(10_000):
        last = step()
    gc.collect()
    grown = _rss_mb() - before
    assert last < first
    assert grown < 20, f"memory grew by {grown:.1f} MB over 10,000 steps"
