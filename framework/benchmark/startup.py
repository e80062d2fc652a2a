"""Suite ``startup``: time from a fresh interpreter to one finished training step, with
a cold Numba cache (everything compiles) and a warm one (compiled kernels load from
disk); PyTorch eager's start-up is the reference."""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile

from . import refs
from .core import Case

OURS_STEP = """
import framework as fw
fw.set_num_threads({threads})
model = fw.training.mlp(generator=fw.Generator(0))
opt = fw.optim.SGD(model.parameters(), lr=0.01)
x = fw.randn(64, 1, 28, 28, generator=fw.Generator(1))
y = fw.randint(0, 10, (64,), generator=fw.Generator(2))
fw.nn.functional.cross_entropy(model(x), y).backward()
opt.step()
"""
OURS_COMPILED = """
import framework as fw
fw.set_num_threads({threads})
model = fw.training.mlp(generator=fw.Generator(0))
opt = fw.optim.SGD(model.parameters(), lr=0.01)
step = fw.compile(fw.training.make_step(model, fw.nn.functional.cross_entropy, opt))
x = fw.randn(64, 1, 28, 28, generator=fw.Generator(1))
y = fw.randint(0, 10, (64,), generator=fw.Generator(2))
for _ in range(3):  # eager warm-up, recording, first replay
    step(x, y)
"""
OURS_TINY = "import framework as fw\nfw.set_num_threads({threads})\n(fw.ones(3) * 2).sum().item()\n"
TORCH_STEP = """
import torch
torch.set_num_threads({threads})
T = torch.nn
model = T.Sequential(T.Flatten(), T.Linear(784, 512), T.ReLU(), T.Linear(512, 512), T.ReLU(),
                     T.Linear(512, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
torch.nn.functional.cross_entropy(model(x), y).backward()
opt.step()
"""


def _run(code, cache_dir=None):
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
        env["NUMBAGRAD_CACHE"] = cache_dir  # fw.compile's generated steps too
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True)
    if proc.returncode:
        raise RuntimeError(f"start-up probe failed: {proc.stderr.strip().splitlines()[-1:]}")


def cases(against, threads, scale=1.0, torch_missing=None):
    torch, missing = refs.torch_module(against)
    missing = missing or torch_missing
    torch_code = TORCH_STEP.format(threads=threads)
    theirs = (lambda: _run(torch_code)) if torch is not None else None
    programs = [("first training step", OURS_STEP if scale >= 1 else OURS_TINY)]
    if scale >= 1:
        programs.append(("first replayed step of fw.compile (3 calls)", OURS_COMPILED))
    out = []
    for label, program in programs:
        code = program.format(threads=threads)
        warm_dir = tempfile.mkdtemp(prefix="numbagrad-bench-cache-")
        atexit.register(shutil.rmtree, warm_dir, ignore_errors=True)
        out.append(refs.add_refs(
            Case("startup", f"{label}, cold Numba cache (fresh process)",
                 {"numbagrad": lambda c=code: _cold(c)}, calibrate=False, warmup=False),
            against, theirs, None, missing))
        # The warm-up call fills the cache that the timed calls then read.
        out.append(refs.add_refs(
            Case("startup", f"{label}, warm Numba cache (fresh process)",
                 {"numbagrad": lambda c=code, d=warm_dir: _run(c, d)}, calibrate=False),
            against, theirs, None, missing))
    return out


def _cold(code):
    with tempfile.TemporaryDirectory(prefix="numbagrad-bench-cold-") as cache:
        _run(code, cache)
