"""Checks shared by the ``numbagrad`` subcommands, run before any work or any write.

Each failure is a ``CommandError`` whose message names the flag and the value; the
command line prints it as one line and exits with status 2.
"""
import os

from .device import Device, kernels_for


class CommandError(Exception):
    """Bad flags or environment: one line on stderr, exit status 2, nothing written."""


def require_device(name):
    """A clear error for ``--device cuda`` where no CUDA backend or GPU is available."""
    if name == "cuda":
        try:
            kernels_for(Device("cuda"))
        except RuntimeError as exc:
            raise CommandError(f"--device cuda: {exc}") from None


def require_output_dirs(paths):
    """``paths``: {flag: path or None}; each path's directory must exist."""
    for flag, path in paths.items():
        if path is None:
            continue
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise CommandError(f"{flag} {path}: directory {directory} does not exist")


def require_matplotlib(flag):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CommandError(f"{flag} needs matplotlib: pip install 'numbagrad[plot]'") from None
