"""Sentiment classification from JSONL (``{"text": ..., "label": "positive"}``), scored by accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from selftt.tasks import Task, readers
from selftt.tasks.base import Example

INSTRUCTIONS = {
    "en": "Is the sentiment of this review {labels}? Answer with one word.",
    "de": "Ist die Stimmung dieser Bewertung {labels}? Antworte mit einem Wort.",
}


class SentimentTask(Task):
    """``text`` -> one of ``labels`` (default positive/negative); ``instructions`` per language."""

    name: ClassVar[str] = "sentiment"
    fields: ClassVar[tuple[str, ...]] = ("text", "label")
    translatable: ClassVar[tuple[str, ...]] = ("text",)
    inputs: ClassVar[tuple[str, ...]] = ("text",)
    outputs: ClassVar[tuple[str, ...]] = ("label",)
    gold_field: ClassVar[str] = "label"
    primary_metric: ClassVar[str] = "accuracy"

    def __init__(self, labels: Sequence[str] = ("positive", "negative"), instructions: dict | None = None) -> None:
        if len(labels) < 2:
            raise ValueError(f"labels must name at least 2 classes, got {list(labels)}")
        self.labels = tuple(labels)
        self.instructions = {**INSTRUCTIONS, **(instructions or {})}

    def load(self, source: str, lang: str, *, split: str | None = None) -> list[Example]:
        self.check_language(lang)
        table = readers.read_source(source, {".jsonl": readers.read_jsonl}, split=split)
        return self.examples_of(table.records, table, lang)

    def _example(self, record: readers.Record, table: readers.Table, lang: str) -> Example:
        readers.require_fields(record, ("text", "label"), table.where, record.line)
        return {
            "id": str(record.get("id") or f"{table.stem}-{record.line}"),
            "lang": lang,
            "text": readers.require_text(record, "text", table.where, record.line),
            "label": str(record["label"]),
        }

    def instruction(self, example: Example) -> str:
        text = self.texts_for(example["lang"], self.instructions)
        return f"{text.format(labels=' / '.join(self.labels))}\n\n{example['text']}"

    def target(self, example: Example) -> str:
        return example["label"]

    def parse_answer(self, generation: str, lang: str) -> str | None:
        found = [(generation.lower().find(label), label) for label in self.labels]
        found = [(i, label) for i, label in found if i >= 0]
        return min(found)[1] if found else None

    def score(self, predictions: Sequence[Any], golds: Sequence[Any], lang: str) -> dict[str, float]:
        self.check_scorable(predictions, golds)
        n = len(golds)
        correct = sum(p == g for p, g in zip(predictions, golds, strict=True))
        return {"accuracy": 100.0 * correct / n, "unparsed": 100.0 * sum(p is None for p in predictions) / n}
