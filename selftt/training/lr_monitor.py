"""The learning rate in the logs, and no failure when a run has no logger."""

from __future__ import annotations

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import LearningRateMonitor


class LearningRateLog(LearningRateMonitor):
    """Lightning's ``LearningRateMonitor`` (``lr-<optimizer>`` at every logging step), added to
    every run by the CLI; with ``trainer.logger: false`` it does nothing instead of stopping the
    run (Lightning raises ``MisconfigurationException`` there)."""

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.loggers:
            super().on_train_start(trainer, pl_module)

    def on_train_batch_start(self, trainer: Trainer, *args, **kwargs) -> None:
        if trainer.loggers:
            super().on_train_batch_start(trainer, *args, **kwargs)

    def on_train_epoch_start(self, trainer: Trainer, *args, **kwargs) -> None:
        if trainer.loggers:
            super().on_train_epoch_start(trainer, *args, **kwargs)
