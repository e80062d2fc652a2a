"""``numbagrad train`` end to end on a small MNIST-format subset."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from framework.cli import main
from framework.training import model_weights
from tests.conftest import skip_if_cuda_available

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _train(args, capsys=None):
    code = main(["train", "--threads", "2"] + [str(a) for a in args])
    out = capsys.readouterr() if capsys else None
    return code, out


def _weights(path):
    return {k: v.numpy() for k, v in model_weights(path).items()}


def test_short_run_loss_drops_and_metrics_json(mnist_subset_dir, tmp_path, capsys):
    metrics = tmp_path / "m.json"
    code, out = _train(["--data-dir", mnist_subset_dir, "--epochs", 2, "--lr", 0.05,
                        "--metrics-json", metrics, "--out", tmp_path / "ck.safetensors"], capsys)
    assert code == 0, out.err
    assert "epoch 2: train loss" in out.out and "test accuracy" in out.out
    data = json.loads(metrics.read_text())
    epochs = data["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    for e in epochs:
        assert {"epoch", "train_loss", "test_loss", "test_accuracy", "train_seconds"} <= set(e)
        assert 0 <= e["test_accuracy"] <= 1 and e["train_seconds"] > 0
    assert epochs[1]["train_loss"] < epochs[0]["train_loss"]
    assert epochs[1]["test_accuracy"] > 0.7  # 2000 images, 2 epochs; chance is 0.1
    assert set(_weights(tmp_path / "ck.safetensors")) == {
        "1.weight", "1.bias", "3.weight", "3.bias", "5.weight", "5.bias"}


def test_same_seed_same_weights_and_exact_resume(mnist_subset_dir, tmp_path):
    common = ["--data-dir", mnist_subset_dir, "--epochs", 2, "--optimizer", "adam",
              "--seed", 3]
    full, again, part, resumed = (tmp_path / f"{n}.safetensors"
                                  for n in ("full", "again", "part", "resumed"))
    assert _train(common + ["--out", full])[0] == 0
    assert _train(common + ["--out", again])[0] == 0
    a, b = _weights(full), _weights(again)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    # stop 8 steps into the second epoch (32 batches per epoch), then resume
    assert _train(common + ["--max-steps", 40, "--out", part])[0] == 0
    assert _train(["--data-dir", mnist_subset_dir, "--epochs", 2, "--resume", part,
                   "--out", resumed])[0] == 0
    c = _weights(resumed)
    assert all(np.array_equal(a[k], c[k]) for k in a)
    assert not all(np.array_equal(a[k], _weights(part)[k]) for k in a)


def test_compiled_step_trains_exactly_like_eager(mnist_subset_dir, tmp_path):
    """`numbagrad train` replays its step through fw.compile by default; --no-compile runs
    it op by op. Same seed, same weights, bit for bit (96 does not divide 2000: the last,
    partial batch of each epoch takes a plan of its own)."""
    common = ["--data-dir", mnist_subset_dir, "--epochs", 2, "--batch-size", 96,
              "--optimizer", "adam", "--seed", 5]
    compiled, eager = tmp_path / "compiled.safetensors", tmp_path / "eager.safetensors"
    assert _train(common + ["--out", compiled])[0] == 0
    assert _train(common + ["--no-compile", "--out", eager])[0] == 0
    a, b = _weights(compiled), _weights(eager)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("args,message", [
    (["--epochs", "-1"], "--epochs: must be positive"),
    (["--lr", "fast"], "--lr: expected a number, got 'fast'"),
    (["--resume", "/nonexistent/ck.safetensors"],
     "--resume /nonexistent/ck.safetensors: no such file"),
    (["--device", "cuda"], "--device cuda:"),
    (["--data-dir", "/nonexistent/mnist"], "MNIST files not found in /nonexistent/mnist"),
    (["--out", "/nonexistent/dir/ck.safetensors"], "directory /nonexistent/dir does not exist"),
])
def test_bad_input_is_one_line_without_traceback(args, message, tmp_path):
    if "cuda" in args:
        skip_if_cuda_available()
    proc = subprocess.run([sys.executable, "-m", "framework", "train"] + args,
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_corrupt_file_and_resume_file_leave_outputs_untouched(mnist_subset_dir, tmp_path,
                                                              capsys):
    data = tmp_path / "data"
    data.mkdir()
    for f in os.listdir(mnist_subset_dir):
        (data / f).write_bytes((mnist_subset_dir / f).read_bytes())
    (data / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b broken")
    out = tmp_path / "ck.safetensors"
    out.write_bytes(b"previous checkpoint")
    code, res = _train(["--data-dir", data, "--out", out], capsys)
    assert code == 2 and "t10k-labels-idx1-ubyte.gz" in res.err
    bogus = tmp_path / "bogus.safetensors"
    bogus.write_bytes(b"garbage")
    code, res = _train(["--data-dir", mnist_subset_dir, "--resume", bogus, "--out", out], capsys)
    assert code == 2 and "bogus.safetensors" in res.err
    assert out.read_bytes() == b"previous checkpoint"


def test_ctrl_c_writes_checkpoint_and_exits_cleanly(mnist_subset_dir, tmp_path):
    out = tmp_path / "ck.safetensors"
    # One thread: with one per core on a busy machine, a thread that the OS holds off
    # delays the step that sees the interrupt, and the 10 s bound below would measure
    # the machine's load rather than the interrupt path.
    proc = subprocess.Popen([sys.executable, "-m", "framework", "train", "--data-dir",
                             str(mnist_subset_dir), "--epochs", "200", "--threads", "1",
                             "--out", str(out)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # wait until training runs (the first epoch's summary), then interrupt
    deadline = time.time() + 120
    line = ""
    while "epoch 1:" not in line and time.time() < deadline:
        line = proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    start = time.time()
    stdout, stderr = proc.communicate(timeout=30)
    assert time.time() - start < 10
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "checkpoint written to" in stderr
    assert set(_weights(out)) >= {"1.weight"}


def test_plot_writes_a_png(mnist_subset_dir, tmp_path, capsys):
    pytest.importorskip("matplotlib")  # an optional extra; .ci/run installs it
    png = tmp_path / "curves.png"
    code, out = _train(["--data-dir", mnist_subset_dir, "--epochs", 1, "--plot", png], capsys)
    assert code == 0, out.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
