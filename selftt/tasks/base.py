"""The task spec: what an example holds and how it becomes a (prompt, target) pair and back."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from selftt.errors import ConfigError
from selftt.tasks.readers import check_unique_ids

Example = dict[str, Any]
"""One task example: always ``id`` (str) and ``lang`` (ISO code), plus the task's ``fields``."""


class Task(ABC):
    """A task family (math, QA, NLI) as a declarative spec.

    Subclasses declare ``name``, ``fields`` (what an example holds besides ``id`` and
    ``lang``), ``translatable`` (the fields that are natural-language text; labels and numeric
    answers are not) and ``languages`` (those with an instruction template). They turn an
    example into the user turn of a prompt (``instruction``) and the text the model should
    produce (``target``), and a generation back into an answer (``parse_answer``).
    """

    name: ClassVar[str]
    fields: ClassVar[tuple[str, ...]]
    translatable: ClassVar[tuple[str, ...]]
    languages: ClassVar[tuple[str, ...]]
    inputs: ClassVar[tuple[str, ...]]
    """Fields the prompt is made of (the rest are the output)."""
    outputs: ClassVar[tuple[str, ...]]
    """Fields the target is made of. Code-switched examples take these from the other language."""
    gold_field: ClassVar[str]
    """The field ``parse_answer``'s output is scored against (a list of answers for QA)."""

    @staticmethod
    def output_lang(example: Example) -> str:
        """Language of the target: ``target_lang`` in a code-switched example, else ``lang``."""
        return example.get("target_lang") or example["lang"]

    def check_language(self, lang: str, key: str = "lang") -> None:
        """Raise a ConfigError naming ``key`` if this task has no template for ``lang``."""
        if lang not in self.languages:
            raise ConfigError(
                key,
                f"task '{self.name}' has no prompt template for language '{lang}'; "
                f"expected one of {', '.join(self.languages)}",
            )

    def check_field(self, field: str, key: str = "field") -> None:
        """Raise a ConfigError naming ``key`` if this task has no field called ``field``."""
        if field not in self.fields:
            raise ConfigError(
                key, f"task '{self.name}' has no field '{field}'; its fields are {', '.join(self.fields)}"
            )

    def examples_of(self, records: list, table: Any, lang: str) -> list[Example]:
        """``self._example`` of each record, refusing duplicate ids (naming both lines)."""
        examples = [self._example(record, table, lang) for record in records]
        check_unique_ids(((ex["id"], rec.line) for ex, rec in zip(examples, records, strict=True)), table.where)
        return examples

    def _example(self, record: Any, table: Any, lang: str) -> Example:
        """One record of a loaded table as an example (tasks that read tables define it)."""
        raise NotImplementedError

    @abstractmethod
    def load(self, source: str, lang: str, *, split: str | None = None) -> list[Example]:
        """Read all examples of ``source`` (a local file or ``hf://name[:config]``) in ``lang``."""

    @abstractmethod
    def instruction(self, example: Example) -> str:
        """The user turn of the prompt, in the example's language (``lang``)."""

    @abstractmethod
    def target(self, example: Example) -> str:
        """The text the model is trained to produce after the prompt, in ``output_lang(example)``."""

    @abstractmethod
    def parse_answer(self, generation: str, lang: str) -> Any:
        """Turn a model generation back into an answer comparable with the gold one."""
