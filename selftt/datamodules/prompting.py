"""Turning a task's instruction into the model's prompt: its chat template, or a plain format."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from selftt.errors import ConfigError

PromptStyle = Literal["auto", "chat", "plain"]

PLAIN_TEMPLATE = "### Instruction:\n{instruction}\n\n### Response:\n"
"""The instruction format for models without a chat template (base models)."""

PLAIN_SHOT_END = "\n\n"
"""Between an in-context example's answer and the next block in the plain format."""


class PromptFormatter:
    """Renders the user turn with the tokenizer's chat template (``chat``), a plain instruction
    format (``plain``), or the chat template when the tokenizer has one (``auto``).

    ``add_special_tokens`` says how to tokenize the rendered prompt: chat templates already
    write the special tokens they need, plain prompts rely on the tokenizer adding BOS.
    """

    def __init__(self, tokenizer, style: PromptStyle = "auto", key: str = "data.prompt_style") -> None:
        if style not in ("auto", "chat", "plain"):
            raise ConfigError(key, f"got '{style}'; expected one of auto, chat, plain")
        has_template = bool(getattr(tokenizer, "chat_template", None))
        if style == "chat" and not has_template:
            raise ConfigError(key, "is 'chat' but the tokenizer has no chat template; use 'plain' or 'auto'")
        self.tokenizer = tokenizer
        self.use_chat = style == "chat" or (style == "auto" and has_template)
        self.add_special_tokens = not self.use_chat

    @property
    def style(self) -> str:
        return "chat" if self.use_chat else "plain"

    def prompt(self, instruction: str, shots: Sequence[tuple[str, str]] = ()) -> str:
        """The text the model continues with its answer, after optional in-context examples.

        ``shots`` are (instruction, answer) pairs: earlier chat turns with the chat template,
        earlier instruction/response blocks in the plain format.
        """
        if self.use_chat:
            messages = []
            for shot_instruction, answer in shots:
                messages += [
                    {"role": "user", "content": shot_instruction},
                    {"role": "assistant", "content": answer},
                ]
            messages.append({"role": "user", "content": instruction})
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        blocks = [PLAIN_TEMPLATE.format(instruction=i) + answer + PLAIN_SHOT_END for i, answer in shots]
        return "".join(blocks) + PLAIN_TEMPLATE.format(instruction=instruction)

    def stop_strings(self) -> list[str]:
        """Where a generated answer ends besides EOS: the start of a next plain block."""
        return [] if self.use_chat else [PLAIN_SHOT_END + "###", "\n### Instruction:"]

    def describe(self) -> dict[str, object]:
        """What an exported adapter needs to rebuild the same prompts."""
        return {
            "style": self.style,
            "plain_template": None if self.use_chat else PLAIN_TEMPLATE,
            "add_special_tokens": self.add_special_tokens,
        }
