"""Tests for encoding (prompt, target) pairs with the loss masked on the prompt, and padding."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoTokenizer

from selftt.datamodules.prompting import PLAIN_TEMPLATE
from selftt.datamodules.tokenization import (
    IGNORE_INDEX,
    EncodeStats,
    PadCollator,
    encode_examples,
    encode_pair,
)
from selftt.errors import ConfigError, DataError

PROMPT = PLAIN_TEMPLATE.format(
    instruction="Solve the following math problem step by step.\n\nTom has 3 apples."
)
TARGET = "Tom has 3 + 2 = 5 apples.\nThe answer is 5."


@pytest.fixture
def tok(tiny_model):
    return AutoTokenizer.from_pretrained(tiny_model)


def _check_mask(tok, item, prompt, target, add_special_tokens=True):
    ids, labels = item["input_ids"], item["labels"]
    assert len(ids) == len(labels)
    n_prompt = len(tok(prompt, add_special_tokens=add_special_tokens)["input_ids"])
    # -100 exactly on the prompt tokens, the input ids everywhere else.
    assert labels[:n_prompt] == [IGNORE_INDEX] * n_prompt
    assert labels[n_prompt:] == ids[n_prompt:]
    assert IGNORE_INDEX not in labels[n_prompt:]
    assert ids[-1] == tok.eos_token_id
    # The unmasked part is the answer followed by EOS.
    assert tok.decode(labels[n_prompt:-1]) == target
    assert tok.decode(labels[n_prompt:]) == target + tok.eos_token
    return n_prompt


def test_encode_pair_masks_prompt_and_keeps_answer_and_eos(tok):
    stats = EncodeStats()
    item = encode_pair(tok, PROMPT, TARGET, max_length=512, add_special_tokens=True, stats=stats)
    assert item is not None
    n_prompt = _check_mask(tok, item, PROMPT, TARGET)
    prompt_ids = tok(PROMPT)["input_ids"]
    assert item["input_ids"][:n_prompt] == prompt_ids
    assert item["input_ids"][0] == tok.bos_token_id
    assert item["input_ids"].count(tok.bos_token_id) == 1
    assert item["input_ids"][:-1] == tok(PROMPT + TARGET)["input_ids"]
    assert stats == EncodeStats(encoded=1, too_long=0, prefix_mismatch=0)


def test_encode_pair_without_special_tokens_has_no_bos(tok):
    item = encode_pair(tok, PROMPT, TARGET, max_length=512, add_special_tokens=False)
    assert item is not None and item["input_ids"][0] != tok.bos_token_id
    _check_mask(tok, item, PROMPT, TARGET, add_special_tokens=False)


def test_encode_pair_too_long_is_dropped_and_counted(tok):
    full = len(tok(PROMPT + TARGET)["input_ids"]) + 1  # + EOS
    stats = EncodeStats()
    assert encode_pair(tok, PROMPT, TARGET, full - 1, True, stats) is None
    assert stats == EncodeStats(encoded=0, too_long=1, prefix_mismatch=0)
    item = encode_pair(tok, PROMPT, TARGET, full, True, stats)  # exactly max_length fits
    assert item is not None and len(item["input_ids"]) == full
    assert stats == EncodeStats(encoded=1, too_long=1, prefix_mismatch=0)


def _boundary_merges(tok) -> list[tuple[str, str]]:
    """(prompt, target) pairs where tok(prompt) is not a prefix of tok(prompt + target)."""
    found = []
    for prompt in ["ab ", "Tom has 3 ", "The ans", "Question: x\nAnswer:", "Answer: "]:
        for target in ["cd", "apples", "wer is 5.", " 42", "The answer is 7."]:
            head = tok(prompt)["input_ids"]
            if tok(prompt + target)["input_ids"][: len(head)] != head:
                found.append((prompt, target))
    return found


def test_encode_pair_boundary_merge_keeps_correct_mask(tok):
    cases = _boundary_merges(tok)
    assert cases, "expected the tiny BPE tokenizer to merge across some prompt/target boundary"
    for prompt, target in cases:
        stats = EncodeStats()
        item = encode_pair(tok, prompt, target, 512, True, stats)
        assert stats.prefix_mismatch == 1 and stats.encoded == 1
        n_prompt = _check_mask(tok, item, prompt, target)
        assert item["input_ids"][:n_prompt] == tok(prompt)["input_ids"]


def test_pad_collator_right_pads():
    features = [
        {"input_ids": [1, 5, 6, 7, 2], "labels": [-100, -100, 6, 7, 2]},
        {"input_ids": [1, 8, 2], "labels": [-100, 8, 2]},
    ]
    batch = PadCollator(pad_token_id=0)(features)
    assert set(batch) == {"input_ids", "attention_mask", "labels"}
    assert all(t.dtype == torch.long and t.shape == (2, 5) for t in batch.values())
    assert batch["input_ids"].tolist() == [[1, 5, 6, 7, 2], [1, 8, 2, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]
    assert batch["labels"].tolist() == [[-100, -100, 6, 7, 2], [-100, 8, 2, -100, -100]]


def test_pad_collator_uses_given_pad_id():
    batch = PadCollator(pad_token_id=9)(
        [{"input_ids": [1], "labels": [1]}, {"input_ids": [1, 2], "labels": [-100, 2]}]
    )
    assert batch["input_ids"].tolist() == [[1, 9], [1, 2]]
    assert batch["labels"].tolist() == [[1, -100], [-100, 2]]


def _math_examples(*answers):
    return [
        {"id": f"q{i}", "lang": "en", "question": f"Tom has {a} apples. How many?", "answer": f"{a} apples.", "final": str(a)}
        for i, a in enumerate(answers)
    ]


def test_encode_examples_keeps_ids_and_drops_only_the_too_long(tok, caplog):
    from selftt.datamodules.prompting import PromptFormatter
    from selftt.tasks import get_task

    task, formatter = get_task("math", "data.task", "data.task_options"), PromptFormatter(tok, "plain")
    examples = _math_examples(3, 4)
    examples[1]["question"] += " word" * 300
    short = len(encode_examples(examples[:1], task, formatter, tok, 4096, key="k", source="s")[0]["input_ids"])
    encoded = encode_examples(examples, task, formatter, tok, short + 1, key="data.val_sets[0]", source="dev.jsonl")
    assert [item["id"] for item in encoded] == ["q0"]
    assert "dev.jsonl: dropped 1 of 2 examples longer than data.max_length" in caplog.text
    assert "loss only" not in caplog.text  # training data: the examples are gone
    caplog.clear()
    encode_examples(examples, task, formatter, tok, short + 1, key="data.val_sets[0]", source="dev.jsonl", eval_set=True)
    assert f"longer than data.max_length={short + 1} from its loss only (its generation metrics score all" in caplog.text
    with pytest.raises(ConfigError, match=r"data\.max_length.*all 2 examples of data\.val_sets\[0\] \(dev\.jsonl\)"):
        encode_examples(examples, task, formatter, tok, 5, key="data.val_sets[0]", source="dev.jsonl")
    with pytest.raises(DataError, match="dev.jsonl"):
        encode_examples([], task, formatter, tok, 4096, key="data.val_sets[0]", source="dev.jsonl")
