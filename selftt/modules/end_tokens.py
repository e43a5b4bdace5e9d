"""The tokens that end a generated continuation: EOS ids and the chat template's end of turn."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

_MARKER = "SELFTT_END_OF_TURN_PROBE"


def chat_end_of_turn_id(tokenizer: Any) -> int | None:
    """The special token the chat template writes right after an assistant message (Gemma's
    ``<end_of_turn>``, Llama 3's ``<|eot_id|>``, ChatML's ``<|im_end|>``); None without a chat
    template, or when what follows the message is not a single special/added token."""
    if not getattr(tokenizer, "chat_template", None):
        return None
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": _MARKER}]
    try:
        rendered = tokenizer.apply_chat_template(messages, tokenize=False)
    except Exception as err:  # noqa: BLE001 - templates raise their own errors for unusual roles
        log.debug("chat template could not render a probe conversation: %s", err)
        return None
    after = rendered.partition(_MARKER)[2]
    if not after.strip():
        return None
    ids = tokenizer(after, add_special_tokens=False)["input_ids"]
    special = set(tokenizer.all_special_ids) | set(getattr(tokenizer, "added_tokens_decoder", {}) or {})
    return ids[0] if ids and ids[0] in special else None


def end_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """Every token that ends a continuation, in a stable order without repeats: the model's
    generation config ``eos_token_id`` (an int or a list: Gemma 3 lists ``<eos>`` and
    ``<end_of_turn>``), the tokenizer's ``eos_token_id`` and :func:`chat_end_of_turn_id`.

    Passing only the tokenizer's EOS to ``generate`` overrides the generation config's list, so a
    chat model runs on past its end of turn ("Berlin\\nuser\\nNext").
    """
    config = getattr(model, "generation_config", None)
    found: list[Any] = []
    eos = getattr(config, "eos_token_id", None) if config is not None else None
    found += list(eos) if isinstance(eos, list | tuple) else [eos]
    found += [tokenizer.eos_token_id, chat_end_of_turn_id(tokenizer)]
    return list(dict.fromkeys(int(t) for t in found if t is not None))
