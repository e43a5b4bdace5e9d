"""Checks at the end of fit that every DDP rank holds the same adapter weights."""

from __future__ import annotations

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info

from selftt.errors import SelfTTError


def adapter_digest(module: torch.nn.Module) -> torch.Tensor:
    """One float64 checksum per trainable tensor (sum and sum of squares), in name order."""
    sums = []
    for _, param in sorted(module.named_parameters()):
        if param.requires_grad:
            data = param.detach().double()
            sums += [data.sum(), (data * data).sum()]
    return torch.stack(sums) if sums else torch.zeros(1, dtype=torch.float64)


class AdapterSyncCheck(Callback):
    """After fit, gather each rank's adapter digest and fail if the ranks disagree.

    DDP keeps replicas identical by averaging gradients; a rank that diverged (a sampler or
    a seed bug) would otherwise go unnoticed until its adapter is used. ``digests`` holds the
    gathered values (one row per rank) for inspection.
    """

    def __init__(self, atol: float = 1e-6) -> None:
        self.atol = atol
        self.digests: torch.Tensor | None = None

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.world_size < 2:
            return
        local = adapter_digest(pl_module).to(pl_module.device)
        gathered = trainer.strategy.all_gather(local).reshape(trainer.world_size, -1).cpu()
        self.digests = gathered
        spread = (gathered - gathered[0]).abs().max().item()
        if spread > self.atol * max(1.0, gathered.abs().max().item()):
            raise SelfTTError(
                f"DDP ranks ended with different adapter weights (max digest difference {spread:.3g})"
            )
        rank_zero_info(
            f"selftt: all {trainer.world_size} ranks hold identical adapters (digest {gathered[0, 0]:.6f})"
        )
