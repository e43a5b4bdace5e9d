"""Random state of training in checkpoints, so that a resumed run equals an uninterrupted one."""

from __future__ import annotations

import logging
import random
from typing import Any

import numpy as np
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import Checkpoint

log = logging.getLogger(__name__)


def collect_rng_states(device: torch.device | None = None) -> dict[str, Any]:
    """This process's random states (torch CPU, numpy, python ``random`` and, where ``device`` is a
    CUDA device, its CUDA generator) as tensors and plain values: ``torch.load(weights_only=True)``
    reads them back."""
    version, python_state, gauss = random.getstate()
    name, key, pos, has_gauss, cached_gaussian = np.random.get_state(legacy=True)
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "name": str(name),
            "key": torch.from_numpy(np.asarray(key, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "python": {
            "version": int(version),
            "state": torch.tensor(python_state, dtype=torch.int64),
            "gauss": None if gauss is None else float(gauss),
        },
    }
    if device is not None and device.type == "cuda":
        states["torch.cuda"] = torch.cuda.get_rng_state(device)
    return states


def set_rng_states(states: dict[str, Any], device: torch.device | None = None) -> None:
    """Restore what ``collect_rng_states`` returned (the CUDA state only onto a CUDA ``device``)."""
    torch.set_rng_state(states["torch"].cpu().to(torch.uint8))
    numpy = states["numpy"]
    np.random.set_state(
        (
            numpy["name"],
            numpy["key"].cpu().numpy().astype(np.uint32),
            numpy["pos"],
            numpy["has_gauss"],
            numpy["cached_gaussian"],
        )
    )
    python = states["python"]
    random.setstate((python["version"], tuple(int(v) for v in python["state"].tolist()), python["gauss"]))
    if "torch.cuda" in states and device is not None and device.type == "cuda":
        torch.cuda.set_rng_state(states["torch.cuda"].cpu().to(torch.uint8), device)


def _gather(states: dict[str, Any], world_size: int) -> list[dict[str, Any]]:
    """Every rank's ``states``, in rank order (a collective: all ranks call it)."""
    if world_size < 2 or not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return [states]
    gathered: list[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(gathered, states)
    return gathered


class TrainingRNGState(Callback):
    """Keeps training's random numbers (LoRA dropout, anything else a training step draws) in a
    stream of their own, and stores it in checkpoints, per rank.

    After every training batch the random states of this rank are taken (torch CPU, CUDA of the
    rank's device, numpy, python ``random``), and restored before the next batch: what runs
    between two batches (validation, generation, a new DataLoader iterator, the sanity check of
    a resumed run) draws from the generators too, but never shifts training's draws. Checkpoints
    hold the states of every rank, keyed by global rank (gathered under DDP, so saving is a
    collective, as Lightning's ``save_checkpoint`` already is); on resume each rank restores its
    own before its first batch. So a run resumed from a checkpoint trains on the same random
    numbers as one never interrupted. Everything is tensors and plain values, so checkpoints
    still load with ``torch.load(weights_only=True)``.
    """

    def __init__(self) -> None:
        self._states: dict[str, Any] | None = None
        self._device: torch.device | None = None
        self._rank = 0
        self._world_size = 1

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if stage == "fit":
            self._states = None  # a fresh stream, unless a checkpoint's is loaded after this
        self._device = trainer.strategy.root_device
        self._rank = trainer.global_rank
        self._world_size = trainer.world_size
        callbacks = trainer.callbacks
        first_checkpoint = next((i for i, c in enumerate(callbacks) if isinstance(c, Checkpoint)), None)
        if first_checkpoint is not None and callbacks.index(self) > first_checkpoint:
            callbacks.remove(self)  # take the states before a checkpoint callback saves them
            callbacks.insert(first_checkpoint, self)

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int) -> None:
        if self._states is not None:
            set_rng_states(self._states, self._device)

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self._states = collect_rng_states(self._device)

    def state_dict(self) -> dict[str, Any]:
        """``{"world_size": N, "per_rank": {global_rank: states}}``; empty before the first batch."""
        if self._states is None:
            return {}
        gathered = _gather(self._states, self._world_size)
        return {"world_size": len(gathered), "per_rank": dict(enumerate(gathered))}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        per_rank = state_dict.get("per_rank") or {}
        mine = per_rank.get(self._rank)
        if mine is None:
            if per_rank:
                log.warning(
                    "the checkpoint holds random states for %d ranks, none for rank %d: "
                    "training's random numbers will differ from an uninterrupted run",
                    len(per_rank),
                    self._rank,
                )
            return
        if state_dict.get("world_size") != self._world_size:
            log.warning(
                "the checkpoint was written by %s ranks, this run has %d: "
                "training's random numbers will differ from an uninterrupted run",
                state_dict.get("world_size"),
                self._world_size,
            )
        self._states = mine
