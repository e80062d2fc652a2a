"""Data parallelism over MPI: 2 ranks started with ``mpiexec`` (tiny sizes, 1 thread each)."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from framework.cli import main
from framework.training import model_weights
from framework.training.distributed import find_mpiexec

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mpi_worker.py")


def _env(**extra):
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH")) if p)
    return env


def _mpiexec(nproc, args, timeout=60, env=None):
    mpiexec = find_mpiexec()
    assert mpiexec is not None, "mpiexec not found: install the test extra (mpi4py, mpich)"
    start = time.monotonic()
    done = subprocess.run([mpiexec, "-n", str(nproc), sys.executable] + args,
                          env=env or _env(),
                          capture_output=True, text=True, timeout=timeout)
    return done, time.monotonic() - start


def test_collectives_ddp_gradients_no_sync_and_sampler_on_two_ranks():
    done, _ = _mpiexec(2, [WORKER, "check"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rank 0 ok" in done.stdout and "rank 1 ok" in done.stdout


def test_cuda_tensors_are_staged_through_the_host_under_the_simulator():
    done, _ = _mpiexec(2, [WORKER, "cuda"], env=_env(NUMBA_ENABLE_CUDASIM="1"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rank 0 ok" in done.stdout and "rank 1 ok" in done.stdout


def test_same_checks_in_a_one_process_world_without_mpiexec():
    done = subprocess.run([sys.executable, WORKER, "check"], env=_env(), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "rank 0 ok"


@pytest.mark.parametrize("mode, message", [
    ("die", "Killed (signal 9)"),  # SIGKILL: mpiexec sees it and ends rank 0
    ("raise", "rank 1/2: RuntimeError: injected failure on rank 1; aborting all ranks"),
    ("hang", "rank 0/2: all_reduce(SUM) of 74 elements did not complete within 2 s"),
])
def test_a_failed_rank_ends_the_others_with_a_clear_error(mode, message, tmp_path):
    marker = tmp_path / "stalled"
    done, seconds = _mpiexec(2, [WORKER, mode, str(marker)], timeout=60)
    assert done.returncode != 0
    assert message in done.stdout + done.stderr, done.stdout + done.stderr
    assert "rank 0 ok" not in done.stdout
    assert seconds < 30  # seconds, not forever: the child ran 1000 steps otherwise
    if mode == "hang":  # the timeout caught the stall, not a slow start
        assert marker.read_text() == "rank 1 stalls at step 3"


def test_two_ranks_at_batch_32_follow_one_process_at_batch_64(mnist_subset_dir, tmp_path):
    common = ["--data-dir", str(mnist_subset_dir), "--epochs", "4", "--max-steps", "100",
              "--seed", "4", "--lr", "0.05"]
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["train", "--threads", "2", "--batch-size", "64", "--out", f"{one}.st",
                 "--metrics-json", f"{one}.json"] + common) == 0
    done, _ = _mpiexec(2, ["-m", "framework", "train", "--threads", "1", "--batch-size", "32",
                           "--out", f"{two}.st", "--metrics-json", f"{two}.json"] + common,
                       timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("epoch 4: train loss") == 1  # rank 0 alone reports
    assert "on 2 ranks" in done.stdout
    a, b = model_weights(f"{one}.st"), model_weights(f"{two}.st")
    assert sorted(a) == sorted(b)  # no wrapper prefix in the checkpoint
    for k in a:
        np.testing.assert_allclose(b[k].numpy(), a[k].numpy(), rtol=0, atol=1e-4)
    ma, mb = (json.loads(open(f"{p}.json").read())["epochs"] for p in (one, two))
    assert [m["steps"] for m in mb] == [m["steps"] for m in ma] == [32, 32, 32, 4]
    for x, y in zip(ma, mb):
        for key in ("train_loss", "test_loss", "test_accuracy"):
            assert abs(x[key] - y[key]) < 1e-4, (key, x, y)


def test_nproc_starts_mpiexec_and_resumes_from_rank_zeros_checkpoint(mnist_subset_dir,
                                                                      tmp_path, capfd):
    common = ["train", "--threads", "1", "--data-dir", str(mnist_subset_dir),
              "--batch-size", "32", "--epochs", "1", "--nproc", "2"]
    part, resumed = tmp_path / "part.st", tmp_path / "resumed.st"
    assert main(common + ["--max-steps", "10", "--out", str(part)]) == 0
    assert main(common + ["--resume", str(part), "--out", str(resumed)]) == 0
    out = capfd.readouterr().out
    assert out.count("resuming") == 1 and "epoch 1, step 10" in out
    assert "epoch 1: train loss" in out and "[stopped after" not in out.split("resuming")[1]
    assert set(model_weights(str(resumed))) == set(model_weights(str(part)))


def test_nproc_inside_mpiexec_is_refused(monkeypatch, capsys):
    monkeypatch.setenv("PMI_SIZE", "2")
    assert main(["train", "--nproc", "2"]) == 2
    assert "already started by mpiexec" in capsys.readouterr().err


def test_without_the_mpi_extra_one_line_says_what_to_install(monkeypatch, capsys):
    import framework as fw
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if mpi4py were not installed
    with pytest.raises(ImportError, match=r'pip install -e "\.\[mpi\]"'):
        fw.distributed.init_process_group()
    assert main(["train", "--nproc", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ('numbagrad train: error: --nproc: MPI is not installed: '
                   'pip install -e ".[mpi]" (mpi4py and mpich)')
