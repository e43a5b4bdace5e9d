"""What an engine must do: the contract translation (and later evaluation) generates through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from selftt.modules.generation import Generation


@runtime_checkable
class TextGenerator(Protocol):
    """Greedy continuations of text prompts, in the prompts' order.

    Implemented by :class:`selftt.modules.generation.BatchedGenerator` (``hf``: the model in this
    process) and :class:`selftt.modules.engines.vllm_engine.VLLMGenerator` (``vllm``: a vLLM worker
    process). Both tokenize with selftt's tokenizer and turn tokens into text with
    :func:`selftt.modules.generation.finish_generation`, so equal tokens give equal records.
    """

    def generate(
        self,
        prompts: Sequence[str],
        stop: Sequence[str] = (),
        max_new_tokens: Sequence[int] | int | None = None,
        add_special_tokens: bool = True,
        progress: bool = False,
        desc: str = "generating",
    ) -> list[str]: ...

    def generate_detailed(
        self,
        prompts: Sequence[str],
        stop: Sequence[str] = (),
        max_new_tokens: Sequence[int] | int | None = None,
        add_special_tokens: bool = True,
        progress: bool = False,
        desc: str = "generating",
    ) -> list[Generation]: ...
