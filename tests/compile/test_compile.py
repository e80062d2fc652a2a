"""fw.compile against eager execution of the same step, on twin models built alike."""
import numpy as np
import pytest

import framework as fw
import framework.nn as nn
import framework.nn.functional as F
from framework.optim import SGD, Adam
from framework.optim.lr_scheduler import CosineAnnealingLR, StepLR
from framework.training import make_step


def tiny_mlp(seed, dropout=0.0, generator=None):
    g = fw.Generator(seed)
    layers = [nn.Flatten(), nn.Linear(12, 16, generator=g), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout, generator=generator))
    layers += [nn.Linear(16, 5, generator=g)]
    return nn.Sequential(*layers)


def tiny_cnn(seed):
    g = fw.Generator(seed)
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1, generator=g), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3 * 3 * 3, 5, generator=g))


def batches(n, batch_sizes, shape=(1, 3, 4), seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        b = batch_sizes[i % len(batch_sizes)]
        out.append((fw.tensor(rng.standard_normal((b,) + shape).astype(np.float32)),
                    fw.tensor(rng.integers(0, 5, b))))
    return out


def backward_step(model, opt, sched=None):
    return make_step(model, F.cross_entropy, opt, sched)


def arrays(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def assert_same_state(m1, m2, o1, o2):
    for a, b in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    assert o1.param_groups[0]["lr"] == o2.param_groups[0]["lr"]
    s1, s2 = o1.state_dict()["state"], o2.state_dict()["state"]
    assert s1.keys() == s2.keys()
    for k in s1:
        for name in s1[k]:
            np.testing.assert_array_equal(np.asarray(s1[k][name]), np.asarray(s2[k][name]))


def run_twins(make_model, make_opt, make_sched, data, executor="auto"):
    m1, m2 = make_model(), make_model()
    o1, o2 = make_opt(m1), make_opt(m2)
    s1 = make_sched(o1) if make_sched else None
    s2 = make_sched(o2) if make_sched else None
    eager = backward_step(m1, o1, s1)
    compiled = fw.compile(backward_step(m2, o2, s2), executor=executor)
    for x, y in data:
        l1, l2 = eager(x, y), compiled(x, y)
        assert l1.item() == l2.item()
    assert_same_state(m1, m2, o1, o2)
    return compiled


@pytest.mark.parametrize("executor", ["auto", "launch"])
def test_mlp_sgd_momentum_with_scheduler_matches_eager_bit_for_bit(executor):
    c = run_twins(lambda: tiny_mlp(0), lambda m: SGD(m.parameters(), lr=0.1, momentum=0.9,
                                                     nesterov=True, weight_decay=1e-3),
                  lambda o: StepLR(o, 2, gamma=0.5), batches(6, [8]), executor)
    assert c.stats == {"eager": 1, "recorded": 1, "replayed": 4}


def test_adam_cosine_and_changing_batch_size():
    c = run_twins(lambda: tiny_mlp(1), lambda m: Adam(m.parameters(), lr=1e-2, amsgrad=True),
                  lambda o: CosineAnnealingLR(o, 5), batches(12, [8, 8, 3]))
    assert c.stats["recorded"] == 2 and c.stats["replayed"] >= 6


def test_cnn_adam_matches_eager():
    run_twins(lambda: tiny_cnn(2), lambda m: Adam(m.parameters(), lr=1e-2), None,
              batches(5, [4], shape=(1, 6, 6)))


def test_cnn_with_reflect_padding_matches_eager():
    # F.pad's index map is made on the host: a constant of the plan, one per input shape.
    def make():
        g = fw.Generator(3)
        return nn.Sequential(
            nn.Conv2d(1, 3, 3, padding=(1, 2), padding_mode="reflect", generator=g),
            nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 3 * 4, 5, generator=g))
    c = run_twins(make, lambda m: Adam(m.parameters(), lr=1e-2), None,
                  batches(8, [4, 4, 4, 3], shape=(1, 6, 6)))
    assert c.stats["recorded"] == 2 and c.stats["replayed"] >= 4


def test_dropout_draws_a_new_mask_each_call_from_the_generator():
    g1, g2 = fw.Generator(7), fw.Generator(7)
    m1, m2 = tiny_mlp(3, 0.5, g1), tiny_mlp(3, 0.5, g2)
    o1, o2 = SGD(m1.parameters(), lr=0.1), SGD(m2.parameters(), lr=0.1)
    eager, compiled = backward_step(m1, o1), fw.compile(backward_step(m2, o2))
    losses = []
    for x, y in batches(6, [8]):
        l1, l2 = eager(x, y), compiled(x, y)
        assert l1.item() == l2.item()
        losses.append(l2.item())
    assert len(set(losses)) == len(losses)
    assert_same_state(m1, m2, o1, o2)
    np.testing.assert_array_equal(fw.rand(4, generator=g1).numpy(),
                                  fw.rand(4, generator=g2).numpy())


def test_random_tensors_made_inside_the_step_are_drawn_again_each_call():
    g1, g2 = fw.Generator(5), fw.Generator(5)

    def noisy(gen):
        return lambda x: (x + fw.randn(*x.shape, generator=gen)).sum()
    eager, compiled = noisy(g1), fw.compile(noisy(g2))
    x = fw.zeros(3, 4)
    values = [compiled(x).item() for _ in range(5)]
    assert values == [eager(x).item() for _ in range(5)]
    assert len(set(values)) == 5
    assert fw.randint(0, 1000, (4,), generator=g1).tolist() == \
        fw.randint(0, 1000, (4,), generator=g2).tolist()


def test_eval_mode_records_again_and_matches_eager():
    g1, g2 = fw.Generator(7), fw.Generator(7)
    m1, m2 = tiny_mlp(3, 0.5, g1), tiny_mlp(3, 0.5, g2)
    infer1 = lambda x: m1(x)  # noqa: E731
    infer2 = fw.compile(lambda x: m2(x))
    x = batches(1, [4])[0][0]
    for mode in (True, True, True, False, False, False, True):
        m1.train(mode)
        m2.train(mode)
        with fw.no_grad():
            np.testing.assert_array_equal(infer1(x).numpy(), infer2(x).numpy())
    assert infer2.stats["replayed"] >= 3


def test_seed_style_functional_step():
    """The seed's step: value_and_grad over the optimizer's parameters, optimizer(grads)."""
    def make():
        model = tiny_mlp(4)
        return model, SGD(model.trainable_params(), lr=0.05, momentum=0.5)

    def train_step(model, optimizer):
        def forward_fn(data, label):
            logits = model(data)
            return F.cross_entropy(logits, label), logits
        grad_fn = fw.value_and_grad(forward_fn, None, weights=optimizer.parameters,
                                    has_aux=True)

        def step(data, label):
            (loss, logits), grads = grad_fn(data, label)
            optimizer(grads)
            return loss, logits
        return step

    (m1, o1), (m2, o2) = make(), make()
    eager, compiled = train_step(m1, o1), fw.compile(train_step(m2, o2))
    for x, y in batches(5, [8]):
        (l1, z1), (l2, z2) = eager(x, y), compiled(x, y)
        assert l1.item() == l2.item()
        np.testing.assert_array_equal(z1.numpy(), z2.numpy())
        assert not z1.requires_grad and z1.grad_fn is None  # aux comes back detached
    assert_same_state(m1, m2, o1, o2)
    assert all(p.grad is None for p in m2.parameters())
    assert compiled.stats["replayed"] == 3


def test_grad_of_arguments_tiny_step():
    def f(a, b, c):
        return (a * b + c).relu().sum()
    step = fw.compile(fw.value_and_grad(f, (0, 1, 2)))
    rng = np.random.default_rng(0)
    for _ in range(4):
        a, b, c = (fw.tensor(rng.standard_normal(64).astype(np.float32)) for _ in range(3))
        v1, g1 = fw.value_and_grad(f, (0, 1, 2))(a, b, c)
        v2, g2 = step(a, b, c)
        assert v1.item() == v2.item()
        for x, y in zip(g1, g2):
            np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_results_of_earlier_calls_are_not_overwritten():
    step = fw.compile(lambda x: (x * 2).sum())
    xs = [fw.tensor([float(i), 1.0]) for i in range(5)]
    outs = [step(x) for x in xs]
    assert [o.item() for o in outs] == [2.0 * i + 2.0 for i in range(5)]


def test_host_read_inside_is_a_clear_error_on_the_first_call():
    model = tiny_mlp(5)

    def step(x):
        loss = model(x).sum()
        if loss.item() > 0:
            return loss
        return -loss
    compiled = fw.compile(step)
    with pytest.raises(fw.HostReadError, match=r"fw.compile\(step\).*item\(\).*test_compile"):
        compiled(batches(1, [2])[0][0])


def test_replacing_gradients_or_parameters_records_again():
    m1, m2 = tiny_mlp(6), tiny_mlp(6)
    o1, o2 = SGD(m1.parameters(), lr=0.1), SGD(m2.parameters(), lr=0.1)

    def accumulate(model, opt):
        def step(x, y):  # no zero_grad: gradients add up across calls
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            return loss
        return step
    eager, compiled = accumulate(m1, o1), fw.compile(accumulate(m2, o2))
    data = batches(8, [4])
    for i, (x, y) in enumerate(data):
        if i == 5:
            o1.zero_grad()
            o2.zero_grad()
        if i == 6:
            for m in (m1, m2):
                m[1].weight.data = m[1].weight.data * 1.0
        assert eager(x, y).item() == compiled(x, y).item()
    assert_same_state(m1, m2, o1, o2)
    assert compiled.stats["recorded"] >= 2


def test_cross_entropy_target_out_of_range_in_a_replay():
    model = tiny_mlp(8)
    step = fw.compile(lambda x, y: F.cross_entropy(model(x), y))
    (x, y), = batches(1, [4])
    for _ in range(3):
        step(x, y)
    with pytest.raises(IndexError, match="out of range"):
        step(x, fw.tensor([0, 1, 7, 2]))


def test_batchnorm_step_matches_eager():
    def make():
        g = fw.Generator(9)
        return nn.Sequential(nn.Flatten(), nn.Linear(12, 6, generator=g), nn.BatchNorm1d(6),
                             nn.ReLU(), nn.Linear(6, 5, generator=g))
    c = run_twins(make, lambda m: SGD(m.parameters(), lr=0.1), None, batches(5, [8]))
    assert c.stats["replayed"] == 3


def test_memory_stays_flat_over_many_replays():
    import tracemalloc
    model = tiny_mlp(10)
    opt = SGD(model.parameters(), lr=1e-3)
    step = fw.compile(backward_step(model, opt))
    (x, y), = batches(1, [4])
    for _ in range(100):
        step(x, y)
    tracemalloc.start()
    for _ in range(1000):
        step(x, y)
    first = tracemalloc.get_traced_memory()[0]
    for _ in range(9000):
        step(x, y)
    grown = tracemalloc.get_traced_memory()[0] - first
    tracemalloc.stop()
    assert grown < 64 * 1024, f"memory grew by {grown} bytes over 9000 replays"
    assert step.stats == {"eager": 1, "recorded": 1, "replayed": 10098}


def test_generated_step_is_written_to_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBAGRAD_CACHE", str(tmp_path))
    scale = float(np.random.default_rng().integers(1 << 30))  # a step no test made before
    step = fw.compile(lambda x: (x * scale + 1.0).exp().sum())
    for _ in range(3):
        step(fw.tensor([1.0, 2.0, 3.5]))
    files = sorted(p.name for p in (tmp_path / "compile").iterdir())
    assert any(f.startswith("numbagrad_step_") and f.endswith(".py") for f in files)
    assert not any(f.endswith(".tmp") for f in files)


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a function"):
        fw.compile(3)
    with pytest.raises(ValueError, match="executor"):
        fw.compile(lambda: None, executor="fast")


def test_host_call_between_kernels_runs_in_order_at_each_replay():
    """A host function registered while recording (as DDP's all-reduce is) runs between
    the kernels before and after it: the generated step is split around it."""
    from framework.compile import recorder
    calls = []

    def negate_in_place(array):
        calls.append(1)
        np.negative(array, out=array)

    def step(x):
        y = x * 2.0
        negate_in_place(y.data)
        rec = recorder()
        if rec is not None:
            rec.host_call(negate_in_place, [y.data])
        return (y + 1.0).sum()

    compiled = fw.compile(step)
    for i in range(4):
        x = fw.tensor([1.0, 2.0, float(i)])
        assert compiled(x).item() == -(2.0 + 4.0 + 2.0 * i) + 3.0
    assert compiled.stats["replayed"] == 2 and len(calls) == 4


@pytest.mark.parametrize("n", [8, 1 << 18])  # 1 << 18 float64: pooled arrays (2 MiB)
def test_arguments_sharing_memory_are_told_apart_from_separate_ones(n):
    step = fw.compile(lambda a, b: a.sum() + b.sum() * 10)
    x = fw.tensor(np.arange(float(n))) * 1.0  # an op's output, from the pool when large
    total = n * (n - 1) / 2
    for _ in range(3):
        assert step(x, x.reshape(2, n // 2)).item() == total * 11
    y, z = fw.tensor(np.ones(n)) * 1.0, fw.tensor(np.full((2, n // 2), 2.0)) * 1.0
    for _ in range(3):
        assert step(y, z).item() == n * 21.0
    assert step.stats["recorded"] == 2  # one plan for shared memory, one for separate


def test_state_made_after_a_guard_miss_is_not_reset_at_each_replay():
    """Loading a fresh optimizer state makes the next call warm up (creating momentum
    buffers eagerly) before it records, so replays keep the buffers' values."""
    m1, m2 = tiny_mlp(11), tiny_mlp(11)
    o1, o2 = (SGD(m.parameters(), lr=0.1, momentum=0.9) for m in (m1, m2))
    fresh = SGD(tiny_mlp(11).parameters(), lr=0.1, momentum=0.9).state_dict()
    eager, compiled = backward_step(m1, o1), fw.compile(backward_step(m2, o2))
    for i, (x, y) in enumerate(batches(9, [4])):
        if i == 3:
            o1.load_state_dict(fresh)
            o2.load_state_dict(fresh)
        assert eager(x, y).item() == compiled(x, y).item()
    assert_same_state(m1, m2, o1, o2)
    assert compiled.stats["recorded"] == 2 and compiled.stats["replayed"] == 5


def test_momentum_switched_on_records_again():
    m1, m2 = tiny_mlp(12), tiny_mlp(12)
    o1, o2 = SGD(m1.parameters(), lr=0.1), SGD(m2.parameters(), lr=0.1)
    eager, compiled = backward_step(m1, o1), fw.compile(backward_step(m2, o2))
    for i, (x, y) in enumerate(batches(8, [4])):
        if i == 4:
            for o in (o1, o2):
                o.param_groups[0]["momentum"] = 0.9
        assert eager(x, y).item() == compiled(x, y).item()
    assert_same_state(m1, m2, o1, o2)


def test_random_tensors_returned_from_the_step_stay_as_they_were():
    g1, g2 = fw.Generator(13), fw.Generator(13)

    def make(gen):
        def step(x):
            noise = fw.rand(3, generator=gen)
            return x + noise, noise
        return step
    eager, compiled = make(g1), fw.compile(make(g2))
    x = fw.ones(3)
    outs = [compiled(x) for _ in range(5)]
    for (s, n), (es, en) in zip(outs, [eager(x) for _ in range(5)]):
        np.testing.assert_array_equal(s.numpy(), es.numpy())
        np.testing.assert_array_equal(n.numpy(), en.numpy())
    assert len({tuple(n.numpy()) for _, n in outs}) == 5


def test_unhashable_non_tensor_argument_is_a_type_error():
    step = fw.compile(lambda x, w: (x * fw.tensor(w)).sum())
    with pytest.raises(TypeError, match="neither a Tensor nor hashable"):
        step(fw.ones(4), np.ones(4))


def test_infinite_and_nan_constants():
    step = fw.compile(lambda x: x.clamp(min=0.0).sum() + x.clamp(max=float("inf")).sum())
    for i in range(4):
        x = fw.tensor([-1.0, 2.0, float(i)])
        assert step(x).item() == 2.0 + i + 1.0 + i


def test_setting_grads_to_none_inside_the_step_replays():
    m1, m2 = tiny_mlp(14), tiny_mlp(14)
    o1, o2 = SGD(m1.parameters(), lr=0.1), SGD(m2.parameters(), lr=0.1)

    def make(model, opt):
        def step(x, y):
            for p in model.parameters():
                p.grad = None
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return step
    eager, compiled = make(m1, o1), fw.compile(make(m2, o2))
    for x, y in batches(6, [4]):
        assert eager(x, y).item() == compiled(x, y).item()
    assert_same_state(m1, m2, o1, o2)
    assert compiled.stats["replayed"] == 4
