"""Generation never depends on batch mates, for every attention layout transformers offers.

Tiny random models of each layout, with a 16-token window or chunk and prompts several times
longer that share a long prefix (the few-shot examples of a translation prompt), generate in one
batch with the default settings (shared-prefix cache on) and one prompt at a time; the greedy
outputs must be equal. Before the prefix reuse was limited to full attention, the sliding,
hybrid and chunked layouts failed here (padding between the prefix and the rest of a row sat
inside the window).
"""

from __future__ import annotations

import pytest
import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from selftt.modules.generation import BatchedGenerator, GenerationSettings
from selftt.modules.prefix_reuse import prefix_reuse_is_exact

WINDOW = 16
BASE = dict(
    hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
    head_dim=16, vocab_size=1280, max_position_embeddings=512, bos_token_id=1, eos_token_id=2, pad_token_id=0,
    initializer_range=0.2,
)
LAYOUTS = {  # model type -> config values; the comment names the layout
    "llama": {},  # full attention
    "mistral": {"sliding_window": WINDOW},  # every layer slides
    "gemma3_text": {  # hybrid: local sliding layers and a global one (Gemma 3)
        "sliding_window": WINDOW, "query_pre_attn_scalar": 16,
        "layer_types": ["sliding_attention", "sliding_attention", "full_attention"],
    },
    "gemma2": {"sliding_window": WINDOW, "query_pre_attn_scalar": 16},  # alternating
    "qwen2": {"use_sliding_window": True, "sliding_window": WINDOW, "max_window_layers": 1},  # by depth
    "cohere2": {"sliding_window": WINDOW},
    "gpt_oss": {"sliding_window": WINDOW, "num_local_experts": 2, "num_experts_per_tok": 1},  # sinks + MoE
    "llama4_text": {  # chunked attention
        "attention_chunk_size": WINDOW, "num_local_experts": 1, "intermediate_size_mlp": 128,
        "no_rope_layers": [1, 1, 0],
    },
}


def _prompts() -> list[str]:
    prefix = " ".join(f"shot{i} says word{i % 7} and word{(i * 3) % 11}." for i in range(8))  # ~4 windows
    rests = ["one two", "the dog runs to the house and back again", "a " * 12, "numbers 12 34 56 78 90 " * 3,
             "short", "what is the answer to the last question of all of these questions here today"]
    return [f"{prefix}\nInput: {rest}\nOutput:" for rest in rests]


@pytest.fixture(scope="module")
def tokenizer(tiny_model_path):
    return AutoTokenizer.from_pretrained(tiny_model_path)


@pytest.fixture(scope="module")
def tiny_model_path():
    from pathlib import Path

    return str(Path(__file__).resolve().parents[1] / "assets" / "tiny-llama")


def _model(model_type: str):
    torch.manual_seed(0)
    config = AutoConfig.for_model(model_type, **{**BASE, **LAYOUTS[model_type]})
    return AutoModelForCausalLM.from_config(config).eval()


@pytest.mark.parametrize("model_type", sorted(LAYOUTS))
def test_batched_greedy_equals_one_at_a_time_for_every_layout(model_type, tokenizer):
    model = _model(model_type)
    prompts = _prompts()
    lengths = [len(tokenizer(p)["input_ids"]) for p in prompts]
    assert min(lengths) > 4 * WINDOW and len(set(lengths)) == len(lengths)  # long, and padded in a batch

    batched = BatchedGenerator(model, tokenizer, GenerationSettings(max_new_tokens=16)).generate(prompts)
    alone = BatchedGenerator(
        model, tokenizer, GenerationSettings(max_new_tokens=16, max_batch_size=1, prefix_cache=False)
    ).generate(prompts)
    assert batched == alone
    assert any(alone)  # the model generated something


def test_one_at_a_time_reference_is_plain_hugging_face_generate(tokenizer):
    model = _model("gemma3_text")
    prompts = _prompts()[:2]
    alone = BatchedGenerator(
        model, tokenizer, GenerationSettings(max_new_tokens=8, max_batch_size=1, prefix_cache=False)
    ).generate(prompts)
    for prompt, text in zip(prompts, alone, strict=True):
        enc = tokenizer(prompt, return_tensors="pt")
        out = model.generate(**enc, max_new_tokens=8, do_sample=False, pad_token_id=0)
        assert tokenizer.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True) == text


@pytest.mark.parametrize("model_type", sorted(LAYOUTS))
def test_prefix_reuse_only_for_full_attention(model_type):
    assert prefix_reuse_is_exact(_model(model_type).config) == (model_type == "llama")


def test_every_layer_type_transformers_knows_but_full_attention_disables_prefix_reuse():
    from types import SimpleNamespace

    from transformers import configuration_utils

    for layer_type in getattr(configuration_utils, "ALLOWED_LAYER_TYPES", ("sliding_attention",)):
        config = SimpleNamespace(layer_types=["full_attention", layer_type])
        assert prefix_reuse_is_exact(config) == (layer_type == "full_attention"), layer_type
