"""Map-style datasets: ``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``."""
import numpy as np

from ..random import default_generator
from ..tensor import Tensor


class Dataset:
    """A map-style dataset: ``__getitem__(i)`` and ``__len__()``."""

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def arrays(self):
        """Host arrays (one per field, first dim = samples) for the DataLoader's fast
        gather path, or None when samples must be fetched one by one."""
        return None


class TensorDataset(Dataset):
    """Samples are the i-th rows of tensors (or arrays) sharing their first dim."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self._arrays = tuple(np.ascontiguousarray(t.kernels.to_host(t.data))
                             if isinstance(t, Tensor) else np.ascontiguousarray(t)
                             for t in tensors)
        sizes = {a.shape[0] if a.ndim else None for a in self._arrays}
        if len(sizes) != 1 or None in sizes:
            raise ValueError(f"TensorDataset: tensors must share their first dimension, got "
                             f"shapes {[a.shape for a in self._arrays]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(Tensor._wrap(np.ascontiguousarray(a[index]), _cpu(), None, 0)
                     for a in self._arrays)

    def __len__(self):
        return self._arrays[0].shape[0]

    def arrays(self):
        return self._arrays


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset: indices out of range for a dataset of {n} samples")
        self.indices %= max(n, 1)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return self.indices.size

    def arrays(self):
        base = self.dataset.arrays()
        if base is None:
            return None
        return tuple(a[self.indices] for a in base)


def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    lengths = list(lengths)
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-6:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n or any(x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths {lengths} do not add up to the dataset size {n}")
    perm = (generator or default_generator).numpy.permutation(n)
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[start:start + length]))
        start += length
    return out


def _cpu():
    from ..device import CPU
    return CPU
