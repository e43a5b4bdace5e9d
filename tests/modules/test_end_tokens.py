"""Generation stops where the model ends its turn: every end token of the generation config and
the chat template's end of turn, in every generation selftt runs (one BatchedGenerator)."""

from __future__ import annotations

import shutil

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from selftt.modules.end_tokens import chat_end_of_turn_id, end_token_ids
from selftt.modules.generation import BatchedGenerator, GenerationSettings


@pytest.fixture
def chat_model_two_ends(tiny_chat_model, tmp_path):
    """The tiny chat model with an ``<end_of_turn>`` special token that its chat template writes
    after each message, and a generation config listing two end tokens (as Gemma 3's does)."""
    folder = tmp_path / "chat"
    shutil.copytree(tiny_chat_model, folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.add_special_tokens({"additional_special_tokens": ["<end_of_turn>"]})
    tokenizer.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<end_of_turn>\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
    )
    tokenizer.save_pretrained(folder)
    eot = tokenizer.convert_tokens_to_ids("<end_of_turn>")
    model = AutoModelForCausalLM.from_pretrained(folder)
    model.resize_token_embeddings(len(tokenizer))
    model.generation_config = GenerationConfig(eos_token_id=[tokenizer.eos_token_id, eot], bos_token_id=1)
    return model, tokenizer, eot


def test_end_tokens_are_the_generation_configs_and_the_chat_end_of_turn(chat_model_two_ends):
    model, tokenizer, eot = chat_model_two_ends
    assert chat_end_of_turn_id(tokenizer) == eot
    assert end_token_ids(model, tokenizer) == [tokenizer.eos_token_id, eot]


def test_chat_end_of_turn_without_a_template_or_after_plain_text(tiny_model, tiny_chat_model):
    assert chat_end_of_turn_id(AutoTokenizer.from_pretrained(tiny_model)) is None
    chat = AutoTokenizer.from_pretrained(tiny_chat_model)  # its template ends a turn with </s>
    assert chat_end_of_turn_id(chat) == chat.eos_token_id


def test_generate_is_given_every_end_token(chat_model_two_ends, monkeypatch):
    model, tokenizer, eot = chat_model_two_ends
    seen = {}
    real = model.generate

    def recording(**kwargs):
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(model, "generate", recording)
    BatchedGenerator(model, tokenizer, GenerationSettings(max_new_tokens=3)).generate(["What is the capital?"])
    assert seen["eos_token_id"] == [tokenizer.eos_token_id, eot]


@pytest.mark.parametrize("which", ["eos", "end_of_turn"])
def test_text_ends_at_any_end_token_and_says_so(chat_model_two_ends, which):
    model, tokenizer, eot = chat_model_two_ends
    generator = BatchedGenerator(model, tokenizer, GenerationSettings(max_new_tokens=8))
    end = tokenizer.eos_token_id if which == "eos" else eot
    berlin = tokenizer("Berlin", add_special_tokens=False)["input_ids"]
    user = tokenizer("user Next", add_special_tokens=False)["input_ids"]
    result = generator._finish([*berlin, end, *user], budget=8, stop=())
    assert (result.text, result.finish_reason) == ("Berlin", "end")


def test_finish_reasons_for_stop_strings_and_the_token_budget(tiny_model):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    generator = BatchedGenerator(model, tokenizer, GenerationSettings())
    ids = tokenizer("the dog\nbarks", add_special_tokens=False)["input_ids"]
    assert generator._finish(ids, budget=len(ids), stop=["\n"]).finish_reason == "stop"
    cut = generator._finish(ids, budget=2, stop=["\n"])
    assert cut.finish_reason == "length" and len(tokenizer(cut.text, add_special_tokens=False)["input_ids"]) <= 2


def test_generation_with_two_end_tokens_stops_at_the_second(chat_model_two_ends):
    """A model that says end-of-turn at once: selftt stops there, as HF generate does with the
    model's own generation config (before: it ran on to the budget)."""
    model, tokenizer, eot = chat_model_two_ends

    class SaysEndOfTurn(torch.nn.Module):  # every position's logits favour <end_of_turn>
        def forward(self, hidden):
            logits = torch.zeros(*hidden.shape[:-1], len(tokenizer))
            logits[..., eot] = 1.0
            return logits

    model.lm_head = SaysEndOfTurn()
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of Germany? One word."}],
        tokenize=False, add_generation_prompt=True,
    )
    enc = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    hf = model.generate(**enc, max_new_tokens=6, do_sample=False, pad_token_id=0)
    assert hf.shape[1] == enc["input_ids"].shape[1] + 1  # HF stops after <end_of_turn>
    (result,) = BatchedGenerator(model, tokenizer, GenerationSettings(max_new_tokens=6)).generate_detailed(
        [prompt], add_special_tokens=False
    )
    assert result.finish_reason == "end" and result.text == ""
