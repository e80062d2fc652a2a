"""Post-accumulate-grad hooks on leaves: when they fire and what they see."""
import numpy as np
import pytest

import framework as fw


def test_hook_sees_final_grad_before_backward_returns():
    gen = fw.Generator(0)
    w1 = fw.randn(3, 4, generator=gen).requires_grad_()
    w2 = fw.randn(4, 2, generator=gen).requires_grad_()
    x = fw.randn(5, 3, generator=gen)
    seen = []
    w1.register_post_accumulate_grad_hook(lambda t: seen.append(("w1", t.grad.numpy().copy())))
    w2.register_post_accumulate_grad_hook(lambda t: seen.append(("w2", t.grad.numpy().copy())))
    ((x @ w1).relu() @ w2).sum().backward()
    # w2's gradient is final before w1's: the walk reaches it first.
    assert [name for name, _ in seen] == ["w2", "w1"]
    np.testing.assert_array_equal(seen[0][1], w2.grad.numpy())
    np.testing.assert_array_equal(seen[1][1], w1.grad.numpy())


def test_hook_fires_once_after_all_uses_and_accumulates():
    w = fw.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.numpy().copy()))
    # w is used by three nodes; the hook must see the sum of all three contributions.
    (w * w + w.exp() + 3 * w).sum().backward()
    expected = 2 * np.array([1.0, 2.0]) + np.exp([1.0, 2.0]) + 3
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], expected, rtol=1e-6)
    (w * 2).sum().backward()  # a second backward adds to .grad, the hook sees the total
    assert len(calls) == 2
    np.testing.assert_allclose(calls[1], expected + 2, rtol=1e-6)


def test_hook_remove_and_leaf_only():
    w = fw.tensor([1.0], requires_grad=True)
    calls = []
    handle = w.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    w.register_post_accumulate_grad_hook(lambda t: calls.append(2))
    handle.remove()
    (w * 3).sum().backward()
    assert calls == [2]
    with pytest.raises(RuntimeError, match="only leaf tensors"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(TypeError, match="callable"):
        w.register_post_accumulate_grad_hook(3)


def test_hook_on_leaf_root_and_not_under_grad_api():
    w = fw.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    w.backward(fw.tensor([1.0, 1.0]))
    assert calls == [1]
    fw.grad(lambda v: (v * v).sum())(w)  # functional grad does not touch .grad
    assert calls == [1]
