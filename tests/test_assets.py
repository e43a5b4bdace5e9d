"""The committed tiny-model assets load offline and behave like a small Llama (see tests/assets/make_assets.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

ASSETS = Path(__file__).resolve().parent / "assets"
PLAIN = ASSETS / "tiny-llama"
CHAT = ASSETS / "tiny-llama-chat"

SENTENCES = {
    "en": "Question: Tom has 3 apples and buys 4 more. How many?\nAnswer: 3+4=<<3+4=7>>7\n#### 7",
    "de": "Frage: Wie viele Äpfel hat Jürgen? Antwort: „Größe“ – ß, 12,5 %.",
    "ru": "Вопрос: Сколько яблок у Ивана?  Ответ: «двенадцать» (12) яблок.",
    "th": "คำถาม: สมชายมีแอปเปิลกี่ลูก\nคำตอบ: 5 ลูก ๆ",
    "zh": "问题：小明有几个苹果？答案：7个。",
    "unseen": "  tabs\tand emoji 🚀, 한국어, عربى, and trailing spaces  \n\n",
}


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def tok():
    return AutoTokenizer.from_pretrained(PLAIN, local_files_only=True)


@pytest.fixture(scope="module")
def chat_tok():
    return AutoTokenizer.from_pretrained(CHAT, local_files_only=True)


@pytest.fixture(scope="module")
def model():
    return AutoModelForCausalLM.from_pretrained(PLAIN, local_files_only=True)


def _load_make_assets():
    spec = importlib.util.spec_from_file_location("make_assets", ASSETS / "make_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_assets_are_small():
    total = sum(f.stat().st_size for f in ASSETS.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
    assert total < 3 * 1024 * 1024
    for d in (PLAIN, CHAT):
        assert (d / "model.safetensors").stat().st_size < 1024 * 1024
        assert not list(d.glob("*.bin"))


def test_tokenizer_config(tok):
    assert (tok.pad_token, tok.bos_token, tok.eos_token, tok.unk_token) == ("<pad>", "<s>", "</s>", "<unk>")
    assert (tok.pad_token_id, tok.bos_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    assert tok.padding_side == "right"
    assert tok.model_max_length == 1024
    assert tok.chat_template is None
    assert 1000 <= len(tok) <= 2000


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_round_trip(tok, lang):
    text = SENTENCES[lang]
    ids = tok(text)["input_ids"]
    assert ids[0] == tok.bos_token_id and tok.eos_token_id not in ids
    assert tok.unk_token_id not in ids
    assert tok.decode(ids, skip_special_tokens=True) == text
    assert tok.decode(tok.encode(text, add_special_tokens=False)) == text


def test_markers_are_learned(tok):
    # Frequent corpus words get merged, so prompts are not byte-by-byte long.
    for word in ("Question", "Answer", "####", "<<", ">>"):
        assert len(tok.encode(word, add_special_tokens=False)) == 1, word
    assert len(tok.encode("问题：答案", add_special_tokens=False)) <= 3


def test_right_padding(tok):
    batch = tok(["hi", "hello there, friend"], padding=True, return_tensors="pt")
    assert batch["input_ids"][0, -1].item() == tok.pad_token_id
    assert batch["attention_mask"][0, -1].item() == 0
    assert batch["attention_mask"][1].all()


def test_chat_template(chat_tok, tok):
    messages = [{"role": "user", "content": "hi"}]
    text = chat_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == "<s><|user|>\nhi</s>\n<|assistant|>\n"
    ids = chat_tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, return_dict=False)
    assert ids == chat_tok(text, add_special_tokens=False)["input_ids"]
    assert ids.count(chat_tok.bos_token_id) == 1 and ids.count(chat_tok.eos_token_id) == 1
    enc = chat_tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
    assert list(enc["input_ids"]) == ids
    # Same vocabulary as the plain folder.
    assert chat_tok.get_vocab() == tok.get_vocab()


def test_model_forward(model, tok):
    assert model.dtype == torch.float32
    cfg = model.config
    assert (cfg.vocab_size, cfg.hidden_size, cfg.num_hidden_layers) == (len(tok), 64, 2)
    assert (cfg.num_attention_heads, cfg.num_key_value_heads, cfg.intermediate_size) == (4, 2, 128)
    assert not cfg.tie_word_embeddings
    assert (cfg.pad_token_id, cfg.bos_token_id, cfg.eos_token_id) == (0, 1, 2)
    gen = model.generation_config
    assert (gen.pad_token_id, gen.bos_token_id, gen.eos_token_id) == (0, 1, 2)
    batch = tok(SENTENCES["de"], return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape == (1, batch["input_ids"].shape[1], len(tok))
    assert torch.isfinite(logits).all()


def test_generate(model):
    tok_left = AutoTokenizer.from_pretrained(PLAIN, local_files_only=True, padding_side="left")
    batch = tok_left(["Frage:", "问题：答案"], padding=True, return_tensors="pt")
    out = model.generate(**batch, max_new_tokens=4, do_sample=False)
    assert out.shape[0] == 2 and out.shape[1] <= batch["input_ids"].shape[1] + 4


def test_chat_folder_has_same_weights():
    plain, chat = load_file(PLAIN / "model.safetensors"), load_file(CHAT / "model.safetensors")
    assert plain.keys() == chat.keys()
    assert all(torch.equal(plain[k], chat[k]) for k in plain)


def test_make_assets_reproduces_committed_files(tmp_path):
    make_assets = _load_make_assets()
    paths = make_assets.make_assets(tmp_path)
    for kind, committed in (("plain", PLAIN), ("chat", CHAT)):
        fresh = paths[kind]
        assert sorted(f.name for f in fresh.iterdir()) == sorted(f.name for f in committed.iterdir())
        for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
            if (committed / name).exists():
                assert (fresh / name).read_bytes() == (committed / name).read_bytes(), name
        # The JSON configs are equal up to the transformers version they record.
        for name in ("config.json", "generation_config.json"):
            old, new = (json.loads((d / name).read_text()) for d in (committed, fresh))
            old.pop("transformers_version", None)
            new.pop("transformers_version", None)
            assert old == new, name
        a, b = load_file(committed / "model.safetensors"), load_file(fresh / "model.safetensors")
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
