"""Tests for the length-grouped distributed sampler and the resumable loader."""

from __future__ import annotations

import random

import pytest
import torch

from selftt.datamodules.sampler import LengthGroupedSampler, ResumableDataLoader


def random_lengths(n: int, seed: int = 0) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(5, 300) for _ in range(n)]


def batches(indices: list[int], size: int) -> list[list[int]]:
    return [indices[i : i + size] for i in range(0, len(indices), size)]


def padding(order: list[int], lengths: list[int], size: int) -> int:
    """Pad tokens when ``order`` is cut into consecutive batches of ``size``."""
    return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches(order, size))


def epoch_order(sampler: LengthGroupedSampler, epoch: int) -> list[int]:
    sampler.set_epoch(epoch)
    return list(sampler)


# ----------------------------------------------------------------------------- one replica


@pytest.mark.parametrize("n", [1, 7, 64, 203])
def test_every_index_once_per_epoch(n):
    sampler = LengthGroupedSampler(random_lengths(n), batch_size=8, mega_batch_factor=4)
    assert len(sampler) == n
    for epoch in range(3):
        assert sorted(epoch_order(sampler, epoch)) == list(range(n))


def test_batches_have_much_less_padding_than_random_order():
    lengths, size = random_lengths(512), 8
    sampler = LengthGroupedSampler(lengths, batch_size=size, mega_batch_factor=8, seed=3)
    grouped = padding(list(sampler), lengths, size)
    shuffled = padding(
        torch.randperm(512, generator=torch.Generator().manual_seed(3)).tolist(), lengths, size
    )
    assert grouped < 0.25 * shuffled, (grouped, shuffled)


def test_order_is_deterministic_per_seed_and_epoch_and_changes_across_epochs():
    lengths = random_lengths(100)

    def make(seed=0):
        return LengthGroupedSampler(lengths, batch_size=4, mega_batch_factor=4, seed=seed)

    assert epoch_order(make(), 0) == epoch_order(make(), 0)
    assert epoch_order(make(), 5) == epoch_order(make(), 5)
    assert epoch_order(make(), 0) != epoch_order(make(), 1)
    assert epoch_order(make(seed=0), 0) != epoch_order(make(seed=1), 0)
    # Iterating twice without set_epoch gives the same order.
    sampler = make()
    assert list(sampler) == list(sampler)


def test_no_shuffle_is_sorted_by_length_within_each_mega_batch():
    lengths = random_lengths(40)
    sampler = LengthGroupedSampler(lengths, batch_size=4, shuffle=False, mega_batch_factor=100)
    order = list(sampler)
    assert [lengths[i] for i in order] == sorted(lengths, reverse=True)
    assert epoch_order(sampler, 3) == order


def test_short_last_batch_stays_last():
    # Distinct lengths and a single mega-batch: every full batch is a run of consecutive lengths,
    # and the short batch (2 examples) holds the 2 shortest examples.
    n, size = 50, 8
    lengths = random.Random(1).sample(range(1000), n)
    rank_of = {i: r for r, i in enumerate(sorted(range(n), key=lambda i: -lengths[i]))}
    sampler = LengthGroupedSampler(lengths, batch_size=size, mega_batch_factor=100)
    for epoch in range(4):
        cut = batches(epoch_order(sampler, epoch), size)
        assert [len(b) for b in cut] == [size] * 6 + [2]
        assert sorted(rank_of[i] for i in cut[-1]) == [n - 2, n - 1]
        for b in cut[:-1]:
            ranks = sorted(rank_of[i] for i in b)
            assert ranks == list(range(ranks[0], ranks[0] + size)) and ranks[0] % size == 0


def test_empty_lengths_rejected():
    with pytest.raises(ValueError):
        LengthGroupedSampler([], batch_size=4)


# ----------------------------------------------------------------------------- two replicas


def two_ranks(lengths, size, **kwargs) -> list[LengthGroupedSampler]:
    return [
        LengthGroupedSampler(lengths, batch_size=size, num_replicas=2, rank=r, **kwargs) for r in range(2)
    ]


@pytest.mark.parametrize("n", [48, 50, 3])
def test_two_replicas_same_count_and_cover_everything(n):
    ranks = two_ranks(random_lengths(n), 4, mega_batch_factor=4)
    for epoch in range(2):
        orders = [epoch_order(s, epoch) for s in ranks]
        assert len(orders[0]) == len(orders[1]) == len(ranks[0]) == len(ranks[1])
        assert len(orders[0]) % 4 == 0  # every rank gets full batches: same number of steps
        assert set(orders[0]) | set(orders[1]) == set(range(n))
        if n % 8 == 0:  # no padding needed: a partition
            assert sorted(orders[0] + orders[1]) == list(range(n))


def test_two_replicas_step_through_the_same_global_batches():
    n, size = 96, 4
    lengths = random_lengths(n, seed=5)
    ranks = two_ranks(lengths, size, mega_batch_factor=3, seed=7)
    single = LengthGroupedSampler(lengths, batch_size=2 * size, mega_batch_factor=3, seed=7)
    for epoch in range(2):
        per_rank = [batches(epoch_order(s, epoch), size) for s in ranks]
        global_batches = batches(epoch_order(single, epoch), 2 * size)
        assert len(per_rank[0]) == len(per_rank[1]) == len(global_batches)
        for b0, b1, g in zip(per_rank[0], per_rank[1], global_batches, strict=True):
            assert b0 + b1 == g
        # Hence the two ranks' batches at each step have similar lengths.
        union = [b0 + b1 for b0, b1 in zip(*per_rank, strict=True)]
        assert padding(sum(union, []), lengths, 2 * size) < 0.5 * padding(list(range(n)), lengths, 2 * size)


# ----------------------------------------------------------------------------- resuming


@pytest.mark.parametrize("replicas", [1, 2])
def test_resume_skips_first_batches_of_that_epoch_only(replicas):
    lengths, size = random_lengths(60), 4
    for rank in range(replicas):
        sampler = LengthGroupedSampler(lengths, size, num_replicas=replicas, rank=rank, mega_batch_factor=2)
        full = epoch_order(sampler, 2)
        for k in (0, 1, 3):
            sampler.resume_at = (2, k)
            assert list(sampler) == full[k * size :]
            assert sampler.resume_at is None
            assert list(sampler) == full  # only the first iteration is shortened
        for other in (1, 3):
            sampler.resume_at = (other, 3)
            assert list(sampler) == full


def test_resumable_loader_state_round_trip():
    data = list(range(30))
    lengths = random_lengths(30, seed=2)

    def loader(done: int) -> ResumableDataLoader:
        sampler = LengthGroupedSampler(lengths, batch_size=4, mega_batch_factor=2, seed=11)
        return ResumableDataLoader(data, batch_size=4, sampler=sampler, progress=lambda: done)

    interrupted = loader(done=3)
    interrupted.sampler.set_epoch(2)
    expected = [b.tolist() for b in interrupted]
    state = interrupted.state_dict()
    assert state == {"epoch": 2, "batches_done": 3}

    resumed = loader(done=0)
    resumed.load_state_dict(state)
    resumed.sampler.set_epoch(2)  # as Lightning does before the epoch starts
    assert [b.tolist() for b in resumed] == expected[3:]
    assert [b.tolist() for b in resumed] == expected  # later passes are whole again

    next_epoch = loader(done=0)
    next_epoch.load_state_dict(state)
    next_epoch.sampler.set_epoch(3)
    assert len([b.tolist() for b in next_epoch]) == len(expected)


def test_evaluation_sampler_without_padding_gives_every_index_exactly_once_across_ranks():
    lengths = [5 + (i * 13) % 40 for i in range(23)]  # 23 = not a multiple of 2 ranks x 4
    ranks = [
        list(LengthGroupedSampler(lengths, 4, num_replicas=2, rank=r, shuffle=False, pad=False))
        for r in (0, 1)
    ]
    assert sorted(ranks[0] + ranks[1]) == list(range(23))
    for r in (0, 1):
        assert len(LengthGroupedSampler(lengths, 4, num_replicas=2, rank=r, shuffle=False, pad=False)) == len(
            ranks[r]
        )
