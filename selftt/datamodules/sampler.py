"""A distributed sampler that puts examples of similar length into the same batch."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import torch
from torch.utils.data import DataLoader, DistributedSampler


class LengthGroupedSampler(DistributedSampler):
    """Yields indices so that each consecutive run of ``batch_size`` holds similar lengths.

    Shuffled order is cut into mega-batches of ``mega_batch_factor`` global batches; each is
    sorted by length and cut into global batches (``batch_size * num_replicas``), whose order
    is shuffled again. Rank ``r`` takes the ``r``-th slice of every global batch, so all ranks
    step through batches of similar length together. For training (``pad=True``) with more
    than one replica the order is padded with repeated examples so that every rank gets the
    same number of batches; for evaluation (``pad=False``) nothing is repeated and the last
    ranks may get one batch fewer, so every example counts exactly once.

    It subclasses ``DistributedSampler`` so Lightning keeps it under DDP (and calls
    ``set_epoch``); ``num_replicas`` and ``rank`` come from the trainer.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        num_replicas: int = 1,
        rank: int = 0,
        shuffle: bool = True,
        seed: int = 0,
        mega_batch_factor: int = 32,
        pad: bool = True,
    ) -> None:
        if not lengths:
            raise ValueError("LengthGroupedSampler needs at least one example")
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self.mega_batch_factor = mega_batch_factor
        self.drop_last = False
        self.resume_at: tuple[int, int] | None = None  # (epoch, batches already done in it)
        self.next_epoch: int | None = None  # after a finished epoch: the data epoch to start
        self.epoch_offset = 0  # Lightning's epoch number minus the data epoch (see ResumableDataLoader)
        global_batch = batch_size * num_replicas
        n = len(self.lengths)
        self.total_size = n if num_replicas == 1 or not pad else math.ceil(n / global_batch) * global_batch
        self.num_samples = sum(len(self._share(batch)) for batch in self._global_batches())

    def _global_batches(self) -> list[list[int]]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        n = len(self.lengths)
        order = torch.randperm(n, generator=generator).tolist() if self.shuffle else list(range(n))
        while len(order) < self.total_size:
            order += order[: self.total_size - len(order)]
        global_batch = self.batch_size * self.num_replicas
        mega = global_batch * self.mega_batch_factor
        batches = []
        for start in range(0, len(order), mega):
            chunk = sorted(order[start : start + mega], key=lambda i: -self.lengths[i])
            batches += [chunk[i : i + global_batch] for i in range(0, len(chunk), global_batch)]
        # A short last batch stays last: in the middle it would shift every later batch boundary.
        tail = [batches.pop()] if len(batches[-1]) < global_batch else []
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
        return batches + tail

    def set_epoch(self, epoch: int) -> None:
        """Lightning's epoch number, less ``epoch_offset``, picks the order of the epoch."""
        self.epoch = epoch - self.epoch_offset

    def __iter__(self) -> Iterator[int]:
        if self.next_epoch is not None:  # on the first batch drawn, not when Lightning probes iter()
            self.epoch_offset += self.epoch - self.next_epoch
            self.epoch, self.next_epoch = self.next_epoch, None
        skip = 0
        if self.resume_at is not None and self.resume_at[0] == self.epoch:
            skip = self.resume_at[1]
        self.resume_at = None
        for batch in self._global_batches()[skip:]:
            yield from self._share(batch)

    def _share(self, global_batch: list[int]) -> list[int]:
        start = self.batch_size * self.rank
        return global_batch[start : start + self.batch_size]

    def __len__(self) -> int:
        return self.num_samples


class ResumableDataLoader(DataLoader):
    """A DataLoader whose place in the epoch is saved in Lightning checkpoints.

    Lightning stores ``state_dict()`` of stateful loaders; on resume ``load_state_dict`` makes
    the sampler skip the batches the interrupted run already trained on, so the resumed run
    sees the same batches as an uninterrupted one. (If Lightning resumes into the next epoch,
    as it does after a checkpoint written at an epoch's end, nothing is skipped.) ``progress``
    returns the number of batches of the current epoch that are done (the trainer's batch
    progress).

    After a checkpoint written once an epoch was done, the data epoch that follows it comes
    next, whatever number Lightning gives it: resumed there, Lightning 2.6 replays the epoch's
    end, counts the epoch processed twice and sets the sampler's epoch one too high, which
    would shuffle differently from an uninterrupted run. The sampler's ``epoch_offset`` keeps
    later epochs in step.
    """

    def __init__(self, *args, progress: Callable[[], int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.progress = progress

    def state_dict(self) -> dict[str, int]:
        return {"epoch": int(self.sampler.epoch), "batches_done": int(self.progress())}

    def load_state_dict(self, state: dict[str, int]) -> None:
        if state["batches_done"] >= len(self):  # that epoch was finished: the next one follows it
            self.sampler.next_epoch = state["epoch"] + 1
        else:
            self.sampler.resume_at = (state["epoch"], state["batches_done"])
