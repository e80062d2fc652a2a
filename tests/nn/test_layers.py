"""Layers: forward against NumPy references, backward by float64 gradcheck."""
import numpy as np
import pytest

import framework as fw
import framework.nn as nn
import framework.nn.functional as F
from framework.autograd import gradcheck
from tests.conftest import assert_close, t64


def test_linear_module_init_and_layout():
    m = nn.Linear(784, 512, generator=fw.Generator(0))
    assert m.weight.shape == (512, 784) and m.bias.shape == (512,)
    bound = 1 / np.sqrt(784)
    w = m.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound
    seeded = nn.Linear(4, 3, weight_init="normal", bias_init="zeros", generator=fw.Generator(1))
    assert np.all(seeded.bias.detach().numpy() == 0)
    assert 0.001 < seeded.weight.detach().numpy().std() < 0.05
    same = nn.Linear(4, 3, generator=fw.Generator(5)), nn.Linear(4, 3, generator=fw.Generator(5))
    assert np.array_equal(same[0].weight.detach().numpy(), same[1].weight.detach().numpy())


def test_module_tree_registration_and_repr():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    names = [n for n, _ in model.named_parameters()]
    assert names == ["1.weight", "1.bias", "3.weight", "3.bias"]
    assert len(model) == 4 and isinstance(model[1], nn.Linear)
    assert isinstance(model[1:3], nn.Sequential) and len(model[1:3]) == 2
    assert len(list(model.children())) == 4 and len(list(model.modules())) == 5
    assert len(model.trainable_params()) == 4
    assert [n for n, _ in model.parameters_and_names()] == names
    text = repr(model)
    assert "(1): Linear(in_features=784, out_features=512, bias=True)" in text
    assert text.startswith("Sequential(\n  (0): Flatten(")

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.stack = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
            self.scale = 2.0

        def forward(self, x):
            return self.stack(self.flatten(x)) * self.scale

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["stack.0.weight", "stack.0.bias"]
    assert net(fw.ones(2, 2, 2)).shape == (2, 3)
    net.eval()
    assert not net.stack[0].training
    net.train()
    assert net.stack[0].training


def test_zero_grad_and_dropout_modes():
    m = nn.Linear(3, 2)
    (m(fw.ones(1, 3)).sum()).backward()
    assert m.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert np.all(m.weight.grad.numpy() == 0)
    m.zero_grad()
    assert m.weight.grad is None
    d = nn.Dropout(0.5, generator=fw.Generator(0))
    x = fw.ones(1000)
    y = d(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 400 < (y == 0).sum() < 600
    d.eval()
    assert d(x) is x
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.5)
    assert gradcheck(lambda v: F.dropout(v, 0.3, True, fw.Generator(3)), [t64(np.ones(20))])


def test_batchnorm_train_eval(rng):
    x = rng.standard_normal((8, 3, 4, 4)) * 2 + 1
    bn = nn.BatchNorm2d(3).double()
    out = bn(t64(x, requires_grad=False))
    mean, var = x.mean((0, 2, 3)), x.var((0, 2, 3))
    ref = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    assert_close(out, ref, rtol=1e-8, atol=1e-8)
    n = x.size // 3
    assert_close(bn.running_mean, 0.1 * mean, rtol=1e-8)
    assert_close(bn.running_var, 0.9 + 0.1 * var * n / (n - 1), rtol=1e-8)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    ev = bn(t64(x, requires_grad=False))
    rm, rv = 0.1 * mean, 0.9 + 0.1 * var * n / (n - 1)
    assert_close(ev, (x - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + 1e-5),
                 rtol=1e-8)
    bn.train()
    assert gradcheck(lambda v, w, b: F.batch_norm(v, None, None, w, b, True),
                     [t64(x[:4, :, :2, :2]), t64(np.ones(3) * 1.5), t64(np.zeros(3) + 0.2)])
    b1 = nn.BatchNorm1d(3).double()
    assert b1(t64(rng.standard_normal((5, 3)), requires_grad=False)).shape == (5, 3)
    with pytest.raises(ValueError, match="BatchNorm2d"):
        bn(fw.zeros(2, 3))


def test_state_dict_roundtrip_and_strict_errors():
    a = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    b = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    sd = a.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias",
                        "1.running_mean", "1.running_var", "1.num_batches_tracked"]
    b.load_state_dict(sd)
    assert np.array_equal(b[0].weight.detach().numpy(), a[0].weight.detach().numpy())
    bad = dict(sd)
    bad["0.weight"] = fw.zeros(5, 3)
    del bad["2.bias"]
    bad["extra"] = fw.zeros(1)
    with pytest.raises(RuntimeError) as err:
        b.load_state_dict(bad)
    msg = str(err.value)
    assert "size mismatch for 0.weight" in msg and "(5, 3)" in msg
    assert "missing keys: 2.bias" in msg and "unexpected keys: extra" in msg
    partial = {k: v for k, v in sd.items() if k != "2.bias"}
    missing, unexpected = b.load_state_dict(partial, strict=False)
    assert missing == ["2.bias"] and unexpected == []


def test_init_functions():
    g = fw.Generator(0)
    w = fw.empty(256, 128)
    nn.init.kaiming_uniform_(w, generator=g)
    assert abs(w.numpy().std() - np.sqrt(2 / (1 + 0)) * np.sqrt(3 / 128) / np.sqrt(3)) < 0.005
    nn.init.kaiming_normal_(w, nonlinearity="relu", generator=g)
    assert abs(w.numpy().std() - np.sqrt(2 / 128)) < 0.005
    nn.init.xavier_uniform_(w, generator=g)
    assert abs(w.numpy().std() - np.sqrt(2 / (128 + 256))) < 0.005
    nn.init.xavier_normal_(w, generator=g)
    assert abs(w.numpy().std() - np.sqrt(2 / (128 + 256))) < 0.005
    nn.init.normal_(w, 1.0, 0.5, generator=g)
    assert abs(w.numpy().mean() - 1.0) < 0.01
    nn.init.uniform_(w, -2, -1, generator=g)
    assert w.numpy().min() >= -2 and w.numpy().max() < -1
    nn.init.zeros_(w)
    assert w.numpy().max() == 0
    nn.init.ones_(w)
    nn.init.constant_(w, 3.0)
    assert np.all(w.numpy() == 3.0)


def test_activation_modules(rng):
    x = rng.standard_normal((3, 4))
    t = t64(x, requires_grad=False)
    assert_close(nn.ReLU()(t), np.maximum(x, 0))
    assert_close(nn.Tanh()(t), np.tanh(x))
    assert_close(nn.Sigmoid()(t), 1 / (1 + np.exp(-x)))
    e = np.exp(x - x.max(1, keepdims=True))
    assert_close(nn.Softmax(dim=1)(t), e / e.sum(1, keepdims=True))
    assert_close(nn.LogSoftmax(1)(t), np.log(e / e.sum(1, keepdims=True)))
    assert nn.GELU()(t).shape == (3, 4) and nn.Identity()(t) is t


def test_clip_grad_norm():
    a = fw.tensor([3.0, 0.0], requires_grad=True)
    b = fw.tensor([4.0], requires_grad=True)
    (a * fw.tensor([3.0, 0.0])).sum().backward()
    (b * 4).sum().backward()
    norm = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert norm == pytest.approx(5.0)
    assert_close(a.grad, [0.6, 0.0], rtol=1e-5)
    assert_close(b.grad, [0.8], rtol=1e-5)
    assert nn.utils.clip_grad_norm_([a, b], 10.0) == pytest.approx(1.0, rel=1e-5)
