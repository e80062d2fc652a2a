"""``DataLoader``: batches of tensors, prepared ahead on a background thread.

For datasets that expose their samples as in-memory arrays (``Dataset.arrays()``),
a batch is gathered from the shuffled indices by one Numba kernel, with no per-sample
Python loop. Other datasets go through ``collate_fn``. Prefetching uses a thread, not
a process: forking after Numba has started its thread pool is unsafe.
"""
import queue
import threading

import numpy as np

from ..device import as_device, kernels_for
from ..tensor import Tensor
from .sampler import BatchSampler, RandomSampler, SequentialSampler

_END = object()


def default_collate(samples):
    """Stack a list of samples (tensors, numbers, or tuples of them) into batch tensors."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return type(first)(default_collate([s[i] for s in samples]) for i in range(len(first)))
    if isinstance(first, Tensor):
        arr = np.stack([s.kernels.to_host(s.data) for s in samples])
    else:
        arr = np.asarray(samples)
    if arr.dtype == np.float64 and not isinstance(first, Tensor):
        arr = arr.astype(np.float32)
    return Tensor._wrap(kernels_for(as_device(None)).from_host(arr, arr.dtype), as_device(None),
                        None, 0)


class DataLoader:
    """Iterates over ``dataset`` in batches, like ``torch.utils.data.DataLoader``.

    Args:
        shuffle: draw a new order each pass from ``generator`` (seeded, explicit).
        prefetch: batches prepared ahead on a background thread (0 = none).
        device: where batches are placed (default: the CPU). On a GPU, a data set with
            in-memory arrays is copied to the device once and batches are gathered there.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, drop_last=False,
                 collate_fn=None, generator=None, prefetch=2, device=None):
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True are mutually exclusive")
        if sampler is None:
            sampler = RandomSampler(dataset, generator) if shuffle else SequentialSampler(dataset)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.generator = sampler, generator
        self.batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.collate_fn, self.prefetch = collate_fn, int(prefetch)
        self.device = as_device(device)
        self._skip = 0
        self._resident = None  # (array ids, host arrays, device copies) on a GPU

    def __len__(self):
        return len(self.batch_sampler)

    def skip_next(self, n_batches):
        """Make the next pass start after its first ``n_batches`` (to resume mid-epoch:
        restore the generator state of the epoch's start, then skip)."""
        self._skip = int(n_batches)

    def _batches(self, arrays):
        """The pass's batches; ``arrays``: the data set's in-memory arrays, or None."""
        index_batches = self.batch_sampler.batches()[self._skip:]
        self._skip = 0
        k = kernels_for(self.device)
        if arrays is not None and self.device.type != "cpu":
            yield from self._device_batches(k, arrays, index_batches)
            return
        for idx in index_batches:
            if arrays is not None:
                yield tuple(Tensor._wrap(k.from_host(_gather(a, idx), a.dtype), self.device,
                                         None, 0) for a in arrays)
            else:
                collate = self.collate_fn or default_collate
                batch = collate([self.dataset[int(i)] for i in idx])
                yield batch

    def _device_batches(self, k, arrays, index_batches):
        """The data set goes to the device once (kept while its arrays are the same
        objects); each pass copies its whole index order there once, and each batch is
        one ``gather_rows`` launch reading a slice of it: no host transfer per batch."""
        key = tuple(id(a) for a in arrays)
        if self._resident is None or self._resident[0] != key:
            self._resident = (key, arrays, tuple(k.from_host(a, a.dtype) for a in arrays))
        resident = self._resident[2]
        if not index_batches:
            return
        order = k.from_host(np.concatenate(index_batches), np.int64)
        start = 0
        for idx in index_batches:
            index = order[start:start + idx.size]
            start += idx.size
            batch = []
            for a in resident:
                out = k.empty((idx.size,) + tuple(a.shape[1:]), a.dtype)
                k.gather_rows(out, a, index)
                batch.append(Tensor._wrap(out, self.device, None, 0))
            yield tuple(batch)

    def __iter__(self):
        # Asked once per pass: a Subset's arrays() copies its rows.
        arrays = None if self.collate_fn is not None else self.dataset.arrays()
        batches = self._batches(arrays)
        if self.device.type == "cpu":
            return batches if self.prefetch <= 0 else _Prefetcher(batches, self.prefetch)
        if arrays is not None:
            return batches  # gathered on the device: asynchronous launches, no thread
        # Collated batches are made on the host; they move to the GPU on the consumer's
        # thread (the prefetch thread never touches the device).
        if self.prefetch <= 0:
            return map(self._to_device, batches)
        return _Prefetcher(batches, self.prefetch, self._to_device)

    def _to_device(self, batch):
        """``batch`` (tensors, or tuples, lists and dicts of them) on ``self.device``."""
        if isinstance(batch, Tensor):
            return batch.to(self.device)
        if isinstance(batch, (tuple, list)):
            return type(batch)(self._to_device(b) for b in batch)
        if isinstance(batch, dict):
            return {k: self._to_device(v) for k, v in batch.items()}
        return batch


def _gather(array, idx):
    """Rows ``idx`` of a host array, gathered by the CPU kernel (data lives on the host)."""
    out = np.empty((idx.size,) + array.shape[1:], dtype=array.dtype)
    kernels_for(as_device("cpu")).gather_rows(out, array, idx)
    return out


class _Prefetcher:
    """Runs a batch generator on a daemon thread, ``depth`` batches ahead."""

    def __init__(self, source, depth, deliver=None):
        self._deliver = deliver  # applied to each batch on the consumer's thread
        self._queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(source,), daemon=True)
        self._thread.start()

    def _run(self, source):
        try:
            for item in source:
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)

    def _put(self, item):
        """Queue ``item``, waiting for room; False if the consumer stopped meanwhile."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is _END:
            self.close()
            raise StopIteration
        if isinstance(item, BaseException):
            self.close()
            raise item
        return item if self._deliver is None else self._deliver(item)

    def close(self):
        self._stop.set()

    def __del__(self):
        self._stop.set()
