"""Run by tests/distributed/test_mpi.py under ``mpiexec -n N`` (or alone): one rank's
side of the checks. ``python mpi_worker.py MODE [MARKER_FILE]``; exits 0 and prints "rank R ok" when
every check of MODE passed on this rank."""
import os
import signal
import sys
import time

import numpy as np

import framework as fw
from framework import distributed as dist
from framework.nn import functional as F
from framework.nn.parallel import DistributedDataParallel


def check_collectives(rank, size):
    ranks = np.arange(size, dtype=np.float64)
    base = np.array([[1.0, -2.0, 3.5], [0.25, 7.0, -1.0]])
    per_rank = [base * (r + 1) + r for r in ranks]  # every rank knows every rank's value
    for op, reduce in ((dist.SUM, np.sum), (dist.AVG, np.mean), (dist.MAX, np.max),
                       (dist.MIN, np.min)):
        t = fw.tensor(per_rank[rank])
        dist.all_reduce(t, op=op)
        np.testing.assert_allclose(t.numpy(), reduce(per_rank, axis=0), rtol=1e-12)
    counts = fw.tensor(np.arange(5, dtype=np.int64) * (rank + 1))
    work = dist.all_reduce(counts, async_op=True)
    work.wait()
    np.testing.assert_array_equal(counts.numpy(), np.arange(5) * sum(range(1, size + 1)))
    src = size - 1
    b = fw.tensor(per_rank[rank].astype(np.float32))
    dist.broadcast(b, src=src)
    np.testing.assert_array_equal(b.numpy(), per_rank[src].astype(np.float32))
    gathered = [fw.zeros(2, 3, dtype=fw.float64) for _ in range(size)]
    dist.all_gather(gathered, fw.tensor(per_rank[rank]))
    for r in range(size):
        np.testing.assert_array_equal(gathered[r].numpy(), per_rank[r])
    dist.barrier()
    for call, error in ((lambda: dist.all_reduce(fw.tensor([1, 2]), op=dist.AVG), TypeError),
                        (lambda: dist.all_reduce((fw.ones(2, requires_grad=True) * 2)),
                         RuntimeError),
                        (lambda: dist.broadcast(fw.ones(2), src=size), ValueError)):
        try:
            call()
        except error:
            continue
        raise AssertionError(f"expected {error.__name__}")


def _model(seed):
    gen = fw.Generator(seed)
    return fw.nn.Sequential(fw.nn.Linear(6, 5, generator=gen), fw.nn.ReLU(),
                            fw.nn.Linear(5, 4, generator=gen), fw.nn.ReLU(),
                            fw.nn.Linear(4, 3, generator=gen)).double()


def _full_batch_grads(x, y, batches=1):
    """Gradients of one process on the whole batch(es), from rank 0's initial weights."""
    ref = _model(0)
    for i in range(batches):
        F.cross_entropy(ref(fw.tensor(x[i])), fw.tensor(y[i])).backward()
    return [p.grad.numpy() for p in ref.parameters()]


def check_ddp(rank, size):
    data = np.random.default_rng(5)
    x = data.standard_normal((2, 4 * size, 6))
    y = data.integers(0, 3, (2, 4 * size))
    model = _model(rank)  # rank != 0 starts elsewhere: DDP must broadcast rank 0's weights
    starts = []
    # Registered before DDP's own hooks, so it runs first on the first layer's weight,
    # the last gradient of the walk: by then the last layers' bucket must be on its way.
    model[0].weight.register_post_accumulate_grad_hook(
        lambda p: starts.append(ddp._buckets[0].work is not None))
    ddp = DistributedDataParallel(model, bucket_cap_mb=100 / 2 ** 20)
    assert len(ddp._buckets) > 1
    assert list(ddp.state_dict()) == list(_model(0).state_dict())
    shard = slice(rank, None, size)
    F.cross_entropy(ddp(fw.tensor(x[0][shard])), fw.tensor(y[0][shard])).backward()
    for got, want in zip(model.parameters(), _full_batch_grads(x[:1], y[:1])):
        np.testing.assert_allclose(got.grad.numpy(), want, rtol=1e-10, atol=1e-12)
    assert starts == [size > 1]
    # no_sync: the first micro-batch's gradients stay local, the second backward averages
    # the accumulated total.
    model.zero_grad()
    with ddp.no_sync():
        F.cross_entropy(ddp(fw.tensor(x[0][shard])), fw.tensor(y[0][shard])).backward()
    local = model[0].weight.grad.detach().clone()
    everyone = [fw.zeros(*local.shape, dtype=fw.float64) for _ in range(size)]
    dist.all_gather(everyone, local)
    assert size == 1 or not np.allclose(everyone[0].numpy(), everyone[1].numpy())
    F.cross_entropy(ddp(fw.tensor(x[1][shard])), fw.tensor(y[1][shard])).backward()
    for got, want in zip(model.parameters(), _full_batch_grads(x, y, batches=2)):
        np.testing.assert_allclose(got.grad.numpy(), want, rtol=1e-10, atol=1e-12)


class _WithUnused(fw.nn.Module):
    def __init__(self):
        super().__init__()
        self.net, self.unused = _model(0), fw.nn.Linear(2, 2).double()

    def forward(self, x):
        return self.net(x)


def check_unused_parameter_is_named(size):
    ddp = DistributedDataParallel(_WithUnused())
    x, y = fw.tensor(np.ones((2, 6))), fw.tensor(np.array([0, 1]))
    F.cross_entropy(ddp(x), y).backward()
    try:
        ddp(x)
    except RuntimeError as exc:
        assert "no gradient: unused.weight, unused.bias" in str(exc), exc
    else:
        assert size == 1, "expected a RuntimeError naming the unused parameters"


def check_cuda_staging(rank, size):
    """CUDA tensors go through host memory: collectives and DDP gradients."""
    t = fw.tensor(np.array([1.0, 2.0, 3.0]) * (rank + 1), device="cuda")
    dist.all_reduce(t, op=dist.AVG)
    np.testing.assert_allclose(t.cpu().numpy(), np.array([1.0, 2.0, 3.0]) * (size + 1) / 2)
    data = np.random.default_rng(5)
    x, y = data.standard_normal((1, 4 * size, 6)), data.integers(0, 3, (1, 4 * size))
    model = _model(rank).to("cuda")
    ddp = DistributedDataParallel(model, bucket_cap_mb=100 / 2 ** 20)
    shard = slice(rank, None, size)
    F.cross_entropy(ddp(fw.tensor(x[0][shard], device="cuda")),
                    fw.tensor(y[0][shard], device="cuda")).backward()
    for got, want in zip(model.parameters(), _full_batch_grads(x, y)):
        assert got.grad.device.type == "cuda"
        np.testing.assert_allclose(got.grad.cpu().numpy(), want, rtol=1e-10, atol=1e-12)


def check_sampler(rank, size):
    data = fw.data.TensorDataset(fw.arange(11))
    mine = fw.data.DistributedSampler(data, shuffle=False)
    assert (mine.num_replicas, mine.rank) == (size, rank)
    padded = np.resize(np.arange(11), -(-11 // size) * size)
    assert list(mine) == padded[rank::size].tolist()


def train_steps(rank, on_step):
    """A few DDP training steps; ``on_step(step)`` runs before each."""
    model = DistributedDataParallel(_model(0))
    opt = fw.optim.SGD(model.parameters(), lr=0.1)
    data = np.random.default_rng(rank)
    for step in range(1000):
        on_step(step)
        opt.zero_grad()
        x, y = data.standard_normal((4, 6)), data.integers(0, 3, 4)
        F.cross_entropy(model(fw.tensor(x)), fw.tensor(y)).backward()
        opt.step()


def main(mode):
    fw.set_num_threads(1)
    dist.init_process_group("mpi", timeout=2.0 if mode == "hang" else None)
    rank, size = dist.get_rank(), dist.get_world_size()
    if mode == "check":
        check_collectives(rank, size)
        check_ddp(rank, size)
        check_sampler(rank, size)
        check_unused_parameter_is_named(size)
    elif mode == "cuda":
        check_cuda_staging(rank, size)
    elif mode == "die":  # rank 1 is killed (no chance to clean up) at step 3
        train_steps(rank, lambda s: rank == 1 and s == 3 and os.kill(os.getpid(),
                                                                      signal.SIGKILL))
    elif mode == "raise":  # rank 1 fails with an exception at step 3
        def fail(step):
            if rank == 1 and step == 3:
                raise RuntimeError("injected failure on rank 1")
        train_steps(rank, fail)
    elif mode == "hang":  # rank 1 stops answering; rank 0's collective times out
        def stall(step):
            if rank == 1 and step == 3:
                with open(sys.argv[2], "w") as marker:  # survives the abort, unlike output
                    marker.write("rank 1 stalls at step 3")
                time.sleep(60)
        train_steps(rank, stall)
    dist.destroy_process_group()
    print(f"rank {rank} ok", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
