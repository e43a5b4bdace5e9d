"""Resumed after a finished epoch, the training loader goes on with the next data epoch, whatever
number Lightning gives it (2.6 counts the replayed epoch end twice)."""

from __future__ import annotations

from selftt.datamodules.sampler import LengthGroupedSampler, ResumableDataLoader


def _loader() -> ResumableDataLoader:
    lengths = [5 + (i * 7) % 23 for i in range(30)]
    sampler = LengthGroupedSampler(lengths, batch_size=4, mega_batch_factor=2, seed=5)
    return ResumableDataLoader(list(range(30)), batch_size=4, sampler=sampler, progress=lambda: 8)


def _epoch(loader: ResumableDataLoader, epoch: int) -> list[list[int]]:
    loader.sampler.set_epoch(epoch)
    return [batch.tolist() for batch in loader]


def test_after_a_finished_epoch_the_next_data_epoch_follows_whatever_lightning_numbers_it():
    straight = _loader()
    expected = {epoch: _epoch(straight, epoch) for epoch in (2, 3, 4)}
    straight.sampler.set_epoch(2)
    state = straight.state_dict()
    assert state == {"epoch": 2, "batches_done": len(straight)}  # written at the end of epoch 2

    resumed = _loader()
    resumed.load_state_dict(state)
    iter(resumed)  # Lightning probes the loader before it sets the epoch: draws nothing
    assert _epoch(resumed, 4) == expected[3]  # Lightning says 4, the data epoch is 3
    assert _epoch(resumed, 5) == expected[4]
    assert resumed.state_dict()["epoch"] == 4  # the data epoch, for the next resume


def test_lightnings_own_numbering_is_kept_when_it_is_right():
    straight = _loader()
    expected = _epoch(straight, 3)
    resumed = _loader()
    resumed.load_state_dict({"epoch": 2, "batches_done": len(resumed)})
    assert _epoch(resumed, 3) == expected
    assert resumed.sampler.epoch_offset == 0
