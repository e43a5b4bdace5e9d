"""Ctrl-C or SIGTERM during fit ends with a line naming the last checkpoint and how to resume from it."""

from __future__ import annotations

import logging

import pytest
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint

from selftt.training.interrupt_note import InterruptNote


class _Tiny(LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).pow(2).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        data = torch.utils.data.TensorDataset(torch.randn(16, 2))
        return torch.utils.data.DataLoader(data, batch_size=2)


class _CtrlCAtStep(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            raise KeyboardInterrupt


def _fit(tmp_path, stop_at: int, caplog) -> str:
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "checkpoints", every_n_train_steps=2, save_last=True)
    trainer = Trainer(
        max_steps=8, callbacks=[checkpoint, InterruptNote(), _CtrlCAtStep(stop_at)], logger=False,
        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="selftt"), pytest.raises(SystemExit):
        trainer.fit(_Tiny())
    return caplog.text


def test_ctrl_c_names_the_last_checkpoint_and_how_to_resume(tmp_path, caplog):
    text = _fit(tmp_path, 5, caplog)
    last = tmp_path / "checkpoints" / "last.ckpt"
    assert last.is_file()
    assert f"stopped (Ctrl-C) at global step 5; the last checkpoint is {last}" in text
    assert f"--ckpt_path {last}" in text


def test_ctrl_c_before_any_checkpoint_says_there_is_nothing_to_resume(tmp_path, caplog):
    text = _fit(tmp_path, 1, caplog)
    assert "stopped (Ctrl-C) at global step 1 before any checkpoint was written" in text


def test_sigterm_names_the_last_checkpoint_too(tmp_path, caplog):
    """A scheduler's SIGTERM during step 6: Lightning ends that step, then stops (SIGTERMException)."""
    import os
    import signal

    class _SigtermAtStep(Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if trainer.global_step == 5:
                os.kill(os.getpid(), signal.SIGTERM)

    checkpoint = ModelCheckpoint(dirpath=tmp_path / "checkpoints", every_n_train_steps=2, save_last=True)
    trainer = Trainer(
        max_steps=8, callbacks=[checkpoint, InterruptNote(), _SigtermAtStep()], logger=False,
        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
    )  # fmt: skip
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with caplog.at_level(logging.WARNING, logger="selftt"), pytest.raises(SystemExit):
            trainer.fit(_Tiny())
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert f"stopped (SIGTERM) at global step 6; the last checkpoint is {tmp_path / 'checkpoints' / 'last.ckpt'}" in caplog.text
