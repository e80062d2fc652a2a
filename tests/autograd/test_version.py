"""Version counters: a backward through an array changed in place since it was saved
raises instead of returning a wrong gradient; the normal training loop raises nothing."""
import numpy as np
import pytest

import framework as fw
import framework.nn as nn
from framework.optim import SGD, Adam
from tests.conftest import assert_close, t64


def _backward_raises(loss, *words):
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
        loss.backward()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_issue_example_raises_naming_saver_and_writer():
    x = t64([0.0, 1.0])
    y = x.exp()
    with fw.no_grad():
        y += 100          # exp saved its output for backward
    _backward_raises(y.sum(), "ExpBackward saved an output", "add_", "shape (2,)")
    assert x.grad is None


def test_unmodified_graph_backward_is_unchanged():
    x = t64([0.0, 1.0])
    x.exp().sum().backward()
    assert_close(x.grad, np.exp([0.0, 1.0]))


@pytest.mark.parametrize("write", [
    lambda t: t.mul_(2),
    lambda t: t.zero_(),
    lambda t: t.fill_(3.0),
    lambda t: t.copy_(fw.tensor([5.0, 6.0], dtype=fw.float64)),
    lambda t: t.clamp_(0.0, 1.0),
    lambda t: t.sub_(1),
])
def test_every_inplace_method_bumps(write):
    x = t64([0.5, 1.5])
    y = x.sigmoid()
    before = y._version
    with fw.no_grad():
        write(y)
    assert y._version == before + 1
    _backward_raises(y.sum(), "SigmoidBackward")


def test_write_through_a_view_or_detached_alias_is_seen():
    x = t64([0.5, 1.5, 2.5, 3.5])
    y = x.tanh()
    with fw.no_grad():
        y.view(2, 2).add_(1)
    _backward_raises(y.sum(), "TanhBackward", "add_", "shape (2, 2)")

    x = t64([0.5, 1.5])
    y = x.exp()
    y.detach().zero_()
    _backward_raises(y.sum(), "ExpBackward", "zero_")


def test_saved_input_that_needs_no_grad_is_checked():
    x, w = t64([1.0, 2.0]), t64([3.0, 4.0], requires_grad=False)
    loss = (x * w).sum()
    w.add_(1)       # needs no grad, so allowed with grad mode on; mul saved it
    _backward_raises(loss, "MulBackward saved an output or an input that needs no grad")


def test_saved_reshape_of_an_input_is_checked():
    # matmul saves its inputs reshaped to 3-d: found by storage, not identity.
    a = t64(np.arange(24.0).reshape(2, 3, 4) / 10)
    b = t64(np.ones((4, 2)))
    loss = (a @ b).sum()
    with fw.no_grad():
        b.mul_(2)
    _backward_raises(loss, "MatMulBackward")


def test_inplace_write_to_an_unsaved_tensor_is_fine():
    x = t64([1.0, 2.0])
    y = x + 1          # add saves nothing
    z = y * 3          # mul by a constant saves y and the constant
    with fw.no_grad():
        x.add_(10)     # x is not saved by anything
    z.sum().backward()
    assert_close(x.grad, [3.0, 3.0])


@pytest.mark.parametrize("make_opt", [lambda ps: SGD(ps, lr=0.1, momentum=0.9),
                                      lambda ps: Adam(ps, lr=0.01)])
def test_optimizer_steps_after_backward_raise_nothing(make_opt):
    gen = fw.Generator().manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4, generator=gen), nn.ReLU(),
                          nn.Linear(4, 2, generator=gen))
    opt = make_opt(model.parameters())
    x = fw.randn(5, 3, generator=gen)
    target = fw.tensor([0, 1, 1, 0, 1])
    weight = model[0].weight
    for _ in range(3):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), target)
        loss.backward()
        version = weight._version
        opt.step()
        assert weight._version == version + 1


def test_step_between_two_backwards_of_a_retained_graph_raises():
    layer = nn.Linear(3, 2, generator=fw.Generator().manual_seed(0))
    opt = SGD(layer.parameters(), lr=0.1)
    x = fw.randn(4, 3, generator=fw.Generator().manual_seed(1), requires_grad=True)
    loss = layer(x).tanh().sum()
    loss.backward(retain_graph=True)
    opt.step()
    _backward_raises(loss, "LinearBackward", "SGD.step")


def test_clip_init_and_state_loading_bump():
    layer = nn.Linear(3, 2, generator=fw.Generator().manual_seed(0))
    v = layer.weight._version
    nn.init.normal_(layer.weight, generator=fw.Generator().manual_seed(1))
    assert layer.weight._version == v + 1
    layer.load_state_dict(layer.state_dict())
    assert layer.weight._version == v + 2
    layer(fw.ones(1, 3)).sum().backward()
    g = layer.weight.grad
    v = g._version
    nn.utils.clip_grad_norm_(layer.parameters(), 1e-3)
    assert g._version == v + 1


def test_batchnorm_running_stat_updates_bump():
    bn = nn.BatchNorm1d(3)
    mean, var = bn.running_mean._version, bn.running_var._version
    bn(fw.randn(4, 3, generator=fw.Generator().manual_seed(0)))
    assert (bn.running_mean._version, bn.running_var._version) == (mean + 1, var + 1)


def test_modified_input_that_needs_grad_is_named():
    x = t64([0.5, 1.5])
    y = x.log()
    with fw.no_grad():
        x.mul_(2)
    _backward_raises(y.sum(), "LogBackward saved its input 0", "mul_")
