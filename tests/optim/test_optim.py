"""Optimizers against NumPy implementations of PyTorch's documented update rules."""
import math

import numpy as np
import pytest

import framework as fw
import framework.nn as nn
from framework.optim import SGD, Adam, AdamW
from framework.optim import lr_scheduler as S


def _run(make_opt, grads, p0):
    p = fw.tensor(p0.copy(), requires_grad=True)
    opt = make_opt([p])
    for g in grads:
        p.grad = fw.tensor(g)
        opt.step()
    return p.detach().numpy(), opt


def _sgd_ref(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    buf = None
    for g in grads:
        d = g + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
    return p


def _adam_ref(p, grads, lr, b1, b2, eps, wd, decoupled, amsgrad=False):
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    vmax = np.zeros_like(p)
    for t, g in enumerate(grads, 1):
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vhat = np.maximum(vmax, v) if amsgrad else v
        vmax = vhat
        p = p - lr / (1 - b1 ** t) * m / (np.sqrt(vhat) / math.sqrt(1 - b2 ** t) + eps)
    return p


@pytest.fixture
def problem(rng):
    return rng.standard_normal(7), [rng.standard_normal(7) for _ in range(5)]


@pytest.mark.parametrize("kw", [dict(), dict(momentum=0.9), dict(momentum=0.9, dampening=0.3),
                                dict(momentum=0.8, nesterov=True, weight_decay=0.01),
                                dict(weight_decay=0.1)])
def test_sgd(problem, kw):
    p0, grads = problem
    got, _ = _run(lambda ps: SGD(ps, lr=0.1, **kw), grads, p0)
    np.testing.assert_allclose(got, _sgd_ref(p0, grads, 0.1, **kw), rtol=1e-12)


@pytest.mark.parametrize("cls,decoupled,wd,amsgrad", [(Adam, False, 0.0, False),
                                                      (Adam, False, 0.05, True),
                                                      (AdamW, True, 0.01, False),
                                                      (AdamW, True, 0.1, True)])
def test_adam_adamw(problem, cls, decoupled, wd, amsgrad):
    p0, grads = problem
    got, opt = _run(lambda ps: cls(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=wd,
                                   amsgrad=amsgrad), grads, p0)
    ref = _adam_ref(p0, grads, 0.01, 0.8, 0.99, 1e-6, wd, decoupled, amsgrad)
    np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_hyperparameter_errors():
    p = [fw.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        SGD(p, lr=-0.1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum"):
        SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid momentum value: -1"):
        SGD(p, lr=0.1, momentum=-1)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="require grad"):
        SGD([fw.zeros(2)], lr=0.1)


def test_param_groups_and_zero_grad():
    a = fw.ones(2, requires_grad=True)
    b = fw.ones(2, requires_grad=True)
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad, b.grad = fw.ones(2), fw.ones(2)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 0.9])
    np.testing.assert_allclose(b.detach().numpy(), [0.0, 0.0])
    opt.zero_grad(set_to_none=False)
    assert np.all(a.grad.numpy() == 0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_optimizer_state_dict_roundtrip(problem):
    p0, grads = problem
    full, _ = _run(lambda ps: Adam(ps, lr=0.01), grads, p0)
    half, opt = _run(lambda ps: Adam(ps, lr=0.01), grads[:2], p0)
    state = opt.state_dict()
    assert state["param_groups"][0]["params"] == [0] and state["state"][0]["step"] == 2
    p = fw.tensor(half.copy(), requires_grad=True)
    resumed = Adam([p], lr=0.01)
    resumed.load_state_dict(state)
    for g in grads[2:]:
        p.grad = fw.tensor(g)
        resumed.step()
    np.testing.assert_allclose(p.detach().numpy(), full, rtol=1e-12)


def test_training_a_model_reduces_loss():
    gen = fw.Generator(0)
    model = nn.Sequential(nn.Linear(4, 16, generator=gen), nn.ReLU(),
                          nn.Linear(16, 1, generator=gen))
    x = fw.randn(64, 4, generator=gen)
    y = (x[:, :1] * 2 - x[:, 1:2]).detach()
    opt = AdamW(model.parameters(), lr=0.01)
    first = None
    for _ in range(200):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.05 * first


def _lrs(make, n):
    p = fw.zeros(1, requires_grad=True)
    opt = SGD([p], lr=0.1)
    sched = make(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


# Reference values printed by torch.optim.lr_scheduler (torch 2.13) for the same settings.
@pytest.mark.parametrize("make,n,expected", [
    (lambda o: S.StepLR(o, 3, 0.5), 8, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]),
    (lambda o: S.CosineAnnealingLR(o, 5, 0.01), 8,
     [0.1, 0.0914057647, 0.0689057647, 0.0410942353, 0.0185942353, 0.01, 0.0185942353,
      0.0410942353]),
    (lambda o: S.LinearLR(o, 0.25, 1.0, 4), 8, [0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1, 0.1,
                                                0.1]),
    (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=10), 10,
     [0.04, 0.52, 1.0, 0.950484632, 0.8117456539, 0.6112620219, 0.3887419781, 0.1882583461,
      0.049519368, 4e-06]),
])
def test_schedulers_match_pytorch(make, n, expected):
    np.testing.assert_allclose(_lrs(make, n), expected, rtol=1e-8, atol=1e-12)


def test_scheduler_state_roundtrip():
    p = fw.zeros(1, requires_grad=True)
    opt = SGD([p], lr=0.1)
    s = S.StepLR(opt, 2, 0.5)
    for _ in range(3):
        s.step()
    state = s.state_dict()
    opt2 = SGD([fw.zeros(1, requires_grad=True)], lr=0.1)
    s2 = S.StepLR(opt2, 2, 0.5)
    s2.load_state_dict(state)
    assert s2.last_epoch == 3 and opt2.param_groups[0]["lr"] == pytest.approx(0.05)
