"""Collectives on tensors: barrier, broadcast, all_reduce, all_gather.

A CPU tensor's memory goes to MPI as it is (a C-contiguous NumPy buffer: no pickling,
no copy). A CUDA tensor is staged through host memory for now: copied to the host,
communicated, copied back (a CUDA-aware MPI or NCCL would read device memory directly;
see README). Each collective is started non-blocking and waited on here, so the group's
``timeout`` can end a job whose peer is stuck.
"""
import enum
import time

import numpy as np

from ..tensor import Tensor
from .group import abort, group, mpi


class ReduceOp(enum.Enum):
    """How ``all_reduce`` combines the ranks' values (AVG: the sum over the world size)."""
    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"


SUM, AVG, MAX, MIN = ReduceOp.SUM, ReduceOp.AVG, ReduceOp.MAX, ReduceOp.MIN


class Work:
    """A started collective; ``wait()`` finishes it (and any copy back to the tensor)."""

    def __init__(self, request, what, finish=None):
        self._request, self._what, self._finish = request, what, finish
        self._done = False

    def wait(self):
        if self._done:
            return True
        wait_request(self._request, self._what)
        self._done = True
        if self._finish is not None:
            self._finish()
        return True

    def is_completed(self):
        """Whether the collective has finished; asking also drives MPI's progress (MPICH
        moves a non-blocking collective along only inside MPI calls)."""
        if not self._done and self._request.Test():
            self._done = True
            if self._finish is not None:
                self._finish()
        return self._done


def wait_request(request, what):
    """Wait for an MPI request; past the group's timeout, abort every rank naming ``what``."""
    timeout = group().timeout
    if timeout is None:
        request.Wait()
        return
    deadline = time.monotonic() + timeout
    while not request.Test():
        if time.monotonic() > deadline:
            abort(f"{what} did not complete within {timeout:g} s (is another rank stuck "
                  "or gone?); aborting all ranks")
        time.sleep(1e-4)


def barrier():
    """Wait until every rank has reached this call."""
    g = group()
    wait_request(g.comm.Ibarrier(), "barrier")


def broadcast(tensor, src=0, async_op=False):
    """Overwrite ``tensor`` on every rank with its value on rank ``src`` (in place)."""
    g = group()
    _check_tensor(tensor, "broadcast")
    if not isinstance(src, int) or not 0 <= src < g.size:
        raise ValueError(f"broadcast: src must be a rank in [0, {g.size}), got {src!r}")
    host = _host_array(tensor)
    request = g.comm.Ibcast(host, root=src)
    return _complete(Work(request, f"broadcast from rank {src}",
                          lambda: _write_back(tensor, host)), async_op)


def all_reduce(tensor, op=ReduceOp.SUM, async_op=False):
    """Combine ``tensor`` over all ranks with ``op``, in place on every rank."""
    g = group()
    _check_tensor(tensor, "all_reduce")
    if not isinstance(op, ReduceOp):
        raise ValueError(f"all_reduce: op must be a ReduceOp (SUM, AVG, MAX, MIN), got {op!r}")
    if tensor.dtype.name == "bool":
        raise TypeError("all_reduce: bool tensors cannot be reduced; convert to int32 first")
    if op is ReduceOp.AVG and not tensor.dtype.is_floating_point:
        raise TypeError(f"all_reduce: op=AVG needs a floating-point tensor, got {tensor.dtype}")
    host = _host_array(tensor)
    return _complete(start_all_reduce(g, host, op, lambda: _write_back(tensor, host)),
                     async_op)


def start_all_reduce(g, host, op, finish=None):
    """Start an in-place all-reduce of the host array ``host``; AVG divides on wait."""
    MPI = mpi()
    mpi_op = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.MAX: MPI.MAX,
              ReduceOp.MIN: MPI.MIN}[op]
    request = g.comm.Iallreduce(MPI.IN_PLACE, host, op=mpi_op)

    def done():
        if op is ReduceOp.AVG:
            np.multiply(host, host.dtype.type(1.0 / g.size), out=host)
        if finish is not None:
            finish()

    return Work(request, f"all_reduce({op.name}) of {host.size} elements", done)


def all_gather(tensor_list, tensor, async_op=False):
    """Fill ``tensor_list`` (one tensor per rank, in rank order) with every rank's
    ``tensor``; all must have ``tensor``'s shape and dtype."""
    g = group()
    _check_tensor(tensor, "all_gather")
    if not isinstance(tensor_list, list) or len(tensor_list) != g.size:
        raise ValueError(f"all_gather: tensor_list must be a list of {g.size} tensors "
                         f"(the world size), got {type(tensor_list).__name__} of length "
                         f"{len(tensor_list) if hasattr(tensor_list, '__len__') else '?'}")
    for i, t in enumerate(tensor_list):
        _check_tensor(t, f"all_gather: tensor_list[{i}]")
        if t.shape != tensor.shape or t.dtype != tensor.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] has shape {t.shape} and dtype "
                             f"{t.dtype}, the input tensor {tensor.shape} and {tensor.dtype}")
    send = _host_array(tensor)
    recv = np.empty((g.size,) + send.shape, dtype=send.dtype)
    request = g.comm.Iallgather(send, recv)

    def finish():
        for t, part in zip(tensor_list, recv):
            _write_back(t, np.ascontiguousarray(part))

    return _complete(Work(request, "all_gather", finish), async_op)


def _complete(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


def _check_tensor(tensor, what):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what}: expected a Tensor, got {type(tensor).__name__}")
    if tensor._grad_fn is not None:
        raise RuntimeError(f"{what}: collectives are not differentiable and write in place; "
                           "pass a leaf or a detach()ed tensor")


def _host_array(tensor):
    """The buffer MPI reads and writes: the tensor's own memory on the CPU, a host copy
    of it otherwise."""
    if tensor.device.type == "cpu":
        return tensor.data
    return np.ascontiguousarray(tensor.kernels.to_host(tensor.data))


def _write_back(tensor, host):
    if host is tensor.data:
        return
    k = tensor.kernels
    staged = k.from_host(host, host.dtype)
    k.cast(tensor.data.reshape(-1), staged.reshape(-1))
