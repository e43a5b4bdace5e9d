"""The model part of the translation cache key: whole-content digests, remembered cheaply."""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from selftt.translation.cache import model_identity
from selftt.utils import digest

ASSET = Path(__file__).resolve().parents[1] / "assets" / "tiny-llama"
MIB = 1 << 20


@pytest.fixture(autouse=True)
def _own_selftt_home(tmp_path, monkeypatch):
    """Digest memos go to this test's folder; nothing remembered from other tests."""
    monkeypatch.setenv("SELFTT_HOME", str(tmp_path / "selftt-home"))
    monkeypatch.setattr(digest, "_MEMO", {})


@pytest.fixture
def opens(monkeypatch) -> list[str]:
    """The paths ``selftt.utils.digest`` opens to hash, in order."""
    seen: list[str] = []

    def counting_open(file, *args, **kwargs):
        seen.append(os.path.realpath(file))
        return builtins.open(file, *args, **kwargs)

    monkeypatch.setattr(digest, "open", counting_open, raising=False)
    return seen


def _later(monkeypatch) -> None:
    """Hash as if 10 s after the files were written, so their memos are trusted."""
    monkeypatch.setattr(digest, "_now_ns", lambda: time.time_ns() + 10_000_000_000)


def _model_over_one_mib(folder: Path) -> Path:
    """tiny-llama with 6 layers (about 1.4 MB): the last layers lie past the first MiB."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    shutil.copytree(ASSET, folder)
    config = AutoConfig.from_pretrained(folder)
    config.num_hidden_layers = 6
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(folder)
    assert (folder / "model.safetensors").stat().st_size > MIB
    return folder


def _change_attention_weight_in_place(weights: Path, restore_mtime: bool) -> None:
    """Rewrite one attention weight stored past the first MiB, into the same file (same inode,
    same size): the hardest case, as a tool writing in place would do."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save

    before = weights.stat()
    raw = weights.read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_len])
    name = next(
        n
        for n, info in header.items()
        if "self_attn" in n and 8 + header_len + info["data_offsets"][0] >= MIB
    )
    with safe_open(weights, "pt") as f:
        metadata = f.metadata()
    tensors = load_file(weights)
    tensors[name] = tensors[name] + 0.5
    with weights.open("r+b") as f:
        f.write(save(tensors, metadata=metadata))
    if restore_mtime:
        os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = weights.stat()
    assert (after.st_size, after.st_ino) == (before.st_size, before.st_ino)
    assert not restore_mtime or after.st_mtime_ns == before.st_mtime_ns


@pytest.mark.parametrize("restore_mtime", [False, True], ids=["plain", "mtime-restored"])
def test_weights_changed_in_place_at_the_same_size_change_the_identity(tmp_path, restore_mtime):
    folder = _model_over_one_mib(tmp_path / "model")
    first = model_identity(str(folder), None, "none")
    _change_attention_weight_in_place(folder / "model.safetensors", restore_mtime)
    assert model_identity(str(folder), None, "none") != first


def test_an_unchanged_file_is_read_once_then_remembered_across_runs(tmp_path, monkeypatch, opens):
    folder = shutil.copytree(ASSET, tmp_path / "model")
    weights = os.path.realpath(folder / "model.safetensors")
    _later(monkeypatch)
    first = model_identity(str(folder), None, "none")
    assert first["files"]["model.safetensors"] == hashlib.sha256(Path(weights).read_bytes()).hexdigest()
    assert opens.count(weights) == 1
    assert model_identity(str(folder), None, "none") == first  # same process
    monkeypatch.setattr(digest, "_MEMO", {})  # a new run: only the memo on disk is left
    assert model_identity(str(folder), None, "none") == first
    assert opens.count(weights) == 1
    assert len(list((tmp_path / "selftt-home" / "digests").glob("*.json"))) == len(first["files"])


def test_an_old_memo_does_not_hide_a_same_size_change_with_mtime_restored(tmp_path, monkeypatch, opens):
    """ctime moves on every write and cannot be set back, so the memo no longer matches."""
    folder = _model_over_one_mib(tmp_path / "model")
    weights = folder / "model.safetensors"
    _later(monkeypatch)
    first = model_identity(str(folder), None, "none")
    ctime = weights.stat().st_ctime_ns
    time.sleep(0.05)  # more than one tick of the kernel's coarse file clock
    _change_attention_weight_in_place(weights, restore_mtime=True)
    if weights.stat().st_ctime_ns == ctime:
        pytest.skip("this file system's ctime is coarser than the test's wait")
    monkeypatch.setattr(digest, "_MEMO", {})
    assert model_identity(str(folder), None, "none") != first
    assert opens.count(os.path.realpath(weights)) == 2


def test_a_file_written_just_now_is_not_trusted_to_a_memo(tmp_path, opens):
    """Two writes in one clock tick leave equal timestamps: a fresh file is hashed again."""
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"a" * 100)
    first = digest.file_sha256(path)
    path.write_bytes(b"b" * 100)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))
    assert digest.file_sha256(path) != first
    assert opens.count(os.path.realpath(path)) == 2
    assert not (tmp_path / "selftt-home" / "digests").exists()


def test_a_damaged_or_foreign_memo_is_ignored(tmp_path, monkeypatch, opens):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"weights")
    _later(monkeypatch)
    right = digest.file_sha256(path)
    memo = digest._memo_path(os.path.realpath(path))
    for text in ("{trunc", json.dumps({**json.loads(memo.read_text()), "path": "/elsewhere"})):
        memo.write_text(text)
        monkeypatch.setattr(digest, "_MEMO", {})
        assert digest.file_sha256(path) == right
    assert opens.count(os.path.realpath(path)) == 3


def test_tokenizer_and_config_files_are_part_of_the_identity(tmp_path):
    folder = shutil.copytree(ASSET, tmp_path / "model")
    (folder / "tokenizer.model").write_bytes(b"sentencepiece-1")
    (folder / "chat_template.jinja").write_text("{{ messages }}")
    (folder / "notes.md").write_text("not part of the model")
    first = model_identity(str(folder), None, "none")
    assert {"tokenizer.model", "chat_template.jinja", "config.json", "tokenizer.json"} <= set(first["files"])
    assert "notes.md" not in first["files"]
    (folder / "tokenizer.model").write_bytes(b"sentencepiece-2")
    assert model_identity(str(folder), None, "none") != first


@pytest.mark.slow
def test_translate_again_after_weights_change_in_place(tmp_path, math_file):
    """The issue's example: translate, change one attention weight in place, translate again."""
    from selftt.modules import LoraSettings, SelfTTModule
    from selftt.modules.generation import GenerationSettings
    from selftt.tasks import get_task
    from selftt.translation.filters import FilterSettings
    from selftt.translation.prompt import TranslationPrompt
    from selftt.translation.translator import SelfTranslator, TranslatingModel, TranslationSettings
    from selftt.utils.distributed import Distributed

    folder = _model_over_one_mib(tmp_path / "model")
    examples = get_task("math").load(str(math_file), "en")[:2]
    translator = SelfTranslator(
        get_task("math"),
        TranslationSettings(
            prompt=TranslationPrompt(n_shots=2),
            generation=GenerationSettings(max_new_tokens=4),
            max_new_tokens_ratio=1.0,
            max_new_tokens_extra=2,
            filters=FilterSettings(
                empty=False, untranslated=False, length_ratio=False, repetition=False, script=False, numbers=False
            ),
            cache_dir=tmp_path / "cache",
            chunk_size=2,
        ),
    )

    def translate():
        module = SelfTTModule(str(folder), quantization="none", lora=LoraSettings(r=4, alpha=8, dropout=0.0))
        module.configure_model()
        outcome = translator.run(TranslatingModel.of_module(module), examples, "en", "de", Distributed())
        return outcome.translated_now, outcome.cached

    assert translate() == (2, 0)
    assert translate() == (0, 2)
    _change_attention_weight_in_place(folder / "model.safetensors", restore_mtime=False)
    assert translate() == (2, 0), "stale translations of the old weights were reused"
