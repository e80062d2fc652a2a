"""Samplers: the order of sample indices, and their grouping into batches."""
import numpy as np

from ..random import Generator, default_generator


class Sampler:
    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.n = len(data_source)

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n

    def indices(self):
        return np.arange(self.n, dtype=np.int64)


class RandomSampler(Sampler):
    """A fresh permutation per pass, drawn from ``generator`` (so a saved generator state
    replays the same order)."""

    def __init__(self, data_source, generator=None):
        self.n = len(data_source)
        self.generator = generator

    def indices(self):
        return (self.generator or default_generator).numpy.permutation(self.n).astype(np.int64)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.n


class BatchSampler(Sampler):
    """Groups a sampler's indices into lists of ``batch_size``."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer, got {batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def batches(self):
        """Index arrays, one per batch (vectorized when the sampler can give all indices)."""
        order = self.sampler.indices() if hasattr(self.sampler, "indices") else \
            np.fromiter(iter(self.sampler), dtype=np.int64)
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        return [order[i:i + self.batch_size] for i in range(0, stop, self.batch_size)]

    def __iter__(self):
        return (b.tolist() for b in self.batches())

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class DistributedSampler(Sampler):
    """This rank's share of each pass: positions rank, rank + N, rank + 2N, ... of the
    pass's order, as ``torch.utils.data.DistributedSampler``.

    The order is a permutation drawn from ``seed + epoch`` (call ``set_epoch`` before each
    pass) or, when ``generator`` is given, the next permutation of that generator, which
    is exactly the order a shuffling ``DataLoader`` with the same generator draws: then N
    ranks at batch b see together the batches of one process at batch N*b. Without
    ``drop_last`` the order is padded with its own first indices to a multiple of N (so
    every rank gets the same number of samples); with it, the tail is dropped instead.

    Args:
        num_replicas, rank: default to the initialized process group's.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False, generator=None):
        if num_replicas is None or rank is None:
            from .. import distributed
            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas <= 0:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive integer, "
                             f"got {num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: rank must be in [0, {num_replicas}), "
                             f"got {rank!r}")
        self.n = len(dataset)
        self.num_replicas, self.rank, self.shuffle = num_replicas, rank, shuffle
        self.seed, self.drop_last, self.generator = int(seed), drop_last, generator
        self.epoch = 0
        if drop_last:
            self.num_samples = self.n // num_replicas
        else:
            self.num_samples = -(-self.n // num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch):
        """Choose the pass's permutation (seed + epoch) when no generator is given."""
        self.epoch = int(epoch)

    def _order(self):
        if not self.shuffle:
            return np.arange(self.n, dtype=np.int64)
        if self.generator is not None:
            return self.generator.numpy.permutation(self.n).astype(np.int64)
        return Generator(self.seed + self.epoch).numpy.permutation(self.n).astype(np.int64)

    def indices(self):
        order = self._order()
        if self.total_size > self.n:  # pad with the order's own head, repeated if need be
            order = np.resize(order, self.total_size)
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples
