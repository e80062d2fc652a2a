"""Tensors, modules, optimizers and data on the device; a few MLP steps match the CPU."""
import numpy as np
import pytest

import framework as fw
import framework.nn.functional as F
from framework import nn, optim
from framework.data import DataLoader, TensorDataset


def test_tensor_moves_between_devices(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    x = fw.tensor(a, device="cuda")
    assert x.device == fw.device("cuda:0") and str(x.device) == "cuda:0"
    assert type(x.data).__name__ != "ndarray"  # a device array, not a host one
    np.testing.assert_array_equal(x.cpu().numpy(), a)
    np.testing.assert_array_equal(fw.tensor(a).cuda().numpy(), a)
    np.testing.assert_array_equal(fw.tensor(a).to("cuda").to("cpu").numpy(), a)
    assert x.to("cuda") is x
    assert fw.zeros(2, 3, device="cuda").device == fw.device("cuda")
    assert fw.ones(2, device="cuda").sum().item() == 2.0
    assert fw.arange(5, device="cuda").tolist() == [0, 1, 2, 3, 4]
    assert "device='cuda:0'" in repr(x)


def test_gradient_flows_back_across_a_device_copy(rng):
    a = fw.tensor(rng.standard_normal(4), requires_grad=True)
    (a.cuda() * 3).sum().backward()
    assert a.grad.device == fw.device("cpu")
    np.testing.assert_allclose(a.grad.numpy(), 3.0)


def test_mixing_devices_names_both():
    with pytest.raises(RuntimeError, match="cpu.*cuda|cuda.*cpu"):
        fw.ones(3) + fw.ones(3, device="cuda")


def test_module_to_moves_parameters_and_buffers():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).to("cuda")
    assert all(p.device == fw.device("cuda") for p in model.parameters())
    assert all(b.device == fw.device("cuda") for _, b in model.named_buffers())
    out = model(fw.randn(5, 4, device="cuda"))
    assert out.device == fw.device("cuda")


def _mlp_steps(device, optimizer_cls, steps=3, **opt):
    gen = fw.Generator(0)
    model = nn.Sequential(nn.Linear(6, 8, generator=gen), nn.ReLU(),
                          nn.Linear(8, 3, generator=gen)).double().to(device)
    optimizer = optimizer_cls(model.parameters(), **opt)
    rng = np.random.default_rng(5)
    x = fw.tensor(rng.standard_normal((20, 6)))
    y = fw.tensor(rng.integers(0, 3, 20))
    loader = DataLoader(TensorDataset(x, y), batch_size=7, shuffle=True,
                        generator=fw.Generator(1), device=device)
    losses = []
    for _ in range(steps):
        for xb, yb in loader:
            assert xb.device == fw.device(device) and yb.device == fw.device(device)
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
    return losses, [p.detach().cpu().numpy() for p in model.parameters()]


@pytest.mark.parametrize("optimizer_cls,opt", [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    (optim.Adam, dict(lr=0.01, amsgrad=True)),
    (optim.AdamW, dict(lr=0.01, weight_decay=0.1)),
])
def test_training_steps_match_cpu(optimizer_cls, opt, no_implicit_copies):
    """Same seed, same batches: the loss curve and the weights agree with the CPU run,
    and no step copies implicitly between host and device."""
    want_losses, want_params = _mlp_steps("cpu", optimizer_cls, **opt)
    with no_implicit_copies():
        got_losses, got_params = _mlp_steps("cuda", optimizer_cls, **opt)
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-9)
    for w, g in zip(want_params, got_params):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


def test_implicit_copy_check_can_fail(no_implicit_copies):
    """The check above catches a kernel handed a host array, on a GPU and simulated.

    int16 is a kind no other test launches: on a GPU, Numba warns at the first launch
    of a kind only (later ones take the fast path of kernels/cuda/_launch.py).
    """
    from kernels import cuda as kernels
    with pytest.raises(AssertionError, match="implicit host/device copies"):
        with no_implicit_copies():
            kernels.fill(np.zeros(5, np.int16), 1)
    with no_implicit_copies():
        kernels.fill(kernels.zeros((5,), np.float64), 1.0)


def test_optimizer_state_lives_on_the_device():
    model = nn.Linear(3, 2).to("cuda")
    opt = optim.Adam(model.parameters(), lr=0.1)
    model(fw.ones(4, 3, device="cuda")).sum().backward()
    opt.step()
    for state in opt.state.values():
        for v in state.values():
            if isinstance(v, fw.Tensor):
                assert v.device == fw.device("cuda")


def test_save_and_load_from_the_device(tmp_path):
    model = nn.Linear(3, 2).to("cuda")
    fw.save(model.state_dict(), tmp_path / "m.safetensors")
    back = nn.Linear(3, 2)
    back.load_state_dict(fw.load(tmp_path / "m.safetensors"))
    np.testing.assert_array_equal(back.weight.detach().numpy(),
                                  model.weight.detach().cpu().numpy())


class _Squares(fw.data.Dataset):
    """A data set without in-memory arrays: batches go through collate on the host."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return fw.tensor([float(i), float(i * i)]), i


@pytest.mark.parametrize("prefetch", [0, 2])
def test_collated_batches_arrive_on_the_device(prefetch):
    loader = DataLoader(_Squares(), batch_size=4, device="cuda", prefetch=prefetch)
    batches = list(loader)
    assert [x.device for x, _ in batches] == [fw.device("cuda")] * 3
    assert [y.device for _, y in batches] == [fw.device("cuda")] * 3
    np.testing.assert_array_equal(batches[2][0].cpu().numpy(), [[8, 64], [9, 81]])
