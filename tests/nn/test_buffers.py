"""Registered buffers stay registered when reassigned, as in PyTorch."""
import numpy as np
import pytest

import framework as fw
import framework.nn as nn


def test_reassigned_buffer_stays_in_state_dict_and_moves_with_to():
    bn = nn.BatchNorm1d(3)
    bn.running_mean = fw.ones(3)
    assert "running_mean" in bn.state_dict()
    np.testing.assert_array_equal(bn.state_dict()["running_mean"].numpy(), np.ones(3))
    bn.double()
    assert bn.running_mean.dtype is fw.float64
    assert bn._buffers["running_mean"] is bn.running_mean
    assert "running_mean" not in bn.__dict__


def test_buffer_set_to_none_and_wrong_type():
    m = nn.Module()
    m.register_buffer("stat", fw.zeros(2))
    m.stat = None
    assert "stat" in m._buffers and m.stat is None
    assert "stat" not in m.state_dict()
    with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'stat'"):
        m.stat = 3
    m.stat = fw.ones(2)
    assert list(m.state_dict()) == ["stat"]


def test_parameter_or_module_replaces_a_buffer():
    m = nn.Module()
    m.register_buffer("w", fw.zeros(2))
    m.w = nn.Parameter(fw.ones(2))
    assert "w" in m._parameters and "w" not in m._buffers
