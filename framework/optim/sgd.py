"""SGD with momentum, dampening, Nesterov and weight decay (PyTorch's update rule)."""
from .optimizer import Optimizer, empty_state, replay_scalars, state_buffer


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _validate(self, group):
        super()._validate(group)
        if group["momentum"] < 0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={group['momentum']}, "
                             f"dampening={group['dampening']})")

    def _update(self, group, param, state):
        first = False
        if group["momentum"] != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = state_buffer(param)
                first = True
            buf = state["momentum_buffer"].data.reshape(-1)
        else:
            buf = empty_state(param)
        scalars = self._scalars(group, first)
        replay_scalars(lambda: self._scalars(group, False))
        param.kernels.sgd_step(param.data.reshape(-1), param.grad.data.reshape(-1), buf,
                               *scalars)

    @staticmethod
    def _scalars(group, first):
        return (float(group["lr"]), float(group["momentum"]), float(group["dampening"]),
                bool(group["nesterov"]), float(group["weight_decay"]), first)
