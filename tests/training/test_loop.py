"""fit / train_epoch / evaluate with any model, loss, optimizer and loaders."""
import numpy as np

import framework as fw
import framework.nn as nn
from framework.data import DataLoader, TensorDataset
from framework.training import TrainState, evaluate, fit


def test_fit_learns_a_separable_problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    ds = TensorDataset(fw.tensor(x), fw.tensor(y))
    gen = fw.Generator(0)
    model = nn.Sequential(nn.Linear(2, 16, generator=gen), nn.Tanh(),
                          nn.Linear(16, 2, generator=gen))
    opt = fw.optim.SGD(model.parameters(), lr=0.5)
    train = DataLoader(ds, batch_size=32, shuffle=True, generator=fw.Generator(1))
    test = DataLoader(ds, batch_size=128)
    _, acc_before = evaluate(model, nn.functional.cross_entropy, test)
    history = fit(model, nn.functional.cross_entropy, opt, train, test, epochs=3)
    assert [m["epoch"] for m in history] == [1, 2, 3]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["test_accuracy"] > 0.95 > acc_before
    assert all(m["train_seconds"] > 0 and m["complete"] for m in history)


def test_max_steps_and_state():
    ds = TensorDataset(fw.randn(100, 3, generator=fw.Generator(0)), fw.tensor(np.arange(100) % 2))
    model = nn.Linear(3, 2)
    opt = fw.optim.SGD(model.parameters(), lr=0.1)
    state = TrainState()
    history = fit(model, nn.functional.cross_entropy, opt,
                  DataLoader(ds, batch_size=10, shuffle=True, generator=fw.Generator(0)),
                  epochs=5, state=state, max_steps=13)
    assert state.global_step == 13 and state.epoch == 1 and state.step_in_epoch == 3
    assert [m["complete"] for m in history] == [True, False]
