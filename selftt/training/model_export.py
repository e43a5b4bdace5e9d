"""``python -m selftt export``: a trained adapter as a PEFT folder, or merged into its base model as
a plain Hugging Face model folder that loads without peft."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any, Literal

import torch

from selftt.errors import ConfigError
from selftt.modules import SelfTTModule
from selftt.modules.loading import load_causal_lm
from selftt.modules.packaged_models import resolve_model_path
from selftt.training.adapter_export import PROMPT_FILE
from selftt.utils.atomic import write_dir_atomic
from selftt.utils.paths import check_new_folder

log = logging.getLogger(__name__)

MergeDType = Literal["auto", "float32", "bfloat16", "float16"]

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def check_export_output(output: str | Path) -> Path:
    """The export folder (``--output``): new or empty (see ``check_new_folder``)."""
    return check_new_folder("output", output)


def load_trained_adapter(module: SelfTTModule, checkpoint: dict[str, Any] | None) -> None:
    """Load ``module``'s model with its trained adapter: ``model.adapter_path``, or the adapter
    weights of a selftt checkpoint (as ``check_checkpoint`` read and checked it: weights only,
    the config's base model and LoRA settings).

    Raises:
        ConfigError: (``model.adapter_path``) when neither an adapter nor a checkpoint is given:
            a fresh adapter changes nothing, so there is nothing to export.
    """
    if module.adapter_path is None and checkpoint is None:
        raise ConfigError(
            "model.adapter_path",
            "export needs a trained adapter: set model.adapter_path (a PEFT folder) or --ckpt_path (a checkpoint)",
        )
    module.configure_model()
    if checkpoint is not None:
        module.on_load_checkpoint(checkpoint)  # refuses a checkpoint of another model or LoRA setting
        module.load_state_dict(checkpoint["state_dict"], strict=False)
    module.model.eval()


def merge_dtype(dtype: MergeDType, base_config: Any) -> torch.dtype:
    """The dtype the merged weights are written in: ``auto`` is the dtype the base model's weights
    were published in (``config.dtype``, float32 when it names none), never a 4-bit one."""
    if dtype != "auto":
        return _DTYPES[dtype]
    stored = getattr(base_config, "dtype", None) or getattr(base_config, "torch_dtype", None)
    if isinstance(stored, str):
        stored = _DTYPES.get(stored.removeprefix("torch."))
    return stored if isinstance(stored, torch.dtype) and stored in _DTYPES.values() else torch.float32


def merged_in_place(module: SelfTTModule, target: torch.dtype) -> bool:
    """Can the trained model itself be merged (no second load of the base model)? When its base
    weights are full precision in ``target`` already and were not set up for training in ways that
    would be saved with it (gradient checkpointing)."""
    if module.resolved_quantization == "4bit" or module.gradient_checkpointing:
        return False
    return all(p.dtype == target for p in module.model.parameters())


def merged_model(module: SelfTTModule, dtype: MergeDType):
    """The trained model with its adapter merged into the base weights (peft ``merge_and_unload``),
    in ``dtype``: a plain ``PreTrainedModel``. The module's own model is merged where its weights
    are full precision in that dtype already (``merged_in_place``; the module's model is used up);
    otherwise the adapter is saved to a temporary folder, the module's model released and the base
    reloaded on the CPU (one copy of the model in memory at a time), and the adapter merged into
    it. A 4-bit base is never merged into: LoRA's update added to NF4 weights would be rounded away
    (QLoRA, Dettmers et al. 2023, merges into the 16-bit weights)."""
    from peft import PeftModel
    from transformers import AutoConfig

    path = str(resolve_model_path(module.model_name_or_path))
    published = AutoConfig.from_pretrained(path, trust_remote_code=module.trust_remote_code)
    target = merge_dtype(dtype, published)
    if merged_in_place(module, target):
        merged = module.model.merge_and_unload()
        module.model = None
        merged.eval()
        return merged
    if module.resolved_quantization == "4bit":
        log.warning(
            "the base model was loaded in 4-bit (NF4) for training; merging into its original weights "
            "reloaded in %s instead (never into 4-bit ones)",
            str(target).removeprefix("torch."),
        )
    with tempfile.TemporaryDirectory(prefix="selftt-export-adapter-") as adapter:
        module.model.save_pretrained(adapter, safe_serialization=True)
        module.model = None  # the adapter is saved: release the trained copy before the reload
        base = load_causal_lm(path, "none", torch.device("cpu"), target, module.trust_remote_code)
        merged = PeftModel.from_pretrained(base, adapter).merge_and_unload()
    merged.eval()
    return merged


def export_trained_model(module: SelfTTModule, output: str | Path, merge: bool, dtype: MergeDType, prompt: dict) -> Path:
    """Write the trained adapter (``merge=False``: a PEFT folder, as fit's ``adapter/``) or the
    merged model (``merge=True``: safetensors weights, config, generation config and tokenizer,
    loadable by ``AutoModelForCausalLM.from_pretrained`` without peft; the module's model is used
    up, see ``merged_model``), each with the prompt record ``selftt_prompt.json``, atomically into
    ``output``. Returns the folder."""
    output = check_export_output(output)

    def write(folder: Path) -> None:
        if not merge:
            module.export_adapter(folder)
        else:
            model = merged_model(module, dtype)
            model.save_pretrained(folder, safe_serialization=True)
            module.tokenizer.save_pretrained(folder)
        record = {**prompt, "merged": merge}
        (folder / PROMPT_FILE).write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")

    write_dir_atomic(output, write)
    return output


__all__ = ["check_export_output", "export_trained_model", "load_trained_adapter", "merge_dtype", "merged_in_place", "merged_model"]
