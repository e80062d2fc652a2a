"""Devices, and the one place that maps a device to its kernel package."""
import importlib
import threading


class Device:
    """Where a tensor's data lives: ``Device("cpu")`` or ``Device("cuda", 0)``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, Device):
            type, index = type.type, type.index
        elif isinstance(type, str) and ":" in type:
            type, _, idx = type.partition(":")
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise ValueError(f"unknown device type {type!r}; expected 'cpu' or 'cuda'")
        self.type = type
        self.index = index if type == "cuda" else None
        if self.type == "cuda" and self.index is None:
            self.index = 0

    def __eq__(self, other):
        if isinstance(other, str):
            other = Device(other)
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


CPU = Device("cpu")
_KERNELS = {}


class _KernelScope(threading.local):
    # Set by fw.compile while it records a step on this thread: a function from a device
    # type's kernel package to a stand-in with the same names that logs every call.
    wrap = None


_scope = _KernelScope()


def kernels_scope(wrap):
    """Route this thread's ``kernels_for`` through ``wrap(package)`` (None: no wrap).

    Returns the previous wrap, to be restored by the caller.
    """
    prev = _scope.wrap
    _scope.wrap = wrap
    return prev


def as_device(device):
    """A ``Device`` from a Device, a string like ``"cuda:0"``, or None (the CPU)."""
    if device is None:
        return CPU
    return device if isinstance(device, Device) else Device(device)


def kernels_for(device):
    """The kernel package for ``device``; the CUDA one is imported on first use only."""
    module = _KERNELS.get(device.type)
    if module is None:
        module = _load(device)
    wrap = _scope.wrap
    return module if wrap is None else wrap(module)


def _load(device):
    if device.type == "cuda":
        try:
            module = importlib.import_module("kernels.cuda")
        except ImportError as exc:
            raise RuntimeError(f"device {device} is not available: {exc}") from None
    else:
        module = importlib.import_module("kernels.cpu")
    _KERNELS[device.type] = module
    return module
