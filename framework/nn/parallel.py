"""``DistributedDataParallel``: the same model on every rank, gradients averaged.

Parameters are grouped into buckets in reverse registration order (roughly the order
backward finishes them). Each parameter's post-accumulate-grad hook copies its gradient,
scaled by 1/world size, into its bucket's flat host buffer; when a bucket is full the
bucket's ``MPI_Iallreduce`` starts at once, so communication overlaps the rest of the
backward walk (each later hook tests the started requests: MPICH advances them only
inside MPI calls). When the last bucket has started, the hook waits for all of them and
copies the averaged values back into ``.grad``, so ``loss.backward()`` returns with the
gradients of the global batch. Buckets start in index order on every rank (MPI needs the
same collective order everywhere).
"""
import contextlib
import time

import numpy as np

from .. import distributed as dist
from ..distributed.collectives import start_all_reduce
from ..distributed.group import group
from ..autograd.engine import is_grad_enabled, no_grad
from ..compile.capture import copy_from_host, recorder
from ..tensor import Tensor
from .module import Module


class _Bucket:
    """Parameters whose gradients travel in one all-reduce, and its flat host buffer."""

    def __init__(self, params, dtype):
        self.params = params
        self.offsets = np.cumsum([0] + [p.numel() for p in params]).tolist()
        self.buffer = np.empty(self.offsets[-1], dtype=dtype)
        self.pending = len(params)
        self.work = None

    def view(self, i):
        return self.buffer[self.offsets[i]:self.offsets[i + 1]]


class DistributedDataParallel(Module):
    """Wraps ``module`` for data-parallel training over the initialized process group.

    Args:
        module: the model; rank 0's parameters and buffers are broadcast to all ranks here.
        bucket_cap_mb: the largest bucket in MiB (the first bucket, holding the last
            layers, is capped at 1 MiB so that its all-reduce starts early).
        broadcast_buffers: send rank 0's buffers (running statistics) before each
            training forward.

    ``no_sync()`` skips the all-reduce for backward passes of forwards run inside it
    (gradient accumulation). ``state_dict()`` has the wrapped module's keys (no prefix).
    Every parameter that requires grad must get a gradient in each synchronized backward.
    """

    def __init__(self, module, bucket_cap_mb=25.0, broadcast_buffers=True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got "
                            f"{type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got "
                             f"{bucket_cap_mb}")
        self.module = module
        self.world_size = dist.get_world_size()
        self.broadcast_buffers = broadcast_buffers
        self.require_backward_grad_sync = True
        self.sync_seconds = 0.0  # time backward spent waiting for all-reduces
        self._group = group()
        self._sync_module_states()
        self._buckets = _make_buckets(
            [p for p in module.parameters() if p.requires_grad], bucket_cap_mb)
        self._slot = {}
        for b, bucket in enumerate(self._buckets):
            for i, p in enumerate(bucket.params):
                self._slot[id(p)] = (b, i)
                if self.world_size > 1:
                    p.register_post_accumulate_grad_hook(self._on_grad_ready)
        self._armed = False
        self._next_bucket = 0

    # ----- forward and the backward hooks -----------------------------------------
    def forward(self, *args, **kwargs):
        if self.world_size > 1:
            if self._armed and any(b.pending < len(b.params) for b in self._buckets):
                raise RuntimeError(self._unfinished_message())
            # Training forwards only: evaluation may run a different number of batches
            # per rank, and a collective there would wait for a rank that is done.
            training = self.training and is_grad_enabled()
            if self.broadcast_buffers and training:
                self._broadcast_buffers()
            self._arm(training and self.require_backward_grad_sync)
            rec = recorder()
            if rec is not None:  # a compiled step all-reduces as recorded: no_sync or not
                rec.guard(lambda sync=self.require_backward_grad_sync:
                          self.require_backward_grad_sync == sync)
        return self.module(*args, **kwargs)

    def _arm(self, armed):
        self._armed, self._next_bucket = armed, 0
        for bucket in self._buckets:
            bucket.pending, bucket.work = len(bucket.params), None

    def _on_grad_ready(self, param):
        if not self._armed:
            return
        b, i = self._slot[id(param)]
        bucket = self._buckets[b]
        grad = param.grad
        np.multiply(_host(grad.data).reshape(-1), bucket.buffer.dtype.type(1.0 / self.world_size),
                    out=bucket.view(i))
        bucket.pending -= 1
        for started in self._buckets[:self._next_bucket]:
            started.work.is_completed()  # lets the started all-reduces progress meanwhile
        while (self._next_bucket < len(self._buckets)
               and self._buckets[self._next_bucket].pending == 0):
            ready = self._buckets[self._next_bucket]
            ready.work = start_all_reduce(self._group, ready.buffer, dist.ReduceOp.SUM)
            self._next_bucket += 1
        if self._next_bucket == len(self._buckets):
            self._finish()

    def _finish(self):
        """Wait for every bucket and write the averaged gradients back (still inside
        backward, so it returns with them)."""
        start = time.perf_counter()
        for bucket in self._buckets:
            bucket.work.wait()
            for i, p in enumerate(bucket.params):
                _write_grad(p, bucket.view(i))
        self._armed = False
        self.sync_seconds += time.perf_counter() - start
        rec = recorder()
        if rec is not None:  # a compiled step: the same averaging between its kernels
            rec.host_call(self._average_arrays,
                          [p.grad.data for bucket in self._buckets for p in bucket.params])

    def _average_arrays(self, *grads):
        """Average gradient arrays ``grads`` (bucket order) over the ranks, in place: the
        all-reduce of a replayed compiled step, one bucket after the other."""
        scale = 1.0 / self.world_size
        grads = iter(grads)
        for bucket in self._buckets:
            arrays = [next(grads) for _ in bucket.params]
            for i, g in enumerate(arrays):
                np.multiply(_host(g).reshape(-1), bucket.buffer.dtype.type(scale),
                            out=bucket.view(i))
            start_all_reduce(self._group, bucket.buffer, dist.ReduceOp.SUM).wait()
            for i, g in enumerate(arrays):
                copy_from_host(g, bucket.view(i))

    def _unfinished_message(self):
        missing = [name for name, p in self.module.named_parameters()
                   if p.requires_grad and p.grad is None]
        return ("DistributedDataParallel: the previous backward did not produce gradients "
                "for every parameter, so their all-reduce never ran"
                + (f" (no gradient: {', '.join(missing)})" if missing else "")
                + "; every parameter that requires grad must take part in the loss")

    # ----- synchronization helpers ------------------------------------------------
    @contextlib.contextmanager
    def no_sync(self):
        """Forwards inside skip the gradient all-reduce of their backward: gradients
        accumulate locally until a backward outside ``no_sync`` averages the total."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def sync_gradients(self):
        """Average every parameter's current ``.grad`` over the ranks now, bucket by
        bucket (for code that ran backward without the hooks, e.g. a replayed step)."""
        if self.world_size == 1:
            return
        self._arm(True)
        for bucket in self._buckets:
            for p in bucket.params:
                if p.grad is None:
                    raise RuntimeError(self._unfinished_message())
                self._on_grad_ready(p)

    def _sync_module_states(self):
        with no_grad():
            for t in list(self.module.parameters()) + list(self.module.buffers()):
                dist.broadcast(t, src=0)

    def _broadcast_buffers(self):
        buffers = list(self.module.buffers())
        for b in buffers:
            dist.broadcast(b, src=0)
        rec = recorder()
        if rec is not None and buffers:  # a compiled step broadcasts them at each replay
            devices = [b.device for b in buffers]
            rec.host_call(lambda *arrays: [dist.broadcast(Tensor._wrap(a, d, None, 0), src=0)
                                           for a, d in zip(arrays, devices)],
                          [b.data for b in buffers])

    # ----- the wrapped module's face ----------------------------------------------
    def state_dict(self):
        return self.module.state_dict()

    def load_state_dict(self, state_dict, strict=True):
        return self.module.load_state_dict(state_dict, strict)

    def extra_repr(self):
        return f"world_size={self.world_size}, buckets={len(self._buckets)}"


def _make_buckets(params, cap_mb):
    """Consecutive parameters (last registered first) of one dtype, up to the cap;
    the first bucket holds at most 1 MiB."""
    buckets, current, size, cap = [], [], 0, min(cap_mb, 1.0) * 2 ** 20
    for p in reversed(params):
        nbytes = p.numel() * p.dtype.itemsize
        if current and (size + nbytes > cap or p.dtype != current[0].dtype):
            buckets.append(_Bucket(current, current[0].dtype.np))
            current, size, cap = [], 0, cap_mb * 2 ** 20
        current.append(p)
        size += nbytes
    if current:
        buckets.append(_Bucket(current, current[0].dtype.np))
    return buckets


def _host(array):
    """A gradient's values on the host: the array itself on the CPU, else a copy.

    Direct array transfers, not the kernel package's: a compiled step records kernel
    calls, and these copies belong to the all-reduce it replays as one host call."""
    return array if isinstance(array, np.ndarray) else array.copy_to_host()


def _write_grad(param, averaged):
    copy_from_host(param.grad.data, averaged)
