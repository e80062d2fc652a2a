"""Datasets, samplers and the DataLoader."""
import numpy as np
import pytest

import framework as fw
from framework.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    Subset,
    TensorDataset,
    random_split,
)


def _ds(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(fw.tensor(x), fw.tensor(y)), x, y


def test_tensor_dataset_and_subset():
    ds, x, y = _ds()
    assert len(ds) == 10
    xi, yi = ds[3]
    assert xi.tolist() == x[3].tolist() and yi.item() == 3
    sub = Subset(ds, [1, 5, -1])
    assert len(sub) == 3 and sub[2][1].item() == 9
    with pytest.raises(ValueError, match="share their first dimension"):
        TensorDataset(fw.zeros(3, 2), fw.zeros(4))
    with pytest.raises(IndexError, match="out of range"):
        Subset(ds, [10])


def test_random_split():
    ds, _, _ = _ds(10)
    a, b = random_split(ds, [7, 3], generator=fw.Generator(0))
    ids = sorted([a[i][1].item() for i in range(7)] + [b[i][1].item() for i in range(3)])
    assert ids == list(range(10))
    c, d = random_split(ds, [0.5, 0.5], generator=fw.Generator(0))
    assert len(c) == len(d) == 5
    with pytest.raises(ValueError, match="do not add up"):
        random_split(ds, [3, 3])


def test_loader_batches_sequential_and_drop_last():
    ds, x, y = _ds(10)
    batches = list(DataLoader(ds, batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    np.testing.assert_array_equal(batches[1][0].numpy(), x[4:8])
    assert batches[2][1].dtype is fw.int64
    assert len(list(DataLoader(ds, batch_size=4, drop_last=True))) == 2
    assert len(DataLoader(ds, batch_size=4)) == 3
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)


def test_shuffle_is_reproducible_and_covers_everything():
    ds, _, _ = _ds(50)

    def order(seed):
        dl = DataLoader(ds, batch_size=8, shuffle=True, generator=fw.Generator(seed))
        return [v for _, y in dl for v in y.tolist()]

    assert order(1) == order(1) and order(1) != order(2)
    assert sorted(order(1)) == list(range(50))
    dl = DataLoader(ds, batch_size=8, shuffle=True, generator=fw.Generator(3))
    first = [v for _, y in dl for v in y.tolist()]
    second = [v for _, y in dl for v in y.tolist()]
    assert first != second  # a new order every epoch


def test_skip_next_resumes_mid_epoch():
    ds, _, _ = _ds(40)
    gen = fw.Generator(5)
    dl = DataLoader(ds, batch_size=8, shuffle=True, generator=gen)
    state = gen.get_state()
    full = [y.tolist() for _, y in dl]
    gen.set_state(state)
    dl.skip_next(2)
    assert [y.tolist() for _, y in dl] == full[2:]
    assert len([y for _, y in dl]) == 5  # the skip applies to one pass only


class _PyDataset(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 5:
            raise KeyError("sample 5 is broken")
        return fw.tensor([float(i), 2.0 * i]), i


def test_collate_path_and_errors_propagate_from_prefetch_thread():
    dl = DataLoader(_PyDataset(), batch_size=2)
    it = iter(dl)
    x, y = next(it)
    assert x.shape == (2, 2) and y.tolist() == [0, 1]
    next(it)
    with pytest.raises(KeyError, match="sample 5 is broken"):
        next(it)
    dl = DataLoader(_PyDataset(), batch_size=2, collate_fn=lambda s: len(s), prefetch=0)
    assert next(iter(dl)) == 2


def test_samplers():
    ds, _, _ = _ds(7)
    rs = RandomSampler(ds, generator=fw.Generator(0))
    assert sorted(rs) == list(range(7))
    bs = BatchSampler(rs, 3, drop_last=False)
    assert [len(b) for b in bs] == [3, 3, 1] and len(bs) == 3
    assert len(BatchSampler(rs, 3, drop_last=True)) == 2
