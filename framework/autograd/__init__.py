"""Autograd: ``Function``, the backward engine, grad mode and functional transforms."""
from .engine import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .function import Context, Function
from .functional import grad, stop_gradient, value_and_grad
from .gradcheck import gradcheck

__all__ = ["Context", "Function", "enable_grad", "grad", "gradcheck", "is_grad_enabled",
           "no_grad", "set_grad_enabled", "stop_gradient", "value_and_grad"]
