"""Training checkpoints: one safetensors file with everything a resumed run needs.

Model weights are stored under PyTorch's key names, optimizer state tensors under
``optim.<param index>.<name>``, and the rest (optimizer hyperparameters and step
counts, scheduler, RNG, position in the epoch, metrics so far, the run's settings) as
JSON in the file's metadata. ``model_weights(path)`` gives the weights alone, ready
for ``load_state_dict`` here or in PyTorch.
"""
import json

import numpy as np

from ..io import load, load_metadata, save
from .loop import TrainState

_OPTIM = "optim."


def save_checkpoint(path, model, optimizer, state, config, scheduler=None, generator=None):
    tensors = dict(model.state_dict())
    opt_state = optimizer.state_dict()
    scalars = {}
    for index, entry in opt_state["state"].items():
        for key, value in entry.items():
            if isinstance(value, np.ndarray):
                tensors[f"{_OPTIM}{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    meta = {
        "format": "numbagrad-checkpoint-1",
        "config": config,
        "optimizer": {"param_groups": opt_state["param_groups"], "scalars": scalars},
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "generator": generator.get_state() if generator is not None else None,
        "state": {"epoch": state.epoch, "step_in_epoch": state.step_in_epoch,
                  "global_step": state.global_step, "epoch_rng_state": state.epoch_rng_state,
                  "history": state.history, "epoch_loss_sum": state.epoch_loss_sum,
                  "epoch_samples": state.epoch_samples, "epoch_seconds": state.epoch_seconds},
    }
    save(tensors, path, metadata={"numbagrad": json.dumps(meta)})


def read_checkpoint(path):
    """(tensors, metadata dict); a ValueError naming ``path`` if it is not a checkpoint."""
    meta = load_metadata(path)
    if "numbagrad" not in meta:
        raise ValueError(f"{path} is a safetensors file but not a numbagrad training checkpoint")
    try:
        info = json.loads(meta["numbagrad"])
    except ValueError as exc:
        raise ValueError(f"{path}: unreadable checkpoint metadata ({exc})") from None
    return load(path), info


def model_weights(path):
    """The model's state_dict from a checkpoint (PyTorch key names)."""
    tensors = load(path)
    return {k: v for k, v in tensors.items() if not k.startswith(_OPTIM)}


def restore(tensors, info, model, optimizer, scheduler=None, generator=None):
    """Load a checkpoint into live objects; returns the TrainState to continue from."""
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith(_OPTIM)})
    per_param = {}
    for key, value in tensors.items():
        if key.startswith(_OPTIM):
            index, name = key[len(_OPTIM):].split(".", 1)
            per_param.setdefault(int(index), {})[name] = value.numpy()
    for index, values in info["optimizer"]["scalars"].items():
        per_param.setdefault(int(index), {}).update(values)
    optimizer.load_state_dict({"state": per_param,
                               "param_groups": info["optimizer"]["param_groups"]})
    if scheduler is not None and info.get("scheduler") is not None:
        scheduler.load_state_dict(info["scheduler"])
    if generator is not None and info.get("generator") is not None:
        generator.set_state(info["generator"])
    s = info["state"]
    return TrainState(epoch=s["epoch"], step_in_epoch=s["step_in_epoch"],
                      global_step=s["global_step"], epoch_rng_state=s["epoch_rng_state"],
                      history=s["history"], epoch_loss_sum=s["epoch_loss_sum"],
                      epoch_samples=s["epoch_samples"], epoch_seconds=s["epoch_seconds"])
