"""The backward engine: accumulation, retain_graph, grad mode, aliasing, errors."""
import gc
import sys

import numpy as np
import pytest

import framework as fw
from tests.conftest import assert_close, t64


def test_gradients_accumulate_until_zeroed():
    x = t64([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert_close(x.grad, [2 + 3, 4 + 3])
    x.grad.zero_()
    (x * x).sum().backward()
    assert_close(x.grad, [2, 4])


def test_shared_subexpression_and_diamond():
    x = t64([0.5, -1.5])
    y = x * 2
    z = y * y + y.exp() + y          # y used three times
    z.sum().backward()
    a = np.array([0.5, -1.5])
    assert_close(x.grad, 2 * (2 * 2 * a + np.exp(2 * a) + 1))


def test_add_gradients_do_not_alias():
    x, y = t64([1.0, 2.0]), t64([3.0, 4.0])
    (x + y).sum().backward()
    with fw.no_grad():
        x.grad += 10
    assert_close(y.grad, [1, 1])
    assert_close(x.grad, [11, 11])


def test_same_tensor_twice_in_one_op():
    x = t64([1.0, 2.0, 3.0])
    (x + x).sum().backward()
    assert_close(x.grad, [2, 2, 2])
    x.grad = None
    (x * x).sum().backward()
    assert_close(x.grad, [2, 4, 6])


def test_retain_graph_and_second_backward_error():
    x = t64([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, [4, 8])
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_backward_non_scalar_needs_gradient():
    x = t64([1.0, 2.0])
    y = x * 3
    with pytest.raises(RuntimeError, match=r"scalar outputs.*shape \(2,\)"):
        y.backward()
    y.backward(gradient=fw.tensor([1.0, 0.5], dtype=fw.float64))
    assert_close(x.grad, [3, 1.5])
    with pytest.raises(RuntimeError, match="gradient has shape"):
        (x * 3).backward(gradient=fw.ones(3))


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        fw.ones(2).sum().backward()


def test_no_grad_enable_grad_detach():
    x = t64([1.0, 2.0])
    with fw.no_grad():
        y = x * 2
        assert not fw.is_grad_enabled()
        with fw.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad and not z.is_leaf
    d = (x * 2).detach()
    assert not d.requires_grad
    w = fw.stop_gradient(x * 2) * x
    w.sum().backward()
    assert_close(x.grad, [2, 4])

    @fw.no_grad()
    def f(v):
        return v * 2

    assert not f(x).requires_grad


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="floating point"):
        fw.tensor([1, 2], requires_grad=True)
    x = fw.tensor([1.0, 2.0]).requires_grad_()
    assert x.requires_grad and x.is_leaf
    i = fw.tensor([1, 2])
    assert not (i * 2).requires_grad


def test_inplace_rules():
    x = fw.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        x += 1
    with fw.no_grad():
        x -= 0.5
    assert_close(x, [0.5] * 3)
    assert x.requires_grad and x.is_leaf


def test_deep_graph_no_recursion_limit():
    x = t64([1.0])
    y = x
    for _ in range(sys.getrecursionlimit() + 500):
        y = y + 1
    y.sum().backward()
    assert_close(x.grad, [1])


def test_graph_freed_after_backward():
    x = fw.ones(1000, requires_grad=True)
    y = (x * 2).exp()
    node = y._grad_fn
    y.sum().backward()
    assert node.saved == () and node.freed
    gc.collect()


def test_multi_output_node_partial_use():
    x = t64(np.arange(6.0).reshape(3, 2))
    a, b, c = x.split(1)
    (b * 2).sum().backward()
    assert_close(x.grad, [[0, 0], [2, 2], [0, 0]])


def test_integer_tensor_grads_are_type_errors():
    i = fw.tensor([1, 2])
    with pytest.raises(TypeError, match="floating point"):
        fw.grad(lambda v: (v * 2).sum())(i)
