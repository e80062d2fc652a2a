"""A training loop usable with any model, loss, optimizer and loaders.

    history = fit(model, F.cross_entropy, optimizer, train_loader, test_loader, epochs=3)

``fit`` returns one metrics dict per epoch. A ``TrainState`` records where training
is (epoch, step in the epoch, global step and the shuffle generator's state at the
epoch's start), so a checkpointed run can resume at exactly the same batch.
"""
import time
from dataclasses import dataclass, field

from ..autograd.engine import no_grad


@dataclass
class TrainState:
    epoch: int = 0               # epochs completed
    step_in_epoch: int = 0       # batches done in the current epoch
    global_step: int = 0         # batches done in all
    epoch_rng_state: dict = None  # shuffle generator state when this epoch began
    history: list = field(default_factory=list)
    epoch_loss_sum: float = 0.0  # running sums for the current epoch
    epoch_samples: int = 0
    epoch_seconds: float = 0.0


class Stop(Exception):
    """Raised inside the loop when ``should_stop()`` turns true (e.g. on Ctrl-C)."""


def make_step(model, loss_fn, optimizer, scheduler=None):
    """One training step on a batch: zero the gradients, forward, backward, update,
    and step ``scheduler`` if given; returns the loss tensor. ``fw.compile`` it to
    replay the step without Python per op."""
    def train_step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        return loss
    return train_step


def train_epoch(model, loss_fn, optimizer, loader, state=None, scheduler=None,
                max_steps=None, should_stop=None, on_step=None, reduce_sums=None, step=None):
    """One pass over ``loader`` (or what is left of it); returns the epoch's mean loss.

    ``scheduler`` is stepped once per batch. Stops early at ``max_steps`` global steps,
    and raises ``Stop`` after a step once ``should_stop()`` is true. In a data-parallel
    run, ``reduce_sums(values)`` sums numbers over the ranks: the loss reported is then
    the global batch's, and every rank stops at the same step. ``step`` replaces
    ``make_step(model, loss_fn, optimizer, scheduler)`` (a compiled one, say).
    """
    state = state or TrainState()
    step = step or make_step(model, loss_fn, optimizer, scheduler)
    model.train()
    start = time.perf_counter() - state.epoch_seconds
    for x, y in loader:
        loss_value = step(x, y).item()
        n = x.shape[0]
        stop = should_stop is not None and should_stop()
        if reduce_sums is not None:
            loss_sum, n, stops = reduce_sums([loss_value * n, n, stop])
            loss_value, n, stop = loss_sum / n, int(n), stops > 0
        state.epoch_loss_sum += loss_value * n
        state.epoch_samples += n
        state.step_in_epoch += 1
        state.global_step += 1
        state.epoch_seconds = time.perf_counter() - start
        if on_step is not None:
            on_step(state, loss_value)
        if max_steps is not None and state.global_step >= max_steps:
            break
        if stop:
            raise Stop()
    return state.epoch_loss_sum / max(state.epoch_samples, 1)


def evaluate(model, loss_fn, loader, should_stop=None, reduce_sums=None):
    """Mean loss and accuracy (argmax over dim 1) over ``loader``, without a graph.

    With ``reduce_sums`` (a data-parallel run, each rank holding a share of the data),
    the sums are reduced over the ranks, so every rank gets the whole set's values.
    """
    model.eval()
    loss_sum, correct, count, stop = 0.0, 0, 0, False
    with no_grad():
        for x, y in loader:
            out = model(x)
            n = x.shape[0]
            loss_sum += loss_fn(out, y).item() * n
            correct += int((out.argmax(1) == y).sum().item())
            count += n
            if should_stop is not None and should_stop():
                stop = True
                break
    if reduce_sums is not None:
        loss_sum, correct, count, stops = reduce_sums([loss_sum, correct, count, stop])
        stop = stops > 0
    if stop:
        raise Stop()
    model.train()
    return loss_sum / max(count, 1), correct / max(count, 1)


def fit(model, loss_fn, optimizer, train_loader, test_loader=None, epochs=1, scheduler=None,
        state=None, max_steps=None, should_stop=None, on_step=None, on_epoch=None,
        reduce_sums=None, compile=False):
    """Train for ``epochs`` (from ``state`` on, if given); returns per-epoch metrics.

    Each epoch's dict has ``epoch``, ``train_loss``, ``train_seconds`` (the training
    part alone) and, with a ``test_loader``, ``test_loss`` and ``test_accuracy``.
    ``on_epoch(state, metrics)`` runs after each epoch (to save a checkpoint, say).
    ``reduce_sums``: see ``train_epoch`` (data-parallel runs). ``compile=True``
    replays the training step through ``fw.compile`` (same results).
    """
    state = state or TrainState()
    step = make_step(model, loss_fn, optimizer, scheduler)
    if compile:
        from ..compile import compile as compile_step
        step = compile_step(step)
    generator = getattr(train_loader, "generator", None)
    while state.epoch < epochs:
        if max_steps is not None and state.global_step >= max_steps:
            break
        if state.step_in_epoch == 0:
            if generator is not None:
                state.epoch_rng_state = generator.get_state()
        else:  # resuming mid-epoch: replay this epoch's order, skip what was done
            if generator is not None and state.epoch_rng_state is not None:
                generator.set_state(state.epoch_rng_state)
            train_loader.skip_next(state.step_in_epoch)
        train_loss = train_epoch(model, loss_fn, optimizer, train_loader, state, scheduler,
                                 max_steps, should_stop, on_step, reduce_sums, step)
        finished = state.step_in_epoch >= len(train_loader)
        metrics = {"epoch": state.epoch + 1, "train_loss": train_loss,
                   "train_seconds": state.epoch_seconds, "steps": state.step_in_epoch,
                   "complete": finished}
        if test_loader is not None:
            metrics["test_loss"], metrics["test_accuracy"] = evaluate(
                model, loss_fn, test_loader, should_stop, reduce_sums)
        if finished:
            state.epoch += 1
            state.step_in_epoch, state.epoch_loss_sum = 0, 0.0
            state.epoch_samples, state.epoch_seconds = 0, 0.0
        state.history.append(metrics)
        if on_epoch is not None:
            on_epoch(state, metrics)
        if not finished:
            break
    return state.history
