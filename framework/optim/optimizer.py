"""``Optimizer``: parameter groups, per-parameter state, state_dict."""
import copy

import numpy as np

from ..autograd import version
from ..compile.capture import recorder
from ..nn.utils import zero_grad_
from ..tensor import Tensor


class Optimizer:
    """Base class; subclasses implement ``_update(group, param, state)``."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        group = dict(group)
        ps = group["params"]
        group["params"] = [ps] if isinstance(ps, Tensor) else list(ps)
        for p in group["params"]:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise ValueError(f"{type(self).__name__}: can only optimize tensors that "
                                 "require grad")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate(group)
        self.param_groups.append(group)

    def _validate(self, group):
        if group["lr"] < 0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if group.get("weight_decay", 0) < 0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    @property
    def parameters(self):
        """The parameters this optimizer updates, in order (MindSpore's attribute)."""
        return self._params()

    def __call__(self, grads):
        """Apply ``grads`` (one per parameter, in ``parameters`` order) and step, as a
        MindSpore optimizer does; each parameter's ``.grad`` is left as it was."""
        params = self._params()
        grads = tuple(grads)
        if len(grads) != len(params):
            raise ValueError(f"{type(self).__name__}: got {len(grads)} gradients for "
                             f"{len(params)} parameters")
        for i, (p, g) in enumerate(zip(params, grads)):
            if g is not None and (not isinstance(g, Tensor) or g.shape != p.shape):
                raise ValueError(f"{type(self).__name__}: gradient {i} is "
                                 f"{getattr(g, 'shape', type(g).__name__)}, parameter {i} "
                                 f"has shape {p.shape}")
        rec = recorder()
        saved = [p.grad for p in params]
        for p, g in zip(params, grads):
            if rec is not None:
                rec.note_grad(p, resets=True)  # overwritten here, whatever it was
            p.grad = g
        try:
            self.step()
        finally:
            for p, g in zip(params, saved):
                p.grad = g

    def zero_grad(self, set_to_none=True):
        zero_grad_(self._params(), set_to_none)

    def step(self, closure=None):
        """One update of every parameter that has a gradient (one kernel each)."""
        loss = closure() if closure is not None else None
        writer = f"{type(self).__name__}.step"
        rec = recorder()
        if rec is not None:  # a recorded step updates these very state tensors, its way
            rec.guard(lambda state=self.state, shape=self._update_shape():
                      self.state is state and self._update_shape() == shape)
        for group in self.param_groups:
            for p in group["params"]:
                if rec is not None:
                    rec.note_grad(p)
                if p.grad is None:
                    continue
                if p.grad.device != p.device or p.grad.shape != p.shape:
                    raise RuntimeError(f"{type(self).__name__}: gradient of shape "
                                       f"{p.grad.shape} on {p.grad.device} does not match "
                                       f"parameter of shape {p.shape} on {p.device}")
                self._update(group, p, self.state.setdefault(id(p), {}))
                version.bump(p, writer)
                if rec is not None:  # a replay writes p too: its version moves as well
                    rec.on_replay(lambda p=p: version.bump(p, writer))
        return loss

    def _update(self, group, param, state):
        raise NotImplementedError

    def _update_shape(self):
        """The group settings that decide which state an update uses (momentum on or off,
        AMSGrad): a compiled step records one of these shapes and replays only it."""
        return tuple((g.get("momentum", 0) != 0, bool(g.get("amsgrad", False)))
                     for g in self.param_groups)

    # ----- state ------------------------------------------------------------------
    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self):
        """PyTorch's layout: ``state`` keyed by parameter index, ``param_groups`` with
        ``params`` as index lists. Tensors in the state are NumPy arrays on the host."""
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {}
        for pid, s in self.state.items():
            state[index[pid]] = {k: (v.kernels.to_host(v.data).copy() if isinstance(v, Tensor)
                                     else v) for k, v in s.items()}
        groups, start = [], 0
        for g in self.param_groups:
            entry = {k: v for k, v in g.items() if k != "params"}
            entry["params"] = list(range(start, start + len(g["params"])))
            start += len(g["params"])
            groups.append(entry)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(a["params"]) != len(b["params"]) for a, b in zip(groups, self.param_groups)):
            raise ValueError("loaded optimizer state has a different number of parameter "
                             "groups or parameters than this optimizer")
        params = self._params()
        self.state = {}
        for i, s in state_dict["state"].items():
            p = params[int(i)]
            entry = {}
            for k, v in s.items():
                if isinstance(v, np.ndarray):
                    if v.shape != p.shape:
                        raise ValueError(f"optimizer state {k!r} of parameter {i} has shape "
                                         f"{v.shape}, the parameter has {p.shape}")
                    v = Tensor._wrap(p.kernels.from_host(v, p.data.dtype), p.device, None, 0)
                entry[k] = v
            self.state[id(p)] = entry
        for group, saved in zip(self.param_groups, groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = copy.deepcopy(v)


def replay_scalars(getter):
    """In a step recorded by ``fw.compile``, the next kernel's scalar arguments (lr, step
    count, ...) are ``getter()`` at every replay, which also redoes its host bookkeeping."""
    rec = recorder()
    if rec is not None:
        rec.scalars_from(getter)


def state_buffer(param):
    """A zeroed tensor like ``param`` for optimizer state."""
    k = param.kernels
    return Tensor._wrap(k.zeros(param.shape, param.data.dtype), param.device, None, 0)


def empty_state(param):
    """A size-0 array: tells an update kernel that a state buffer is unused."""
    return param.kernels.empty((0,), param.data.dtype)
