"""Checkpoints in the safetensors format, with PyTorch's key names and layouts.

A model saved here loads into the equivalent PyTorch module with
``model.load_state_dict(safetensors.torch.load_file(path))``, and the other way round.
"""
import os
import tempfile

import numpy as np

from .tensor import Tensor


def save(state_dict, path, metadata=None):
    """Write ``{name: Tensor or array}`` to ``path`` atomically (temp file, then rename)."""
    from safetensors.numpy import save as st_save

    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"save: keys must be strings, got {key!r}")
        if isinstance(value, Tensor):
            value = value.kernels.to_host(value.data)
        if not isinstance(value, np.ndarray):
            raise TypeError(f"save: value of {key!r} is a {type(value).__name__}; expected "
                            "a Tensor or numpy array")
        arrays[key] = np.asarray(value, order="C")  # keeps 0-d arrays 0-d
    data = st_save(arrays, metadata={str(k): str(v) for k, v in (metadata or {}).items()})
    write_atomic(path, data)


def write_atomic(path, data):
    """Write bytes to ``path`` via a temp file in the same directory, then rename."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path}: directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path, device=None):
    """Read a safetensors file into ``{name: Tensor}``; a clear error names a bad file."""
    from safetensors import SafetensorError
    from safetensors.numpy import load as st_load

    from .creation import from_numpy

    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"checkpoint not found: {path}") from None
    try:
        arrays = st_load(raw)
    except (SafetensorError, ValueError, OSError) as exc:
        raise ValueError(f"{path} is not a readable safetensors checkpoint "
                         f"(truncated or another format?): {exc}") from None
    out = {}
    for key, value in arrays.items():
        t = from_numpy(np.asarray(value, order="C"))
        out[key] = t.to(device) if device is not None else t
    return out


def load_metadata(path):
    """The string metadata stored in a safetensors file's header."""
    import json
    import struct

    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"{path} is not a safetensors checkpoint (too short)")
        (n,) = struct.unpack("<Q", head)
        if n > os.path.getsize(path) - 8:
            # Checked first: reading a garbage length would try to allocate it.
            raise ValueError(f"{path} is not a safetensors checkpoint (header length {n} "
                             f"exceeds the file)")
        try:
            header = json.loads(f.read(n))
        except ValueError as exc:
            raise ValueError(f"{path} is not a safetensors checkpoint: {exc}") from None
    return header.get("__metadata__", {})
