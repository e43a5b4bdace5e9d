"""Extractive question answering (SQuAD for training, XQuAD for evaluation)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from selftt.errors import DataError
from selftt.languages import get_language
from selftt.tasks import readers
from selftt.tasks.base import Example, Task, labelled_templates
from selftt.tasks.qa_metrics import qa_exact_match, qa_f1

# (instruction, context label, question label) per language.
TEMPLATES = {
    "en": (
        "Answer the question with a short span copied word for word from the context.",
        "Context",
        "Question",
    ),
    "de": (
        "Beantworte die Frage mit einem kurzen Textabschnitt, den du wörtlich aus dem Kontext übernimmst.",
        "Kontext",
        "Frage",
    ),
    "ru": (
        "Ответьте на вопрос коротким фрагментом, дословно скопированным из контекста.",
        "Контекст",
        "Вопрос",
    ),
    "th": ("ตอบคำถามด้วยข้อความสั้น ๆ ที่คัดลอกมาจากบริบทโดยตรง", "บริบท", "คำถาม"),
    "zh": ("请从上下文中原样摘取一个简短的片段来回答问题。", "上下文", "问题"),
}

# A leading "Answer:" label that models sometimes emit before the span (any language).
_ANSWER_LABEL = re.compile(r"^(?:answer|antwort|ответ|คำตอบ|答案|回答)\s*[:：]\s*", re.IGNORECASE)
_QUOTES = "\"'`“”„‟«»‹›「」『』‘’‚"
_TRAILING = ".。"



_EDGE_PUNCT = "\"'`“”„‟«»‹›「」『』‘’‚()[]（）【】.,;:!?。，；：！？、 "


def answer_in_context(answer: str, context: str) -> bool:
    """Whether ``answer`` occurs in ``context``, ignoring case (NFKC + casefold), runs of
    whitespace and punctuation around the answer."""
    needle = " ".join(unicodedata.normalize("NFKC", answer).casefold().split()).strip(_EDGE_PUNCT)
    return needle in " ".join(unicodedata.normalize("NFKC", context).casefold().split())

class QATask(Task):
    """Extractive QA: given a context and a question, answer with a span of the context.

    Examples hold ``context``, ``question``, ``answer`` (the first gold answer, the training
    target), ``answers`` (all gold answer texts, for evaluation) and ``answer_start`` (the first
    answer's character offset in the context; None if unknown).

    Args:
        instructions: Per language code, an instruction string or ``[instruction, context
            label, question label]``, added to (or replacing) the shipped ``TEMPLATES`` (en, de,
            ru, th, zh); a string keeps the English labels. A language with none uses English,
            with a warning. Raises ValueError for anything else.
    """

    name: ClassVar[str] = "qa"
    fields: ClassVar[tuple[str, ...]] = ("context", "question", "answer", "answers", "answer_start")
    translatable: ClassVar[tuple[str, ...]] = ("context", "question", "answer")
    inputs: ClassVar[tuple[str, ...]] = ("context", "question")
    outputs: ClassVar[tuple[str, ...]] = ("answer", "answers")
    gold_field: ClassVar[str] = "answers"
    languages: ClassVar[tuple[str, ...]] = ("en", "de", "ru", "th", "zh")
    answer_span: ClassVar[tuple[str, str] | None] = ("answer", "context")
    passage_field: ClassVar[str | None] = "context"
    primary_metric: ClassVar[str] = "f1"
    correct_metric: ClassVar[str] = "exact_match"

    def __init__(self, instructions: Mapping[str, str | Sequence[str]] | None = None) -> None:
        self.instructions = labelled_templates(TEMPLATES, instructions, "context label, question label")

    def load(self, source: str, lang: str, *, split: str | None = None) -> list[Example]:
        """Read SQuAD v1.1 / XQuAD JSON or a Hub dataset in the SQuAD layout
        (``hf://rajpurkar/squad``, ``hf://google/xquad:xquad.de``)."""
        self.check_language(lang)
        table = readers.read_source(source, {".json": readers.read_squad_json}, split=split)
        return self.examples_of(table.records, table, lang)

    def _example(self, record: readers.Record, table: readers.Table, lang: str) -> Example:
        where, line = table.where, record.line
        readers.require_fields(record, ("context", "question", "answers"), where, line)
        qa_id = str(record["id"]) if record.get("id") is not None else f"{table.stem}-{line}"
        context = readers.require_nonempty_text(record, "context", where, line)
        question = readers.require_nonempty_text(record, "question", where, line)
        texts, starts = _answer_lists(record, where, line, qa_id)
        if not texts:
            raise DataError(where, f"qa '{qa_id}' has no gold answer", line)
        for i, text in enumerate(texts):
            if not text.strip():
                what = "empty" if not text else "only whitespace"
                raise DataError(where, f"qa '{qa_id}': answer {i} is {what}; expected text", line)
        if "answer_starts" not in record:  # Hub rows; local files were checked by the reader
            readers.check_answer_starts(context, texts, starts, qa_id, where, line)
        return {
            "id": qa_id,
            "lang": lang,
            "context": context,
            "question": question.strip(),
            "answer": texts[0],
            "answers": texts,
            "answer_start": _first_start(context, texts[0], starts),
        }

    def instruction(self, example: Example) -> str:
        """The instruction to copy a span, then the context and the question."""
        lang = example["lang"]
        text, context_label, question_label = self.texts_for(lang, self.instructions)
        colon = get_language(lang).label_separator
        return f"{text}\n\n{context_label}{colon}{example['context']}\n{question_label}{colon}{example['question']}"

    def target(self, example: Example) -> str:
        """The first gold answer."""
        return example["answer"]

    def parse_answer(self, generation: str, lang: str) -> str:
        """The first non-empty line, without an 'Answer:' label, quotes or a trailing period."""
        # The label goes first: after "Answer:" alone on a line, the span is on the next one.
        lines = [ln.strip() for ln in _ANSWER_LABEL.sub("", generation.strip()).splitlines()]
        text = lines[0] if lines else ""
        previous = None
        while text != previous:
            previous = text
            text = text.strip().strip(_QUOTES).rstrip(_TRAILING)
        return text

    def score(self, predictions: Sequence[Any], golds: Sequence[Any], lang: str) -> dict[str, float]:
        """Predictions are strings (None counts as ""), golds lists of gold answer texts (a
        string is a one-answer list). ``exact_match`` and ``f1``: % as in the SQuAD/MLQA scripts,
        with the multilingual normalization of ``selftt.tasks.qa_metrics``. Raises ValueError
        for no examples, lengths that differ or an empty gold list."""
        self.check_scorable(predictions, golds)
        em = f1 = 0.0
        for pred, gold in zip(predictions, golds, strict=True):
            em += qa_exact_match(pred or "", gold, lang)
            f1 += qa_f1(pred or "", gold, lang)
        n = len(golds)
        return {"exact_match": 100.0 * em / n, "f1": 100.0 * f1 / n}

    def translation_checks(
        self, source: Example, translated: Example, lang: str, settings: Any, fields: Sequence[str]
    ) -> list[str]:
        """``'example:answer_in_context'`` when the translated answer is not in the translated
        context (ignoring case, spacing and edge punctuation), unless ``settings.qa_answer`` is
        ``'keep'``."""
        if getattr(settings, "qa_answer", "filter") != "filter":
            return []
        answer, context = str(translated.get("answer") or ""), str(translated.get("context") or "")
        return ["example:answer_in_context"] if answer.strip() and not answer_in_context(answer, context) else []


def _first_start(context: str, answer: str, starts: list[Any]) -> int | None:
    """The first answer's offset in the context: the given one when it points at the answer,
    else the first occurrence; None when the answer is not in the context."""
    if starts and isinstance(starts[0], int) and context[starts[0] : starts[0] + len(answer)] == answer:
        return starts[0]
    found = context.find(answer)
    return found if found >= 0 else None


def _answer_lists(record: readers.Record, where: str, line: int | None, qa_id: str) -> tuple[list[str], list[Any]]:
    """Gold answer texts and start offsets from a flat record or a Hub ``answers`` dict."""
    answers = record["answers"]
    if isinstance(answers, dict):  # Hub layout: {"text": [...], "answer_start": [...]}
        texts, starts = list(answers.get("text") or []), list(answers.get("answer_start") or [])
    elif isinstance(answers, list):
        texts, starts = list(answers), list(record.get("answer_starts") or [])
    else:
        raise DataError(where, f"qa '{qa_id}': 'answers' must be a list or a dict with 'text'", line)
    if not all(isinstance(t, str) for t in texts):
        raise DataError(where, f"qa '{qa_id}': answer texts must be strings", line)
    return texts, starts
