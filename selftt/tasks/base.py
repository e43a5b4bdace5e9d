"""The task spec: what an example holds, how it becomes a (prompt, target) pair and back, how
answers are scored and which translations of it are rejected."""

from __future__ import annotations

import hashlib
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from selftt.errors import ConfigError, SelfTTError
from selftt.languages import language_key
from selftt.tasks.readers import check_unique_ids

log = logging.getLogger(__name__)

Example = dict[str, Any]
"""One task example: always ``id`` (str) and ``lang`` (ISO code), plus the task's ``fields``."""


class Task(ABC):
    """A task family (math, QA, NLI, or your own) as a declarative spec.

    Subclasses declare ``name`` (default: the class name, lowercased), ``fields`` (what an
    example holds besides ``id`` and ``lang``), ``translatable`` (the fields that are
    natural-language text; labels and numeric answers are not), ``inputs``/``outputs``,
    ``gold_field``, ``primary_metric`` (the key of ``score``'s result runs are compared by)
    and ``languages`` (those with tuned instruction texts; any other language gets the English
    texts with a warning). They read files (``load``), turn an example into the user turn of a
    prompt (``instruction``) and the text the model should produce (``target``), a generation
    back into an answer (``parse_answer``), score answers (``score``, default: exact-match
    ``accuracy``) and may reject translations of an example (``translation_checks``).
    """

    name: ClassVar[str]
    fields: ClassVar[tuple[str, ...]]
    translatable: ClassVar[tuple[str, ...]]
    languages: ClassVar[tuple[str, ...]] = ("en",)
    inputs: ClassVar[tuple[str, ...]]
    """Fields the prompt is made of (the rest are the output)."""
    outputs: ClassVar[tuple[str, ...]]
    """Fields the target is made of. Code-switched examples take these from the other language."""
    gold_field: ClassVar[str]
    """The field ``parse_answer``'s output is scored against (a list of answers for QA)."""
    primary_metric: ClassVar[str] = "accuracy"
    """The key of ``score``'s result that runs are compared by (report, TensorBoard hparams)."""
    correct_metric: ClassVar[str | None] = None
    """The per-example metric that marks a prediction ``correct`` (default: ``primary_metric``)."""
    answer_span: ClassVar[tuple[str, str] | None] = None
    """(answer field, context field) when the answer is a span of the context (extractive QA):
    self-translation marks the span in the context and reads the translated answer back from it
    (:mod:`selftt.translation.answer_projection`). The example's ``<answer field>_start`` holds
    the span's character offset, if known."""
    passage_field: ClassVar[str | None] = None
    """The input field several evaluation examples can share (QA: the context; NLI: the premise).
    Evaluation records its digest with each prediction (``passage``), so that the report can
    test a difference with the questions of one passage flipped together (they are not
    independent). None: every example stands alone."""
    instructions: dict[str, Any] | None = None
    """Per-language instruction texts (tasks that have them; built-ins merge user texts in)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__ and not getattr(cls, "__abstractmethods__", None):
            cls.name = cls.__name__.lower()

    def passage_of(self, example: Example) -> str | None:
        """A short digest (16 hex digits of SHA-256) of ``example[passage_field]``; None without one."""
        if self.passage_field is None:
            return None
        return hashlib.sha256(str(example[self.passage_field]).encode("utf-8")).hexdigest()[:16]

    @staticmethod
    def output_lang(example: Example) -> str:
        """Language of the target: ``target_lang`` in a code-switched example, else ``lang``."""
        return example.get("target_lang") or example["lang"]

    def check_language(self, lang: str, key: str = "lang") -> None:
        """Warn (once per task and language) if this task has no tuned texts for ``lang``:
        it then uses its English ones. Never raises; language codes are validated elsewhere.
        Tasks without per-language ``instructions`` never warn."""
        if self.instructions and "en" in self.instructions:
            self.texts_for(lang, self.instructions, what="instruction")

    def texts_for(self, lang: str, table: Mapping[str, Any], what: str = "instruction") -> Any:
        """The texts of ``table`` for ``lang`` (the key :func:`selftt.languages.language_key` finds:
        ``lang`` itself, else a less specific tag in the same script, ``"de"`` for ``"de-DE"``), else
        ``table["en"]`` with a warning logged once per task, ``what`` and language. Raises KeyError
        only if the table has neither (a task without English texts)."""
        key = language_key(table, lang)
        if key is not None:
            return table[key]
        warned = self.__dict__.setdefault("_warned", set())
        if (what, lang) not in warned:
            warned.add((what, lang))
            log.warning(
                "task '%s' has no %s for language '%s'; using the English one "
                "(give one in the task's options, e.g. data.task_options.instructions)",
                self.name,
                what,
                lang,
            )
        return table["en"]

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

    def score(self, predictions: Sequence[Any], golds: Sequence[Any], lang: str) -> dict[str, float]:
        """Corpus-level scores of parsed predictions (``parse_answer`` outputs), each 0-100.

        Default: ``accuracy``, % of predictions equal to their gold answer after ``str`` and
        ``strip`` (None is wrong). Must contain ``primary_metric``. Raises ValueError for no
        examples or lengths that differ (``check_scorable``).
        """
        self.check_scorable(predictions, golds)
        correct = sum(p is not None and str(p).strip() == str(g).strip() for p, g in zip(predictions, golds, strict=True))
        return {"accuracy": 100.0 * correct / len(golds)}

    @staticmethod
    def check_scorable(predictions: Sequence[Any], golds: Sequence[Any]) -> None:
        """Raise ValueError if the lengths differ or there is nothing to score."""
        if len(predictions) != len(golds):
            raise ValueError(f"{len(predictions)} predictions but {len(golds)} gold answers")
        if not golds:
            raise ValueError("no examples to score")

    def is_correct(self, prediction: Any, gold: Any, lang: str) -> bool:
        """Whether one prediction scores 100 on ``correct_metric`` (else ``primary_metric``):
        ``score`` of a single example, as the per-example ``correct`` flag of predictions."""
        metric = self.correct_metric or self.primary_metric
        return self.checked_score([prediction], [gold], lang, need=metric)[metric] == 100.0

    def checked_score(
        self, predictions: Sequence[Any], golds: Sequence[Any], lang: str, need: str | None = None
    ) -> dict[str, float]:
        """``score``, held to its contract: a dict of finite numbers from 0 to 100 that holds
        ``primary_metric`` (and ``need``). Raises SelfTTError, one line naming the task class,
        for anything else."""
        values = self.score(predictions, golds, lang)
        where = f"task '{self.name}' ({type(self).__module__}.{type(self).__qualname__}).score()"
        if not isinstance(values, Mapping):
            raise SelfTTError(f"{where} must return a dict of metrics, got {type(values).__name__}")
        for metric in {self.primary_metric, need or self.primary_metric}:
            if metric not in values:
                raise SelfTTError(
                    f"{where} returned no '{metric}' (the task's primary_metric/correct_metric); "
                    f"it returned {', '.join(map(str, values)) or 'nothing'}"
                )
        for name, value in values.items():
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or not 0.0 <= value <= 100.0:
                raise SelfTTError(f"{where}: '{name}' is {value!r}; every metric must be a number from 0 to 100 (%)")
        return {name: float(value) for name, value in values.items()}

    def translation_checks(
        self, source: Example, translated: Example, lang: str, settings: Any, fields: Sequence[str]
    ) -> list[str]:
        """Task-specific reasons to reject a translated example, as ``'field:rule'`` (or
        ``'example:rule'``); ``fields`` are those translated, ``settings`` the
        ``FilterSettings``. Default: none. The generic text rules run for every task anyway."""
        return []


def labelled_templates(
    defaults: Mapping[str, tuple[str, str, str]], given: Mapping[str, Any] | None, labels: str
) -> dict[str, tuple[str, str, str]]:
    """``defaults`` updated with a user's per-language templates: each a string (the instruction,
    with the English field labels) or a list [instruction, *two field labels] (``labels`` names
    them in the error). Raises ValueError for anything else."""
    templates = dict(defaults)
    for lang, text in (given or {}).items():
        if isinstance(text, str) and text.strip():
            templates[lang] = (text, *defaults["en"][1:])
        elif isinstance(text, Sequence) and len(text) == 3 and all(isinstance(t, str) for t in text):
            templates[lang] = tuple(text)
        else:
            raise ValueError(f"instructions['{lang}'] must be a string or [instruction, {labels}]")
    return templates
