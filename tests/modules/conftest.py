from __future__ import annotations

from functools import partial

import pytest
import torch
from lightning.pytorch import Trainer

from selftt.datamodules.components import DataComponent
from selftt.datamodules.datamodule import SelfTTDataModule
from selftt.modules import LoraSettings, SelfTTModule


@pytest.fixture
def make_run(tiny_model, math_file, tmp_path):
    """Factory of (module, datamodule, trainer) on the tiny model and a small math file."""

    def make(quantization="none", max_steps=4, lr=1e-2, **trainer_kwargs):
        module = SelfTTModule(
            tiny_model,
            quantization=quantization,
            lora=LoraSettings(r=4, alpha=8, dropout=0.0),
            optimizer=partial(torch.optim.AdamW, lr=lr),
        )
        data = SelfTTDataModule(
            task="math",
            components=[DataComponent(name="src", path=str(math_file), lang="en")],
            val_holdout=4,
            tokenizer=tiny_model,
            batch_size=4,
            max_length=256,
        )
        kwargs = dict(
            accelerator="cpu",
            devices=1,
            max_steps=max_steps,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            default_root_dir=tmp_path,
        )
        kwargs.update(trainer_kwargs)
        return module, data, Trainer(**kwargs)

    return make
