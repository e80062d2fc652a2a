"""Checkpoints: safetensors round trip, files from the safetensors library, bad files."""
import os

import numpy as np
import pytest
from safetensors.numpy import save_file

import framework as fw
import framework.nn as nn


def test_save_load_roundtrip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    path = tmp_path / "model.safetensors"
    fw.save(model.state_dict(), path)
    loaded = fw.load(path)
    assert set(loaded) == set(model.state_dict())
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    other.load_state_dict(loaded)
    x = fw.randn(5, 3)
    np.testing.assert_array_equal(other(x).detach().numpy(), model(x).detach().numpy())
    assert [f for f in os.listdir(tmp_path)] == ["model.safetensors"]  # no temp files left


def test_reads_file_written_by_safetensors_library(tmp_path):
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    path = tmp_path / "torchlike.safetensors"
    save_file({"weight": w, "bias": np.ones(4, np.float32)}, str(path))
    m = nn.Linear(3, 4)
    m.load_state_dict(fw.load(path))
    np.testing.assert_array_equal(m.weight.detach().numpy(), w)


def test_truncated_and_foreign_files_name_the_path(tmp_path):
    good = tmp_path / "good.safetensors"
    fw.save({"w": fw.ones(100)}, good)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(good.read_bytes()[:-50])
    with pytest.raises(ValueError, match="truncated.safetensors"):
        fw.load(truncated)
    foreign = tmp_path / "foreign.bin"
    foreign.write_bytes(b"PK\x03\x04 this is a zip, not a checkpoint")
    with pytest.raises(ValueError, match="foreign.bin"):
        fw.load(foreign)
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        fw.load(tmp_path / "missing.safetensors")


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    fw.save({"w": fw.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        fw.save({"w": "not a tensor"}, path)
    assert path.read_bytes() == before
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fw.save({"w": fw.ones(1)}, tmp_path / "no" / "dir.safetensors")


def test_zero_dim_tensors_keep_their_shape(tmp_path):
    path = tmp_path / "bn.safetensors"
    bn = nn.BatchNorm1d(3)
    fw.save(bn.state_dict(), path)
    loaded = fw.load(path)
    assert loaded["num_batches_tracked"].shape == ()
    nn.BatchNorm1d(3).load_state_dict(loaded)
