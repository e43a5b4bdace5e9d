"""Fault-injection callbacks for the reliability tests (put this folder on PYTHONPATH).

They make a real ``python -m selftt fit`` process fail the way real runs do: SIGKILL (the
OOM killer, a preempted node), an exception on one rank, a NaN loss.
"""

from __future__ import annotations

import os
import signal

import torch
from lightning.pytorch import Callback


class FailAt(Callback):
    """At global step ``step`` on rank ``rank``: ``kill`` (SIGKILL itself), ``raise`` a
    RuntimeError, ``kill_in_save`` (SIGKILL while a checkpoint is being written), or ``nan``
    (poison one LoRA weight so the next loss is NaN)."""

    def __init__(self, step: int, how: str = "kill", rank: int = 0) -> None:
        self.step, self.how, self.rank = step, how, rank

    def _mine(self, trainer) -> bool:
        return trainer.global_rank == self.rank and trainer.global_step == self.step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if not self._mine(trainer):
            return
        if self.how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif self.how == "raise":
            raise RuntimeError(f"injected failure on rank {self.rank} at step {self.step}")
        elif self.how == "nan":
            with torch.no_grad():
                param = next(p for n, p in pl_module.named_parameters() if "lora_B" in n)
                param.fill_(float("nan"))

    def on_save_checkpoint(self, trainer, pl_module, checkpoint) -> None:
        if self.how == "kill_in_save" and trainer.global_rank == self.rank and trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)
