"""Adam and AdamW (PyTorch's update rules), one kernel per parameter and step."""
from .optimizer import Optimizer, empty_state, replay_scalars, state_buffer


class Adam(Optimizer):
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def _validate(self, group):
        super()._validate(group)
        for i, beta in enumerate(group["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if group["eps"] < 0:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")

    def _update(self, group, param, state):
        if not state:
            state["step"] = 0
            state["exp_avg"] = state_buffer(param)
            state["exp_avg_sq"] = state_buffer(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = state_buffer(param)
        max_sq = state["max_exp_avg_sq"].data.reshape(-1) if group["amsgrad"] \
            else empty_state(param)
        scalars = self._scalars(group, state)
        replay_scalars(lambda: self._scalars(group, state))
        param.kernels.adam_step(param.data.reshape(-1), param.grad.data.reshape(-1),
                                state["exp_avg"].data.reshape(-1),
                                state["exp_avg_sq"].data.reshape(-1), max_sq, *scalars)

    def _scalars(self, group, state):
        """Advance the step count; the kernel's scalar arguments for this step."""
        state["step"] += 1
        beta1, beta2 = group["betas"]
        return (float(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                float(group["weight_decay"]), state["step"], self._decoupled)


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.01, as PyTorch)."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
