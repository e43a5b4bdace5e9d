"""Batched greedy generation: the one generator translation, prediction and evaluation share."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import torch
from tqdm.auto import tqdm

from selftt.config_checks import check_range
from selftt.errors import ConfigError
from selftt.modules.end_tokens import end_token_ids
from selftt.modules.finite_logits import NonFiniteLogitsCheck, check_finite
from selftt.modules.prefix_reuse import prefix_reuse_is_exact

FinishReason = Literal["stop", "end", "length"]


@dataclass(frozen=True)
class Generation:
    """One prompt's continuation and why it ended: ``stop`` (a stop string; cut from the text),
    ``end`` (an end-of-sequence or end-of-turn token) or ``length`` (the token budget ran out:
    the text may be cut mid-sentence)."""

    text: str
    finish_reason: FinishReason

BATCHING_ONLY = ("max_batch_tokens", "max_batch_size", "prefix_cache")
"""Generation settings that change speed and memory, never the generated text (for the prefix
cache: since it is used only where exact, ``selftt.modules.prefix_reuse``; tested for every
attention layout in tests/modules/test_generation_layouts.py)."""

GENERATOR_VERSION = 2
"""Changes when the same settings may generate other text: part of the translation cache key.
2: every end token of the generation config and chat template ends a line; no shared-prefix
reuse for windowed attention; finish reasons recorded."""


@dataclass
class GenerationSettings:
    """Decoding and batching for generation (greedy unless ``do_sample``)."""

    max_new_tokens: int = 256
    """Upper bound on generated tokens per prompt (callers may pass a smaller one per prompt)."""
    do_sample: bool = False
    """Sample instead of greedy decoding."""
    temperature: float = 1.0
    """Sampling temperature (with do_sample)."""
    top_p: float = 1.0
    """Nucleus sampling mass (with do_sample)."""
    max_batch_tokens: int = 16384
    """Token budget of one batch: batch size x (longest prompt + max new tokens)."""
    max_batch_size: int = 64
    """Most prompts in one batch."""
    prefix_cache: bool = True
    """Run the leading tokens all prompts of a call share (an instruction, few-shot examples)
    through the model once and reuse their KV cache in every batch."""

    def decoding(self) -> dict:
        """The settings that decide what is generated (not how fast): without ``BATCHING_ONLY``."""
        return {k: v for k, v in asdict(self).items() if k not in BATCHING_ONLY}

    def validate(self, key: str) -> None:
        for name in ("max_new_tokens", "max_batch_tokens", "max_batch_size", "temperature", "top_p"):
            check_range(f"{key}.{name}", getattr(self, name))
        if self.do_sample and self.temperature <= 0:
            raise ConfigError(f"{key}.temperature", f"must be > 0 when sampling, got {self.temperature}")


def plan_batches(
    lengths: Sequence[int], new_tokens: Sequence[int], max_tokens: int, max_size: int
) -> list[list[int]]:
    """Indices grouped into batches, longest prompts first, each within the token budget.

    A batch costs (its size) x (longest prompt + most new tokens in it); a single prompt over
    the budget still gets a batch of its own.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    width = 0
    for i in order:
        candidate = max(width, lengths[i] + new_tokens[i])
        if current and (len(current) >= max_size or candidate * (len(current) + 1) > max_tokens):
            batches.append(current)
            current, width = [], 0
            candidate = lengths[i] + new_tokens[i]
        current.append(i)
        width = candidate
    if current:
        batches.append(current)
    return batches


MIN_SHARED_PREFIX = 16
"""Shorter shared prefixes are not worth a separate forward pass."""


def shared_prefix_length(encoded: Sequence[Sequence[int]]) -> int:
    """Number of leading tokens all sequences share, leaving at least one token of each uncached."""
    if not encoded:
        return 0
    first, n = encoded[0], min(len(e) for e in encoded) - 1
    for e in encoded[1:]:
        k = 0
        while k < n and e[k] == first[k]:
            k += 1
        n = k
    return max(n, 0)


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to the first occurrence of any stop string."""
    cut = len(text)
    for s in stop:
        at = text.find(s)
        if at != -1:
            cut = min(cut, at)
    return text[:cut]


class TextsOnly:
    """``generate``: the texts of ``generate_detailed``, for engines that implement the latter."""

    def generate(
        self,
        prompts: Sequence[str],
        stop: Sequence[str] = (),
        max_new_tokens: Sequence[int] | int | None = None,
        add_special_tokens: bool = True,
        progress: bool = False,
        desc: str = "generating",
    ) -> list[str]:
        """The continuations of ``prompts`` (in their order); see :meth:`generate_detailed`."""
        details = self.generate_detailed(prompts, stop, max_new_tokens, add_special_tokens, progress, desc)
        return [g.text for g in details]

    def generate_detailed(self, prompts, stop, max_new_tokens, add_special_tokens, progress, desc):
        raise NotImplementedError


def token_budgets(max_new_tokens: Sequence[int] | int | None, n: int, cap: int) -> list[int]:
    """Per prompt, its new-token budget: ``max_new_tokens`` (one for all, one per prompt, or None:
    ``cap``), each at least 1 and at most ``cap``."""
    if max_new_tokens is None:
        max_new_tokens = cap
    if isinstance(max_new_tokens, int):
        max_new_tokens = [max_new_tokens] * n
    return [max(1, min(k, cap)) for k in max_new_tokens]


class BatchedGenerator(TextsOnly):
    """Generates continuations for many prompts at once.

    Prompts are tokenized, sorted by length and packed into batches by a token budget, left
    padded, and decoded with the KV cache; each sequence stops at EOS or at its first stop
    string (the stop string is cut from the output). With ``prefix_cache``, the tokens every
    prompt starts with (few-shot examples) are run once; each batch starts from a copy of their
    KV cache, its rows laid out as ``shared prefix | padding | rest of the prompt`` (the padding
    is masked and position ids skip it, so each row sees what it would see alone). The model is
    put in eval mode for the call and returned to the mode it was in.
    """

    def __init__(self, model, tokenizer, settings: GenerationSettings | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings or GenerationSettings()
        self.end_ids = end_token_ids(model, tokenizer)
        """Every token that ends a continuation: the generation config's EOS ids, the tokenizer's
        EOS and the chat template's end of turn."""

    @torch.no_grad()
    def generate_detailed(
        self,
        prompts: Sequence[str],
        stop: Sequence[str] = (),
        max_new_tokens: Sequence[int] | int | None = None,
        add_special_tokens: bool = True,
        progress: bool = False,
        desc: str = "generating",
    ) -> list[Generation]:
        """Continuations of ``prompts`` with their finish reasons, in the prompts' order.

        Args:
            stop: Strings that end a continuation (cut from the text).
            max_new_tokens: Token budget per prompt (or one for all), capped by the settings'.
            add_special_tokens: Let the tokenizer add BOS (False for chat-templated prompts).

        Raises:
            NonFiniteLogitsError: the model produced inf/NaN logits (float16 overflow).
        """
        if not prompts:
            return []
        settings = self.settings
        budgets = token_budgets(max_new_tokens, len(prompts), settings.max_new_tokens)
        encoded = [self.tokenizer(p, add_special_tokens=add_special_tokens)["input_ids"] for p in prompts]
        batches = plan_batches(
            [len(e) for e in encoded], budgets, settings.max_batch_tokens, settings.max_batch_size
        )
        outputs: list[Generation] = [Generation("", "end")] * len(prompts)
        was_training = self.model.training
        self.model.eval()
        bar = tqdm(total=len(prompts), desc=desc, disable=not progress, dynamic_ncols=True)
        try:
            prefix = self._prefix_cache(encoded)
            for batch in batches:
                rows = [encoded[i] for i in batch]
                results = self._generate_batch(rows, [budgets[i] for i in batch], stop, prefix)
                for i, result in zip(batch, results, strict=True):
                    outputs[i] = result
                bar.update(len(batch))
        finally:
            bar.close()
            self.model.train(was_training)
        return outputs

    def _prefix_cache(self, encoded: list[list[int]]) -> tuple[int, object, str] | None:
        """(length, KV cache, the name ``generate`` takes it by) of the prompts' shared leading
        tokens, or None when not worth it or not exact for this model (see
        :func:`~selftt.modules.prefix_reuse.prefix_reuse_is_exact`)."""
        shared = shared_prefix_length(encoded) if self.settings.prefix_cache else 0
        if shared < MIN_SHARED_PREFIX or not prefix_reuse_is_exact(self.model.config):
            return None
        device = next(self.model.parameters()).device
        ids = torch.tensor([encoded[0][:shared]], device=device)
        out = self.model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True, logits_to_keep=1)
        check_finite(out.logits, self.model)
        cache = out.get("cache")  # transformers >= 5.2x; 'past_key_values' before (5.17 still)
        name = "cache" if cache is not None else "past_key_values"
        cache = cache if cache is not None else out.past_key_values
        if not prefix_reuse_is_exact(self.model.config, cache):
            return None
        return shared, cache, name

    def _generate_batch(
        self,
        encoded: list[list[int]],
        budgets: list[int],
        stop: Sequence[str],
        prefix: tuple[int, object, str] | None = None,
    ) -> list[Generation]:
        tokenizer = self.tokenizer
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        shared = prefix[0] if prefix is not None else 0
        width = max(len(e) for e in encoded)
        device = next(self.model.parameters()).device
        input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(encoded), width), dtype=torch.long)
        for row, ids in enumerate(encoded):  # left padding (after the shared prefix): rows end together
            input_ids[row, :shared] = torch.tensor(ids[:shared], dtype=torch.long)
            attention_mask[row, :shared] = 1
            input_ids[row, width - len(ids) + shared :] = torch.tensor(ids[shared:], dtype=torch.long)
            attention_mask[row, width - len(ids) + shared :] = 1
        finite = NonFiniteLogitsCheck()
        kwargs = dict(
            max_new_tokens=max(budgets),
            do_sample=self.settings.do_sample,
            pad_token_id=pad_id,
            eos_token_id=self.end_ids,
            use_cache=True,
            logits_processor=[finite],
        )
        if self.settings.do_sample:
            kwargs.update(temperature=self.settings.temperature, top_p=self.settings.top_p)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if stop:
            kwargs.update(stop_strings=list(stop), tokenizer=tokenizer)
        if prefix is not None:
            cache = copy.deepcopy(prefix[1])
            cache.batch_repeat_interleave(len(encoded))
            kwargs[prefix[2]] = cache
        out = self.model.generate(
            input_ids=input_ids.to(device), attention_mask=attention_mask.to(device), **kwargs
        )
        finite.raise_if_seen(self.model)
        return [self._finish(out[row, width:].tolist(), budget, stop) for row, budget in enumerate(budgets)]

    def _finish(self, new_ids: list[int], budget: int, stop: Sequence[str]) -> Generation:
        return finish_generation(self.tokenizer, self.end_ids, new_ids, budget, stop)


def finish_generation(
    tokenizer, end_ids: Sequence[int], new_ids: Sequence[int], budget: int, stop: Sequence[str]
) -> Generation:
    """A prompt's generated tokens as text, cut at the first end token or stop string, and why it
    ended: how every engine turns tokens into a :class:`Generation`, so that engines that generate
    the same tokens record the same text."""
    new_ids = list(new_ids)[:budget]
    end = next((k for k, token in enumerate(new_ids) if token in end_ids), None)
    text = tokenizer.decode(new_ids[:end], skip_special_tokens=True)
    cut = cut_at_stop(text, stop)
    if len(cut) < len(text):
        return Generation(cut, "stop")
    if end is not None:
        return Generation(text, "end")
    return Generation(text, "length" if len(new_ids) >= budget else "end")
