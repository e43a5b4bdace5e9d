"""Stops training at the first NaN or infinite loss, before it reaches the weights or a checkpoint."""

from __future__ import annotations

import math

import torch
from lightning.pytorch import Callback, LightningModule, Trainer

from selftt.errors import SelfTTError


class NonFiniteLossError(SelfTTError):
    """The training loss became NaN or infinite."""


class StopOnNonFiniteLoss(Callback):
    """Checks the training loss before every backward pass; a NaN or infinite loss on any rank
    ends the run on every rank with a clear message.

    The check runs before ``backward`` and the optimizer step, so the weights in memory and every
    checkpoint written so far stay those of the last good step (Lightning writes no checkpoint
    when a run ends with an error).
    """

    def on_before_backward(self, trainer: Trainer, pl_module: LightningModule, loss: torch.Tensor) -> None:
        finite = bool(torch.isfinite(loss.detach()).all())
        if trainer.world_size > 1:  # every rank must stop, or the others wait in the next collective
            finite = trainer.strategy.reduce_boolean_decision(finite, all=True)
        if finite:
            return
        value = loss.detach().float().item() if loss.numel() == 1 else float("nan")
        if math.isfinite(value):
            shown = f"non-finite on another rank (rank {trainer.global_rank}'s is {value:.4g})"
        else:
            shown = "NaN" if math.isnan(value) else "infinite"
        last = ""
        callback = trainer.checkpoint_callback
        if callback is not None and getattr(callback, "last_model_path", ""):
            last = f"; the last good checkpoint is {callback.last_model_path}"
        elif callback is not None:
            last = "; no checkpoint was written yet"
        raise NonFiniteLossError(
            f"training loss is {shown} at global step {trainer.global_step} "
            f"(epoch {trainer.current_epoch}); stopped before the optimizer step{last}. "
            "Lower the learning rate, check the data, or use a float32/bfloat16 dtype"
        )

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._check_eval_loss(trainer, pl_module, "val")

    def on_test_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._check_eval_loss(trainer, pl_module, "test")

    @staticmethod
    def _check_eval_loss(trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """An evaluation loss of NaN or inf (e.g. float16 overflow) ends the run with one line
        instead of passing into results and checkpoints as a number."""
        loss = trainer.callback_metrics.get(f"{stage}/loss")
        if loss is None or bool(torch.isfinite(torch.as_tensor(loss)).all()):
            return
        from selftt.modules import SelfTTModule
        from selftt.modules.finite_logits import dtype_advice

        model = pl_module.model if isinstance(pl_module, SelfTTModule) else None
        raise NonFiniteLossError(
            f"{stage}/loss is {float(loss)} at global step {trainer.global_step}: {dtype_advice(model)}"
        )
