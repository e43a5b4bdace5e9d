from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from selftt.errors import ConfigError
from selftt.modules.generation import (
    BatchedGenerator,
    GenerationSettings,
    cut_at_stop,
    plan_batches,
    shared_prefix_length,
)

PROMPTS = [
    "Question: Tom has 3 apples and buys 4 more.",
    "Frage: Wie viele",
    "问题：小明有几本书？",
    "Вопрос: сколько яблок у Тома, если он купил ещё пять?",
    "คำถาม: มีแอปเปิ้ลกี่ลูก",
]


@pytest.fixture(scope="module")
def model_and_tokenizer():
    path = Path(__file__).resolve().parents[1] / "assets" / "tiny-llama"
    return AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def test_plan_batches_respects_budget_and_sorts_longest_first():
    lengths = [10, 50, 20, 40, 30]
    batches = plan_batches(lengths, [10] * 5, max_tokens=130, max_size=8)
    assert sorted(i for b in batches for i in b) == list(range(5))
    assert [lengths[b[0]] for b in batches] == sorted((lengths[b[0]] for b in batches), reverse=True)
    for batch in batches:
        width = max(lengths[i] for i in batch) + 10
        assert len(batch) == 1 or width * len(batch) <= 130
    assert plan_batches([500], [10], max_tokens=100, max_size=4) == [[0]]  # too big alone: still runs
    assert all(len(b) <= 2 for b in plan_batches([1] * 7, [1] * 7, max_tokens=10_000, max_size=2))


def test_cut_at_stop_takes_the_earliest_stop_string():
    assert cut_at_stop("Hallo Welt\n\nEnglish: x", ["\nEnglish:", "\n\n"]) == "Hallo Welt"
    assert cut_at_stop("no stop here", ["\n\n"]) == "no stop here"


def test_batched_greedy_equals_one_prompt_at_a_time(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    batched = BatchedGenerator(model, tokenizer, GenerationSettings(max_new_tokens=10, max_batch_tokens=60))
    single = BatchedGenerator(model, tokenizer, GenerationSettings(max_new_tokens=10, max_batch_size=1))
    assert batched.generate(PROMPTS) == single.generate(PROMPTS)


FEWSHOT = (
    "Translate English to German.\nEnglish: The cat sleeps on the warm mat.\nGerman: Die Katze schläft "
    "auf der warmen Matte.\nEnglish: We read two books.\nGerman: Wir lesen zwei Bücher.\nEnglish: "
)


def test_shared_prefix_length_leaves_one_token_of_each_prompt():
    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 3, 5, 6], [1, 2, 3, 4, 7]]) == 3
    assert shared_prefix_length([[1, 2, 3], [1, 2, 3, 4]]) == 2  # the first prompt keeps one token
    assert shared_prefix_length([[5, 1], [6, 1]]) == 0
    assert shared_prefix_length([[1, 2, 3]]) == 2


def test_the_shared_prefix_cache_changes_no_output(model_and_tokenizer):
    """Few-shot prompts: the prefix computed once and reused in batches with padding after it
    gives the same greedy output as each prompt generated alone without any cache reuse."""
    model, tokenizer = model_and_tokenizer
    prompts = [FEWSHOT + tail for tail in ("Tom has three apples.\nGerman:", "Hi.\nGerman:", *PROMPTS)]
    encoded = [tokenizer(p)["input_ids"] for p in prompts]
    assert shared_prefix_length(encoded) >= 16, "the prompts must share a long prefix"
    cached = BatchedGenerator(model, tokenizer, GenerationSettings(max_new_tokens=10, max_batch_tokens=400))
    alone = BatchedGenerator(
        model, tokenizer, GenerationSettings(max_new_tokens=10, max_batch_size=1, prefix_cache=False)
    )
    calls = []
    original = model.forward
    model.forward = lambda *a, **k: calls.append(k["input_ids"].shape) or original(*a, **k)
    try:
        got = cached.generate(prompts)
    finally:
        model.forward = original
    assert calls[0][0] == 1 and calls[0][1] == shared_prefix_length(encoded), "prefix run once, alone"
    assert all(shape[1] < max(len(e) for e in encoded) for shape in calls[1:]), "the prefix is not rerun"
    assert got == alone.generate(prompts)


def test_per_prompt_budgets_stop_strings_and_training_mode_restored(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    model.train()
    generator = BatchedGenerator(model, tokenizer, GenerationSettings(max_new_tokens=12))
    full = generator.generate(PROMPTS[:2])
    short = generator.generate(PROMPTS[:2], max_new_tokens=[2, 12])
    assert model.training, "generation must give the model back in the mode it found it"
    assert full[1] == short[1]
    two_tokens = BatchedGenerator(model, tokenizer, GenerationSettings(max_new_tokens=2)).generate(
        PROMPTS[:1]
    )
    assert short[0] == two_tokens[0] != full[0]
    stop = full[1][2:4]
    assert stop and generator.generate(PROMPTS[1:2], stop=[stop])[0] == cut_at_stop(full[1], [stop])


def test_generation_settings_are_validated():
    with pytest.raises(ConfigError, match="model.generation.max_new_tokens"):
        GenerationSettings(max_new_tokens=0).validate("model.generation")
    with pytest.raises(ConfigError, match="temperature"):
        GenerationSettings(do_sample=True, temperature=0).validate("model.generation")


def test_empty_prompt_list(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    assert BatchedGenerator(model, tokenizer).generate([]) == []
    assert torch.is_grad_enabled()
