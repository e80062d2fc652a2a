"""``DistributedSampler``: each rank's share, padding, and the N*b batch equivalence."""
import numpy as np
import pytest

import framework as fw
from framework.data import DataLoader, DistributedSampler, TensorDataset


def _data(n):
    return TensorDataset(fw.arange(n))


def _batches(loader):
    return [x.numpy().tolist() for (x,) in loader]


@pytest.mark.parametrize("n, size", [(10, 2), (11, 3), (2, 4)])
def test_ranks_take_strided_positions_padded_to_equal_counts(n, size):
    shares = [list(DistributedSampler(_data(n), size, r, shuffle=False)) for r in range(size)]
    per_rank = -(-n // size)
    assert all(len(s) == per_rank for s in shares)
    order = np.resize(np.arange(n), per_rank * size)  # padded with the order's own head
    for r, share in enumerate(shares):
        assert share == order[r::size].tolist()
    assert sorted(set(sum(shares, []))) == list(range(n))


def test_drop_last_drops_the_tail_instead():
    shares = [list(DistributedSampler(_data(11), 3, r, shuffle=False, drop_last=True))
              for r in range(3)]
    assert shares == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]


def test_seed_and_epoch_choose_the_permutation():
    a = DistributedSampler(_data(50), 2, 0, seed=7)
    b = DistributedSampler(_data(50), 2, 1, seed=7)
    first = list(a)
    assert sorted(first + list(b)) == list(range(50))
    assert list(a) == first  # same epoch, same order
    a.set_epoch(1)
    assert list(a) != first and sorted(list(a)) != first


def test_n_ranks_at_batch_b_see_one_process_batches_at_n_times_b():
    n, size, b = 103, 2, 8  # the last global batch is partial (7 samples, padded to 8)
    single = _batches(DataLoader(_data(n), size * b, shuffle=True, generator=fw.Generator(3)))
    ranks = [_batches(DataLoader(_data(n), b, generator=fw.Generator(3),
                                 sampler=DistributedSampler(_data(n), size, r,
                                                            generator=fw.Generator(3))))
             for r in range(size)]
    assert len(ranks[0]) == len(ranks[1]) == len(single)
    for k, batch in enumerate(single):
        together = ranks[0][k] + ranks[1][k]
        if k < len(single) - 1:
            assert sorted(together) == sorted(batch)
        else:  # the padding repeats the first sample of the pass
            assert sorted(together) == sorted(batch + [single[0][0]])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="rank must be in"):
        DistributedSampler(_data(4), 2, 2)
    with pytest.raises(ValueError, match="num_replicas"):
        DistributedSampler(_data(4), 0, 0)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(_data(4))
