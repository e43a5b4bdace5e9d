"""Tokenizing (prompt, target) pairs with the loss masked on the prompt tokens."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from selftt.errors import ConfigError, DataError

if TYPE_CHECKING:
    from selftt.datamodules.prompting import PromptFormatter
    from selftt.tasks import Example, Task

IGNORE_INDEX = -100
log = logging.getLogger(__name__)


@dataclass
class EncodeStats:
    """What happened while encoding a data set (logged, and checked by tests)."""

    encoded: int = 0
    too_long: int = 0
    prefix_mismatch: int = 0


def encode_pair(
    tokenizer,
    prompt: str,
    target: str,
    max_length: int,
    add_special_tokens: bool,
    stats: EncodeStats | None = None,
) -> dict[str, list[int]] | None:
    """``input_ids`` of prompt + target + EOS and ``labels`` that are -100 on the prompt.

    The tokenized prompt must be a prefix of the tokenized prompt + target, or the mask would
    cut in the wrong place. Where a tokenizer merges across the boundary, the two parts are
    tokenized separately and joined (counted in ``stats.prefix_mismatch``). Returns None for a
    pair longer than ``max_length`` (counted in ``stats.too_long``): truncating would cut the
    answer, which teaches the model to stop early.
    """
    stats = stats if stats is not None else EncodeStats()
    prompt_ids = tokenizer(prompt, add_special_tokens=add_special_tokens)["input_ids"]
    full_ids = tokenizer(prompt + target, add_special_tokens=add_special_tokens)["input_ids"]
    if full_ids[: len(prompt_ids)] != prompt_ids:
        stats.prefix_mismatch += 1
        full_ids = prompt_ids + tokenizer(target, add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None:
        full_ids = full_ids + [tokenizer.eos_token_id]
    if len(full_ids) > max_length:
        stats.too_long += 1
        return None
    n_prompt = len(prompt_ids)
    stats.encoded += 1
    return {"input_ids": full_ids, "labels": [IGNORE_INDEX] * n_prompt + full_ids[n_prompt:]}


def encode_examples(
    examples: list[Example],
    task: Task,
    formatter: PromptFormatter,
    tokenizer,
    max_length: int,
    key: str,
    source: str,
    eval_set: bool = False,
) -> list[dict]:
    """``encode_pair`` of every example's (prompt, target), each item with the example's ``id``.

    Pairs longer than ``max_length`` tokens are dropped with a warning naming ``source`` (the
    file or component) and their count. For an ``eval_set`` the warning says that only its loss
    loses them: its generation metrics (accuracy, F1, ...) score every example.

    Raises:
        DataError: ``examples`` is empty (``source`` names where they came from).
        ConfigError: every pair is longer than ``max_length`` (``data.max_length``; ``key`` names
            the config entry of the set).
    """
    if not examples:
        raise DataError(source, "no examples to use")
    stats = EncodeStats()
    encoded = []
    for example in examples:
        prompt = formatter.prompt(task.instruction(example))
        item = encode_pair(tokenizer, prompt, task.target(example), max_length, formatter.add_special_tokens, stats)
        if item is not None:
            item["id"] = example["id"]
            encoded.append(item)
    if stats.too_long:
        scope = " from its loss only (its generation metrics score all of them)" if eval_set else ""
        log.warning(
            "%s: dropped %d of %d examples longer than data.max_length=%d%s",
            source, stats.too_long, len(examples), max_length, scope,
        )  # fmt: skip
    if stats.prefix_mismatch:
        log.warning(
            "%s: %d prompts tokenized differently inside prompt+answer; encoded the two parts apart",
            source,
            stats.prefix_mismatch,
        )
    if not encoded:
        raise ConfigError(
            "data.max_length", f"all {len(examples)} examples of {key} ({source}) are longer than {max_length} tokens"
        )
    return encoded


class PadCollator:
    """Right-pads a list of encoded examples to the longest one in the batch."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, features: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in features)
        input_ids = torch.full((len(features), width), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(features), width), IGNORE_INDEX, dtype=torch.long)
        attention_mask = torch.zeros((len(features), width), dtype=torch.long)
        for row, f in enumerate(features):
            n = len(f["input_ids"])
            input_ids[row, :n] = torch.tensor(f["input_ids"])
            labels[row, :n] = torch.tensor(f["labels"])
            attention_mask[row, :n] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
