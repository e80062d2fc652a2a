"""matmul (2-D, batched, broadcast batch dims, vectors) and F.linear."""
import numpy as np
import pytest

import framework as fw
import framework.nn.functional as F
from framework.autograd import gradcheck
from tests.conftest import assert_close, t64

CASES = [
    ((3, 4), (4, 5)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (1, 3, 4, 2)),
    ((1, 3, 4), (2, 4, 2)),
    ((2, 3, 4), (1, 4, 2)),
    ((5,), (2, 5, 3)),
    ((1, 1), (1, 1)),
    ((0, 4), (4, 3)),
]


@pytest.mark.parametrize("sa,sb", CASES)
def test_matmul(rng, sa, sb):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    x, y = t64(a), t64(b)
    assert_close(x @ y, a @ b, rtol=1e-10, atol=1e-12)
    assert_close(fw.matmul(x, y), np.matmul(a, b), rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda p, q: p @ q, [x, y])


def test_matmul_float32_and_transposed_inputs(rng):
    a = rng.standard_normal((64, 33)).astype(np.float32)
    b = rng.standard_normal((64, 17)).astype(np.float32)
    assert_close(fw.tensor(a).T @ fw.tensor(b), a.T @ b, rtol=1e-4, atol=1e-4)


def test_matmul_errors():
    with pytest.raises(ValueError,
                       match=r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied"):
        fw.zeros(2, 3) @ fw.zeros(4, 5)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        fw.zeros(2, 3, 4) @ fw.zeros(3, 4, 5)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        fw.tensor(1.0) @ fw.zeros(3)


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(rng, shape, bias):
    a, w, b = rng.standard_normal(shape), rng.standard_normal((3, 4)), rng.standard_normal(3)
    x, tw, tb = t64(a), t64(w), t64(b)
    ref = a @ w.T + (b if bias else 0)
    assert_close(F.linear(x, tw, tb if bias else None), ref, rtol=1e-10)
    args = [x, tw] + ([tb] if bias else [])
    assert gradcheck(lambda *p: F.linear(*p), args)


def test_linear_errors():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\) does not match "
                                         r"weight of shape \(3, 4\)"):
        F.linear(fw.zeros(2, 5), fw.zeros(3, 4))
    with pytest.raises(ValueError, match="bias"):
        F.linear(fw.zeros(2, 4), fw.zeros(3, 4), fw.zeros(4))
