"""The Lightning Trainer with safe checkpoint files and selftt's extra subcommand, ``translate``."""

from __future__ import annotations

import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelSummary, ProgressBar
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.strategies import FSDPStrategy

import selftt
from selftt.datamodules.datamodule import SelfTTDataModule
from selftt.errors import ConfigError, DataError
from selftt.modules import SelfTTModule
from selftt.training.adapter_export import prompt_record
from selftt.training.checkpoint_io import SafeCheckpointIO, load_weights_only
from selftt.training.model_export import (
    MergeDType,
    check_export_output,
    export_trained_model,
    load_trained_adapter,
)
from selftt.training.rng_state import TrainingRNGState
from selftt.translation.callback import SelfTranslateCallback
from selftt.translation.dataset_export import export_translated_dataset, push_dataset_to_hub
from selftt.utils.paths import check_new_folder

_SPECIAL_CKPT_PATHS = ("last", "best", "hpc", "registry")


def check_checkpoint(path: str | Path, lora: dict | None = None, base_model: str | None = None) -> dict[str, Any]:
    """Read ``--ckpt_path`` before any model loads: it must exist, load with weights_only=True,
    be a selftt checkpoint and match the run's LoRA settings and base model where given."""
    checkpoint = load_weights_only(path)
    meta = checkpoint.get("selftt")
    if not isinstance(meta, dict) or "state_dict" not in checkpoint:
        raise DataError(path, "not a selftt checkpoint (it has no 'selftt' section or no 'state_dict')")
    if lora is not None and meta.get("lora") not in (None, lora):
        raise DataError(
            path, f"written with LoRA settings {meta['lora']}, but model.lora is {lora}; use the same settings to resume"
        )
    if base_model is not None and meta.get("base_model") not in (None, base_model):
        raise DataError(
            path,
            f"written for base model '{meta['base_model']}', but model.model_name_or_path is '{base_model}'",
        )
    return checkpoint


def is_checkpoint_file_path(ckpt_path: Any) -> bool:
    """A local file path, not one of Lightning's names ('last', 'best', ...) or a remote URL."""
    if not isinstance(ckpt_path, str | Path) or not str(ckpt_path):
        return False
    return str(ckpt_path) not in _SPECIAL_CKPT_PATHS and "://" not in str(ckpt_path)

log = logging.getLogger(__name__)


def check_launch(num_nodes: int, num_devices: int) -> None:
    """Under ``torchrun`` (torchelastic), the processes the launcher started (``WORLD_SIZE``) must
    be ``trainer.num_nodes`` x ``trainer.devices``: otherwise Lightning's DDP waits forever for
    ranks that never come, or, with one device, every process trains alone. (SLURM launches are
    checked by Lightning itself: ``--nodes`` = num_nodes, ``--ntasks-per-node`` = devices.)

    Raises:
        ConfigError: (``trainer.num_nodes``) on a mismatch.
    """
    import torch.distributed

    if not torch.distributed.is_available() or not torch.distributed.is_torchelastic_launched():
        return
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched != num_nodes * num_devices:
        raise ConfigError(
            "trainer.num_nodes",
            f"torchrun started {launched} processes (WORLD_SIZE) but trainer.num_nodes {num_nodes} x "
            f"trainer.devices {num_devices} = {num_nodes * num_devices}; set them to torchrun's --nnodes and "
            "--nproc_per_node (and trainer.strategy ddp)",
        )


def _no_zero_step_stop(record: logging.LogRecord) -> bool:
    """A logging filter: drop Lightning's "stopped: `max_steps=0` reached" (``translate`` trains nothing)."""
    return "`max_steps=0` reached" not in record.getMessage()


class SelfTTTrainer(Trainer):
    """A Lightning ``Trainer`` whose checkpoints are written atomically and read with
    ``weights_only=True``, that checks ``ckpt_path`` before loading the model, that keeps
    training's random state in its checkpoints (``TrainingRNGState``, added unless given), and
    that can run the self-translation step alone (``translate``) and export a trained model
    (``export``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if type(self.strategy.checkpoint_io) is TorchCheckpointIO:  # not a user's own CheckpointIO
            self.strategy.checkpoint_io = SafeCheckpointIO()
        if not any(isinstance(callback, TrainingRNGState) for callback in self.callbacks):
            self.callbacks.insert(0, TrainingRNGState())  # before ModelCheckpoint, which saves in the same hook
        check_launch(self.num_nodes, self.num_devices)

    def _check_strategy(self, model: LightningModule | None) -> None:
        """FSDP cannot shard a bitsandbytes 4-bit base (Lightning issue 20855): refused in one
        line before any process starts (``quantization: auto`` resolves to ``none`` under FSDP)."""
        if isinstance(self.strategy, FSDPStrategy) and isinstance(model, SelfTTModule) and model.quantization == "4bit":
            raise ConfigError(
                "model.quantization",
                "4bit (QLoRA) cannot be sharded with trainer.strategy fsdp: Lightning's FSDP does not accept a "
                "bitsandbytes 4-bit base (Lightning issue 20855); use trainer.strategy ddp with quantization 4bit "
                "(each GPU holds its own 4-bit copy), or quantization none (LoRA on bf16 weights) with fsdp",
            )

    def _check_ckpt_path(self, ckpt_path: Any, model: LightningModule | None) -> None:
        if is_checkpoint_file_path(ckpt_path):
            ours = model if isinstance(model, SelfTTModule) else None
            check_checkpoint(
                ckpt_path,
                lora=asdict(ours.lora) if ours is not None else None,
                base_model=ours.model_name_or_path if ours is not None else None,
            )

    def fit(self, model: LightningModule, *args: Any, ckpt_path: Any = None, **kwargs: Any) -> None:
        self._check_strategy(model)
        self._check_ckpt_path(ckpt_path, model)
        return super().fit(model, *args, ckpt_path=ckpt_path, **kwargs)

    def validate(self, model: LightningModule | None = None, *args: Any, ckpt_path: Any = None, **kwargs: Any):
        self._check_strategy(model)
        self._check_ckpt_path(ckpt_path, model)
        return super().validate(model, *args, ckpt_path=ckpt_path, **kwargs)

    def test(self, model: LightningModule | None = None, *args: Any, ckpt_path: Any = None, **kwargs: Any):
        self._check_strategy(model)
        self._check_ckpt_path(ckpt_path, model)
        return super().test(model, *args, ckpt_path=ckpt_path, **kwargs)

    def predict(self, model: LightningModule | None = None, *args: Any, ckpt_path: Any = None, **kwargs: Any):
        self._check_strategy(model)
        self._check_ckpt_path(ckpt_path, model)
        return super().predict(model, *args, ckpt_path=ckpt_path, **kwargs)

    def translate(
        self,
        model: LightningModule,
        datamodule: LightningDataModule | None = None,
        export: str | None = None,
        export_license: str = "unknown",
        push_to_hub: str | None = None,
    ) -> None:
        """Translate what the cache lacks for the 'tgt'/'cs' components and filter it; no training.

        Writes the data set (``dataset.jsonl`` and ``stats.json``) in the cache folder.

        It is ``fit`` with no optimizer step and no sanity check: the same processes (one per
        device under DDP), model loading and SelfTranslateCallback as a training run, without
        the model summary (nothing is trained).

        Args:
            export: Also write the kept translations as a Hugging Face data set into this new
                folder: ``<lang>/train.parquet`` and a dataset card (``README.md``: model and
                revision, prompt and shots, decoding, filters with counts, licence); read it with
                ``datasets.load_dataset(export, lang)``.
            export_license: The licence of the source data, for the card (e.g. ``cc-by-sa-4.0``).
            push_to_hub: Also upload the exported folder to this Hub dataset repository
                (``user/name``, private); needs ``export``, network and a token.

        Raises:
            ConfigError: ``export`` is not a new or empty folder; ``push_to_hub`` without
                ``export``; no translation step configured.
        """
        if export is not None:
            check_new_folder("export", export)
        if push_to_hub is not None and export is None:
            raise ConfigError("push_to_hub", "needs --export DIR: the folder that is uploaded")
        translation = next((c for c in self.callbacks if isinstance(c, SelfTranslateCallback)), None)
        # Nothing is trained: no model summary, no epoch/step bar (the translator shows its own),
        # and not Lightning's "`Trainer.fit` stopped: `max_steps=0` reached." line.
        self.callbacks = [c for c in self.callbacks if not isinstance(c, (ModelSummary, ProgressBar))]
        self.fit_loop.epoch_loop.max_steps = 0
        self.num_sanity_val_steps = 0
        lightning_info = logging.getLogger("lightning.pytorch.utilities.rank_zero")
        lightning_info.addFilter(_no_zero_step_stop)
        try:
            self.fit(model, datamodule=datamodule)
        finally:
            lightning_info.removeFilter(_no_zero_step_stop)
        if export is None or not self.is_global_zero:
            return
        if translation is None or not translation.outcomes:
            raise ConfigError("data.components", "nothing to export: no component asks for 'tgt' or 'cs' translations")
        outcomes = list(translation.outcomes.values())
        sources = [c for c in self.datamodule.components if c.name == "src"]
        made_with = {
            "source data": "; ".join(
                f"`{c.path}` ({c.lang}{f', split {c.split}' if c.split else ''}{f', first {c.limit}' if c.limit else ''})"
                for c in sources
            ),
            "engine": translation.engine.name,
            "made with": f"selftt {selftt.__version__}",
        }
        folder = export_translated_dataset(
            outcomes, self.datamodule.task, translation.settings.filters, Path(export).expanduser(), export_license, made_with
        )
        rows = ", ".join(f"{o.lang} {len(o.pairs)}" for o in outcomes)
        print(f"selftt: translated data set written to {folder} (kept rows: {rows})", flush=True)
        if not any(o.pairs for o in outcomes):
            log.warning("the filters kept no translation: %s holds only its card, no data files", folder)
        else:
            print(f"selftt: load it with datasets.load_dataset('{folder}', LANG, split='train')", flush=True)
        if push_to_hub is not None:
            print(f"selftt: uploaded to {push_dataset_to_hub(folder, push_to_hub)}", flush=True)

    def export(
        self,
        model: LightningModule,
        datamodule: LightningDataModule | None = None,
        output: str | None = None,
        merge: bool = False,
        dtype: MergeDType = "auto",
        ckpt_path: str | None = None,
    ) -> Path:
        """Export a trained adapter: as a PEFT folder, or merged into the base model (--merge).

        No training, no data read; runs on the CPU in this process. Both kinds of folder hold
        ``selftt_prompt.json``, the task and prompt format of the config.

        Args:
            output: Required (the default ``None`` is refused): the new (or empty) folder to write into.
            merge: Merge the adapter into the base model's full-precision weights and write a
                plain Hugging Face model folder (no peft needed to load it); a 4-bit base is
                reloaded in ``dtype`` first.
            dtype: With ``merge``: the dtype of the merged weights; ``auto`` is the dtype the
                base model's weights were published in.
            ckpt_path: A selftt checkpoint whose adapter weights to export (instead of
                ``model.adapter_path``).

        Raises:
            ConfigError: ``output`` missing or not a new/empty folder; no adapter given.
        """
        if not isinstance(model, SelfTTModule):
            raise ConfigError("model", "export needs selftt's SelfTTModule")
        if output is None:
            raise ConfigError("output", "required: the new folder to write the export into (--output DIR)")
        check_export_output(output)
        checkpoint = None  # read once: checked, then loaded
        if ckpt_path is not None:
            checkpoint = check_checkpoint(ckpt_path, lora=asdict(model.lora), base_model=model.model_name_or_path)
        load_trained_adapter(model, checkpoint)
        ours = datamodule if isinstance(datamodule, SelfTTDataModule) else None
        folder = export_trained_model(model, output, merge, dtype, prompt_record(model, ours))
        what = "merged model (transformers, no peft needed)" if merge else "PEFT adapter"
        print(f"selftt: {what} written to {folder}", flush=True)
        return folder
