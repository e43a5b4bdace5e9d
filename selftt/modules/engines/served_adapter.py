"""The trained model as vLLM serves it for ``validate``, ``test`` and ``predict``: the base model's
folder plus, where the module holds trained adapter weights, a copy of that adapter as a LoRA."""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from selftt.modules.engines.vllm_engine import VLLMGenerator, vllm_for_model

if TYPE_CHECKING:
    from selftt.modules.causal_lm import SelfTTModule

log = logging.getLogger(__name__)


@dataclass
class ServedAdapter:
    """A vLLM worker serving a module's model, and the adapter folder it was given (removed on close)."""

    generator: VLLMGenerator
    adapter_folder: Path | None

    @classmethod
    def of_module(cls, module: SelfTTModule) -> ServedAdapter:
        """Serve ``module``'s base model with its adapter when the adapter holds trained weights
        (``model.adapter_path`` or a loaded ``--ckpt_path``); a fresh adapter (LoRA B = 0) changes
        nothing and is left out. The adapter is written in PEFT format (safetensors) to a
        temporary folder, so a checkpoint's weights are served as they were loaded."""
        folder, rank = None, None
        if module.adapter_path is not None or module.checkpoint_step is not None:
            folder = Path(tempfile.mkdtemp(prefix="selftt-served-adapter-"))
            module.model.save_pretrained(str(folder), safe_serialization=True)
            rank = int(module.model.peft_config["default"].r)
            log.info("vLLM serves the adapter of rank %d (a copy in %s)", rank, folder)
        generator = vllm_for_model(
            module.model,
            module.tokenizer,
            str(module.model_path),
            module.generation,
            module.engine,
            "model.engine",
            lora_path=str(folder) if folder else None,
            lora_rank=rank,
        )
        return cls(generator, folder)

    def close(self) -> None:
        self.generator.close()
        if self.adapter_folder is not None:
            shutil.rmtree(self.adapter_folder, ignore_errors=True)
