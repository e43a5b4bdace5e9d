"""The Lightning Trainer with selftt's extra subcommand, ``translate``."""

from __future__ import annotations

from lightning.pytorch import LightningDataModule, LightningModule, Trainer


class SelfTTTrainer(Trainer):
    """A Lightning ``Trainer`` that can also run the self-translation step alone."""

    def translate(self, model: LightningModule, datamodule: LightningDataModule | None = None) -> None:
        """Translate whatever the cache lacks for the 'tgt'/'cs' components, filter it and write
        the data set (``dataset.jsonl`` and ``stats.json`` in the cache folder); no training.

        It is ``fit`` with no optimizer step and no sanity check: the same processes (one per
        device under DDP), model loading and SelfTranslateCallback as a training run.
        """
        self.fit_loop.epoch_loop.max_steps = 0
        self.num_sanity_val_steps = 0
        self.fit(model, datamodule=datamodule)
