"""fw.compile on the CUDA backend: the recorded plan replayed launch by launch (the
simulator has no graphs) equals eager execution on the device, step for step."""
import numpy as np
import pytest

import framework as fw
import framework.nn as nn
import framework.nn.functional as F
from framework.optim import SGD, Adam
from framework.optim.lr_scheduler import StepLR


def model(seed, conv=False):
    g = fw.Generator(seed)
    if conv:
        return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, generator=g), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(2 * 2 * 2, 3, generator=g)).to("cuda")
    return nn.Sequential(nn.Flatten(), nn.Linear(6, 9, generator=g), nn.ReLU(),
                         nn.Linear(9, 3, generator=g)).to("cuda")


def step_fn(m, opt, sched):
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        sched.step()
        return loss
    return step


@pytest.mark.parametrize("conv, make_opt", [
    (False, lambda p: SGD(p, lr=0.1, momentum=0.9)),
    (True, lambda p: Adam(p, lr=0.01)),
])
def test_compiled_step_on_cuda_equals_eager(rng, conv, make_opt):
    m1, m2 = model(0, conv), model(0, conv)
    o1, o2 = make_opt(m1.parameters()), make_opt(m2.parameters())
    eager = step_fn(m1, o1, StepLR(o1, 2))
    compiled = fw.compile(step_fn(m2, o2, StepLR(o2, 2)))
    shape = (1, 4, 4) if conv else (2, 3)
    for b in (5, 5, 5, 5, 3, 3, 3):
        x = fw.tensor(rng.standard_normal((b,) + shape).astype(np.float32), device="cuda")
        y = fw.tensor(rng.integers(0, 3, b), device="cuda")
        assert eager(x, y).item() == compiled(x, y).item()
    for a, b in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())
        np.testing.assert_array_equal(a.grad.cpu().numpy(), b.grad.cpu().numpy())
    assert compiled.stats["replayed"] >= 3
    assert o1.param_groups[0]["lr"] == o2.param_groups[0]["lr"]


def test_cuda_graph_executor_is_a_clear_error_without_a_gpu():
    from numba.cuda import is_available
    from kernels.cuda._available import require_cuda
    if is_available() and require_cuda() == "gpu":
        pytest.skip("a real GPU is present: graphs can run here")
    step = fw.compile(lambda x: (x * 2).sum(), executor="cuda_graph")
    with pytest.raises(RuntimeError, match="CUDA graphs need a real GPU"):
        step(fw.ones(3, device="cuda"))


def test_seed_style_step_with_dropout_on_cuda(rng):
    """value_and_grad over optimizer.parameters, optimizer(grads), dropout masks drawn
    from a generator and copied to the device at every replay."""
    def make(seed):
        g = fw.Generator(seed)
        net = nn.Sequential(nn.Flatten(), nn.Linear(6, 9, generator=g), nn.ReLU(),
                            nn.Dropout(0.5, generator=fw.Generator(11)),
                            nn.Linear(9, 3, generator=g)).to("cuda")
        return net, SGD(net.trainable_params(), lr=0.1)

    def train_step(net, opt):
        def forward_fn(x, y):
            return F.cross_entropy(net(x), y)
        grad_fn = fw.value_and_grad(forward_fn, None, weights=opt.parameters)

        def step(x, y):
            loss, grads = grad_fn(x, y)
            opt(grads)
            return loss
        return step

    (n1, o1), (n2, o2) = make(3), make(3)
    eager, compiled = train_step(n1, o1), fw.compile(train_step(n2, o2))
    for _ in range(5):
        x = fw.tensor(rng.standard_normal((4, 2, 3)).astype(np.float32), device="cuda")
        y = fw.tensor(rng.integers(0, 3, 4), device="cuda")
        assert eager(x, y).item() == compiled(x, y).item()
    for a, b in zip(n1.parameters(), n2.parameters()):
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())
    assert compiled.stats["replayed"] == 3


def test_reflect_padded_conv_step_on_cuda_equals_eager(rng):
    """F.pad's index map is copied to the device while the step is recorded (the compiled
    step runs first on a shape no other test pads), then replayed as a constant."""
    def make():
        g = fw.Generator(5)
        net = nn.Sequential(nn.Conv2d(1, 2, (2, 3), padding="same", padding_mode="reflect",
                                      generator=g), nn.ReLU(), nn.Flatten(),
                            nn.Linear(2 * 3 * 5, 3, generator=g)).to("cuda")
        return net, SGD(net.parameters(), lr=0.1, momentum=0.9)

    (n1, o1), (n2, o2) = make(), make()
    compiled = fw.compile(step_fn(n2, o2, StepLR(o2, 2)))
    eager = step_fn(n1, o1, StepLR(o1, 2))
    for _ in range(4):
        x = fw.tensor(rng.standard_normal((2, 1, 3, 5)).astype(np.float32), device="cuda")
        y = fw.tensor(rng.integers(0, 3, 2), device="cuda")
        assert compiled(x, y).item() == eager(x, y).item()
    for a, b in zip(n1.parameters(), n2.parameters()):
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())
    assert compiled.stats["replayed"] == 2
