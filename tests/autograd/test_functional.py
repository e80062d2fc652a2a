"""grad / value_and_grad: argnums, has_aux, weights, tuple outputs, errors."""
import numpy as np
import pytest

import framework as fw
from tests.conftest import assert_close


def f(x, y, w, b):
    z = x @ w + b
    loss = ((z - y) ** 2).mean()
    return loss, z


def _data(rng):
    x = fw.tensor(rng.standard_normal((4, 3)))
    y = fw.tensor(rng.standard_normal((4, 2)))
    w = fw.tensor(rng.standard_normal((3, 2)))
    b = fw.tensor(rng.standard_normal(2))
    return x, y, w, b


def _reference(x, y, w, b):
    x, y, w, b = (t.detach().numpy().astype(np.float64) for t in (x, y, w, b))
    z = x @ w + b
    dz = 2 * (z - y) / z.size
    return ((z - y) ** 2).mean(), z, x.T @ dz, dz.sum(0)


def test_grad_has_aux(rng):
    x, y, w, b = _data(rng)
    grads, (z,) = fw.grad(f, (2, 3), has_aux=True)(x, y, w, b)
    loss, z_ref, gw, gb = _reference(x, y, w, b)
    assert_close(grads[0], gw, rtol=1e-5)
    assert_close(grads[1], gb, rtol=1e-5)
    assert_close(z, z_ref, rtol=1e-5)
    assert not w.requires_grad and w.grad is None  # the caller's tensors are untouched


def test_value_and_grad_has_aux(rng):
    x, y, w, b = _data(rng)
    (loss, z), grads = fw.value_and_grad(f, (2, 3), has_aux=True)(x, y, w, b)
    loss_ref, _, gw, _ = _reference(x, y, w, b)
    assert loss.item() == pytest.approx(loss_ref, rel=1e-5)
    assert isinstance(grads, tuple) and len(grads) == 2
    assert_close(grads[0], gw, rtol=1e-5)


def test_int_argnums_returns_single_grad():
    g = fw.grad(lambda x: (x ** 3).sum())(fw.tensor([1.0, 2.0]))
    assert isinstance(g, fw.Tensor)
    assert_close(g, [3.0, 12.0])


def test_tuple_outputs_without_aux_sum_gradients():
    def two(x):
        return (x * 2).sum(), x * x   # second output non-scalar: seeded with ones
    g = fw.grad(two)(fw.tensor([1.0, 3.0]))
    assert_close(g, [2 + 2, 2 + 6])


def test_weights(rng):
    x, y, w, b = _data(rng)
    w.requires_grad_()
    b.requires_grad_()

    def loss_fn(x, y):
        return f(x, y, w, b)[0]

    loss, (gw, gb) = fw.value_and_grad(loss_fn, None, weights=[w, b])(x, y)
    _, _, gw_ref, gb_ref = _reference(x, y, w, b)
    assert_close(gw, gw_ref, rtol=1e-5)
    assert_close(gb, gb_ref, rtol=1e-5)
    assert w.grad is None  # functional grads do not accumulate
    gx, (gw2, gb2) = fw.grad(loss_fn, 0, weights=[w, b])(x, y)
    assert gx.shape == x.shape
    assert_close(gw2, gw_ref, rtol=1e-5)


def test_unused_argument_gets_zeros():
    g = fw.grad(lambda x, y: (x * 2).sum(), (0, 1))(fw.ones(2), fw.ones(3))
    assert_close(g[1], np.zeros(3))


def test_errors_are_precise():
    with pytest.raises(TypeError, match="argnums must be an int or a non-empty tuple"):
        fw.grad(lambda x: x, argnums="0")
    with pytest.raises(TypeError, match="argnums=None needs weights"):
        fw.grad(lambda x: x, argnums=None)
    with pytest.raises(TypeError, match="names an argument twice"):
        fw.grad(lambda x: x, argnums=(0, 0))
    with pytest.raises(TypeError, match=r"scalar \(one-element\) Tensor, got shape \(2,\)"):
        fw.grad(lambda x: x * 2)(fw.ones(2))
    with pytest.raises(TypeError, match="out of range"):
        fw.grad(lambda x: x.sum(), argnums=3)(fw.ones(2))
    with pytest.raises(TypeError, match="argument 0 is a float"):
        fw.grad(lambda x: x)(1.0)
    with pytest.raises(TypeError, match="has_aux=True needs fn to return a tuple"):
        fw.grad(lambda x: x.sum(), has_aux=True)(fw.ones(2))
