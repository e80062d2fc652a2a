"""F.pad in reflect mode and Conv2d(padding_mode="reflect"), forward + backward, against
PyTorch eager, interleaved in one process (2 threads each).

    PYTHONPATH=. python bench/pad_modes.py
"""
import time

import numpy as np

import framework as fw  # before torch: its libgomp would keep spinning threads
import framework.nn as nn
import framework.nn.functional as F
import torch  # noqa: E402  (after numbagrad on purpose)

REPEAT = 20


def _time(step):
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def _pad_case(rng):
    x = rng.standard_normal((64, 32, 28, 28)).astype(np.float32)
    ours, theirs = fw.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g_ours, g_theirs = fw.ones(64, 32, 30, 30), torch.ones(64, 32, 30, 30)
    return (lambda: F.pad(ours, (1, 1, 1, 1), mode="reflect").backward(g_ours),
            lambda: torch.nn.functional.pad(theirs, (1, 1, 1, 1), mode="reflect")
            .backward(g_theirs))


def _conv_case(rng, mode):
    x = rng.standard_normal((64, 32, 13, 13)).astype(np.float32)
    ours = nn.Conv2d(32, 64, 3, padding=1, padding_mode=mode)
    theirs = torch.nn.Conv2d(32, 64, 3, padding=1, padding_mode=mode)
    xo, xt = fw.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    return (lambda: ours(xo).sum().backward(), lambda: theirs(xt).sum().backward())


def main():
    torch.set_num_threads(2)
    fw.set_num_threads(2)
    rng = np.random.default_rng(0)
    cases = {"F.pad reflect (64, 32, 28, 28) pad 1": _pad_case(rng),
             "Conv2d(32->64, 3x3, padding=1, reflect), (64, 32, 13, 13)":
                 _conv_case(rng, "reflect"),
             "Conv2d(32->64, 3x3, padding=1, zeros), (64, 32, 13, 13)":
                 _conv_case(rng, "zeros")}
    for name, (ours, theirs) in cases.items():
        ours(), theirs()  # compile and warm up
        times = {"ours": [], "torch": []}
        for _ in range(REPEAT):
            times["ours"].append(_time(ours))
            times["torch"].append(_time(theirs))
        o, t = (np.array(times[k]) * 1e3 for k in ("ours", "torch"))
        print(f"{name}: ours min {o.min():.2f} / median {np.median(o):.2f} ms, torch min "
              f"{t.min():.2f} / median {np.median(t):.2f} ms, ratio of medians "
              f"{np.median(o) / np.median(t):.2f}")


if __name__ == "__main__":
    main()
