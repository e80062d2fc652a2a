"""Samplers: the order of sample indices, and their grouping into batches."""
import numpy as np

from ..random import default_generator


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
