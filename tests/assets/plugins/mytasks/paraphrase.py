"""Paraphrase generation from JSONL (``{"source": ..., "paraphrase": ...}``), scored by chrF (torchmetrics)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from torchmetrics.functional.text import chrf_score

from selftt.tasks import Task, readers
from selftt.tasks.base import Example


class ParaphraseTask(Task):
    """``source`` -> ``paraphrase``; ``chrf`` (0-100, corpus level) is the primary metric.

    Its own translation check: a translated paraphrase identical to its translated source
    (``example:same_as_source``) teaches nothing.
    """

    fields: ClassVar[tuple[str, ...]] = ("source", "paraphrase")
    translatable: ClassVar[tuple[str, ...]] = ("source", "paraphrase")
    inputs: ClassVar[tuple[str, ...]] = ("source",)
    outputs: ClassVar[tuple[str, ...]] = ("paraphrase",)
    gold_field: ClassVar[str] = "paraphrase"
    primary_metric: ClassVar[str] = "chrf"

    def __init__(self, instruction_text: str = "Rephrase the sentence in other words.") -> None:
        self.instruction_text = instruction_text

    def load(self, source: str, lang: str, *, split: str | None = None) -> list[Example]:
        table = readers.read_source(source, {".jsonl": readers.read_jsonl}, split=split)
        return self.examples_of(table.records, table, lang)

    def _example(self, record: readers.Record, table: readers.Table, lang: str) -> Example:
        readers.require_fields(record, ("source", "paraphrase"), table.where, record.line)
        text = {f: readers.require_text(record, f, table.where, record.line) for f in ("source", "paraphrase")}
        return {"id": str(record.get("id") or f"{table.stem}-{record.line}"), "lang": lang, **text}

    def instruction(self, example: Example) -> str:
        return f"{self.instruction_text}\n\n{example['source']}"

    def target(self, example: Example) -> str:
        return example["paraphrase"]

    def parse_answer(self, generation: str, lang: str) -> str:
        return generation.strip().split("\n")[0].strip()

    def score(self, predictions: Sequence[Any], golds: Sequence[Any], lang: str) -> dict[str, float]:
        self.check_scorable(predictions, golds)
        preds = [p or "" for p in predictions]
        return {"chrf": 100.0 * float(chrf_score(preds, [[g] for g in golds]))}

    def translation_checks(
        self, source: Example, translated: Example, lang: str, settings: Any, fields: Sequence[str]
    ) -> list[str]:
        same = str(translated.get("source") or "").strip() == str(translated.get("paraphrase") or "").strip()
        return ["example:same_as_source"] if same and "paraphrase" in fields else []


class NotATask:
    """For the tests: a class that is not a ``selftt.tasks.Task``."""
