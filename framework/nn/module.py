"""``Module``: parameters, buffers and sub-modules, registered by attribute assignment."""
from collections import OrderedDict

from ..compile.capture import recorder
from ..device import as_device
from ..tensor import Tensor
from .parameter import Parameter
from .utils import zero_grad_


class Module:
    """Base class of layers and models, as ``torch.nn.Module``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----- registration -----------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() is called")
        if name in self._buffers and not isinstance(value, (Parameter, Module)):
            self._set_buffer(name, value)
            return
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in d and name in d[table]:
                return d[table][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name, tensor):
        """A tensor saved in ``state_dict`` but not trained (running statistics)."""
        self._set_buffer(name, tensor)

    def _set_buffer(self, name, value):
        # Reassigning a registered buffer keeps it registered, as in PyTorch, so that
        # ``self.running_mean = t`` stays in state_dict() and moves with to().
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"cannot assign {type(value).__name__!r} as buffer {name!r} "
                            "(a Tensor or None expected)")
        self._buffers[name] = value

    def register_parameter(self, name, param):
        self._parameters[name] = param

    def add_module(self, name, module):
        self._modules[name] = module

    # ----- traversal --------------------------------------------------------------
    def named_modules(self, prefix=""):
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        return ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self):
        return (m for _, m in self.named_children())

    def named_parameters(self, prefix="", recurse=True):
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mod_prefix}.{name}" if mod_prefix else name), p

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix=""):
        for mod_prefix, module in self.named_modules(prefix):
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{mod_prefix}.{name}" if mod_prefix else name), b

    def buffers(self):
        return (b for _, b in self.named_buffers())

    # Names users of the seed's MindSpore tutorial reach for.
    def trainable_params(self):
        return [p for p in self.parameters() if p.requires_grad]

    def parameters_and_names(self):
        return self.named_parameters()

    # ----- modes, gradients, devices ----------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        zero_grad_(self.parameters(), set_to_none)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, device=None, dtype=None):
        """Move (in place, as PyTorch does) every parameter and buffer."""
        device = as_device(device) if device is not None else None
        for m in self.modules():
            for name, p in m._parameters.items():
                if p is not None:
                    moved = p.to(device=device, dtype=dtype) if device or dtype else p
                    if moved is not p:
                        p.data, p.device = moved.data, moved.device
                        p.grad = None
            for name, b in m._buffers.items():
                if b is not None and b.dtype.is_floating_point:
                    m._buffers[name] = b.to(device=device, dtype=dtype)
                elif b is not None:
                    m._buffers[name] = b.to(device=device)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(dtype="float32")

    def double(self):
        return self.to(dtype="float64")

    # ----- state ------------------------------------------------------------------
    def state_dict(self):
        """Parameters and buffers by dotted name, detached (PyTorch's keys and layouts)."""
        out = OrderedDict()
        for name, p in self.named_parameters():
            out[name] = p.detach()
        for name, b in self.named_buffers():
            out[name] = b.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values in by name. ``strict`` reports missing/unexpected keys; any shape
        mismatch is an error naming the key. Returns (missing_keys, unexpected_keys)."""
        own = dict(self.named_parameters())
        own.update(self.named_buffers())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            shape = tuple(getattr(value, "shape", ()))
            if shape != target.shape:
                problems.append(f"size mismatch for {key}: checkpoint has shape {shape}, "
                                f"model has {target.shape}")
        if strict and (missing or unexpected):
            if missing:
                problems.append("missing keys: " + ", ".join(missing))
            if unexpected:
                problems.append("unexpected keys: " + ", ".join(unexpected))
        if problems:
            raise RuntimeError(f"error(s) loading state_dict for {type(self).__name__}:\n  "
                               + "\n  ".join(problems))
        from ..autograd.engine import no_grad
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    target.copy_(state_dict[key])
        return missing, unexpected

    # ----- calling and printing ---------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        rec = recorder()
        if rec is not None:
            rec.note_module(self)
        return self.forward(*args, **kwargs)

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        for name, module in self._modules.items():
            body = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"
