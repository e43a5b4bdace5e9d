"""Exports the trained adapter in PEFT format at the end of fit."""

from __future__ import annotations

import json
from pathlib import Path

from lightning.pytorch import Callback, Trainer
from lightning.pytorch.utilities import rank_zero_info

from selftt.datamodules.datamodule import SelfTTDataModule
from selftt.datamodules.prompting import PromptFormatter
from selftt.modules import SelfTTModule
from selftt.utils.atomic import write_dir_atomic
from selftt.utils.paths import check_path_component

PROMPT_FILE = "selftt_prompt.json"
"""Beside the adapter: the task and prompt format it was trained with."""


def prompt_record(module: SelfTTModule, datamodule: SelfTTDataModule | None) -> dict:
    """What ``PROMPT_FILE`` holds: the base model, the task and its options, and the prompt format
    (``PromptFormatter.describe``) that the data module builds prompts with."""
    formatter = None
    if datamodule is not None:
        formatter = datamodule.formatter or PromptFormatter(module.shared_tokenizer(), datamodule.prompt_style)
    return {
        "base_model": module.model_name_or_path,
        "task": datamodule.task.name if datamodule else None,
        "task_options": datamodule.task_options if datamodule else None,
        "prompt_format": formatter.describe() if formatter else None,
    }


class AdapterExport(Callback):
    """At the end of fit, write the adapter (``PeftModel.from_pretrained`` loads it), the
    tokenizer and the prompt format into ``<run dir>/<dirname>`` (rank 0, atomically)."""

    def __init__(self, dirname: str = "adapter", enabled: bool = True) -> None:
        """
        Args:
            dirname: Folder name inside the run directory (``trainer.log_dir``).
            enabled: Set to false to skip the export.
        """
        self.dirname = check_path_component("adapter_export.dirname", dirname)
        self.enabled = enabled
        self.path: Path | None = None

    def on_fit_end(self, trainer: Trainer, pl_module: SelfTTModule) -> None:
        if not self.enabled or trainer.global_step == 0:  # nothing trained (e.g. `translate`)
            return
        self.path = Path(trainer.log_dir or trainer.default_root_dir) / self.dirname
        if not trainer.is_global_zero:
            return
        datamodule = trainer.datamodule if isinstance(trainer.datamodule, SelfTTDataModule) else None
        prompt = prompt_record(pl_module, datamodule)

        def write(folder: Path) -> None:
            pl_module.export_adapter(folder)
            (folder / PROMPT_FILE).write_text(
                json.dumps(prompt, indent=2, ensure_ascii=False), encoding="utf-8"
            )

        write_dir_atomic(self.path, write)
        rank_zero_info(f"selftt: PEFT adapter written to {self.path}")
