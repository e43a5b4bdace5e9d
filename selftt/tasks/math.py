"""Math word problems (GSM8K for training, MGSM for evaluation): chain of thought + numeric answer."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar

from selftt.errors import DataError
from selftt.languages.numbers import fold_text, source_numbers, translation_numbers
from selftt.tasks import readers
from selftt.tasks.base import Example, Task
from selftt.tasks.math_answer import answer_phrase_pattern, final_phrases, parse_number_answer, stated_answer

__all__ = ["FINAL_ANSWER", "INSTRUCTIONS", "MathTask", "normalize_number", "parse_number_answer"]

_ANNOTATION = re.compile(r"<<[^<>]*>>")

INSTRUCTIONS = {
    "en": "Solve the following math problem step by step.",
    "de": "Löse die folgende Matheaufgabe Schritt für Schritt.",
    "ru": "Решите следующую математическую задачу шаг за шагом.",
    "th": "จงแก้โจทย์คณิตศาสตร์ต่อไปนี้ทีละขั้นตอน",
    "zh": "请一步一步地解答下面的数学题。",
}

FINAL_ANSWER = {
    "en": "The answer is {}.",
    "de": "Die Antwort lautet {}.",
    "ru": "Ответ: {}.",
    "th": "คำตอบคือ {}",
    "zh": "答案是{}。",
}

# Labels MGSM's exemplars put before the question and the worked answer ("Question: ...",
# "Step-by-Step Answer: ..."), per language; removed so that shots look like the scored examples.
_QUESTION_LABEL = re.compile(
    r"^\s*(?:Question|Frage|Задача|Вопрос|问题|問題|โจทย์|คำถาม)\s*[:：]\s*", re.IGNORECASE
)
_ANSWER_LABEL = re.compile(
    r"^\s*(?:Step[- ]by[- ]Step Answer|Schritt[- ]für[- ]Schritt[- ]Antwort|Пошаговое\s*решение|"
    r"คำตอบทีละขั้นตอน|逐步解答|Solution|Lösung|Решение|解答)\s*[:：]\s*",
    re.IGNORECASE,
)
_SENTENCE_BREAK = re.compile(r"(?:[.!?;](?=\s)|[。！？；\n])\s*")


def normalize_number(value: Any) -> str | None:
    """A number as a canonical string: ``"72"``, ``"-3"``, ``"0.5"``; None if not a number.

    Accepts ints, floats and strings with ASCII digits, an optional sign, ``$`` and
    thousands commas (``"27,200"``), as found in GSM8K and MGSM answers.
    """
    if isinstance(value, bool):
        return None
    text = str(value).strip().replace(",", "").replace("$", "").replace("\u2212", "-")
    if not re.fullmatch(r"[-+]?(?:\d+\.?\d*|\.\d+)", text):
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if number == 0:
        return "0"
    return format(number.normalize(), "f")


def _read_tsv(path: Path) -> list[readers.Record]:
    """MGSM TSV: ``question<TAB>number`` (no header), ``question<TAB>worked answer<TAB>number``
    (exemplars, no header), or any columns named by a header with ``question``. Without a header
    the layout is the one most lines have (ties: the first line's), so that one odd line, even
    the first, is the line the column-count error names."""
    lines = [ln for ln in Path(path).read_text(encoding="utf-8-sig", errors="replace").splitlines() if ln.strip()]
    cells = [c.strip().lower() for c in (lines[0] if lines else "").split("\t")]
    if "question" in cells and ("answer" in cells or "answer_number" in cells):
        return readers.read_tsv(path, header=True)
    widths = Counter(ln.count("\t") + 1 for ln in lines)
    width = max(widths, key=lambda w: (widths[w], w == len(cells)), default=len(cells))
    columns = ("question", "answer", "answer_number") if width == 3 else ("question", "answer_number")
    return readers.read_tsv(path, columns=columns)


class MathTask(Task):
    """Grade-school math word problems with a chain of thought and a numeric final answer.

    Examples hold ``question``, ``answer`` (the reasoning; ``""`` for MGSM's test questions,
    which have none) and ``final`` (the numeric answer as a normalized string, e.g. ``"72"``).

    MGSM-style records (``answer_number``) may hold a worked ``answer``, as MGSM's exemplars (its
    ``train`` split) and GSM8K-style few-shot files do: its reasoning is kept, without the
    "Step-by-Step Answer:" label, a ``#### N`` line or a closing final-answer sentence (``target``
    adds the canonical one), and a "Question:" label is removed from the question.

    GSM8K reasoning carries calculator annotations such as ``48/2 = <<48/2=24>>24``. They are
    markup for a calculator tool, not language: a translator would mangle or drop them, and a
    model trained on them learns to emit tool calls nobody executes. By default they are removed
    (``48/2 = 24``); pass ``keep_calculator_annotations=True`` to keep them verbatim.

    Args:
        keep_calculator_annotations: Keep GSM8K's ``<<48/2=24>>`` annotations (default False).
        instructions: Instruction texts per language code, added to (or replacing) the shipped
            ones (``INSTRUCTIONS``: en, de, ru, th, zh), e.g. ``{"sw": "Tatua ..."}``. A language
            with none uses the English text, with a warning.
        answer_phrases: Final-answer sentences per language with one ``{}`` for the number,
            added to ``FINAL_ANSWER`` (e.g. ``{"sw": "Jibu ni {}."}``); others use English.
            ``parse_answer`` reads phrases of the shipped languages and English; in any other
            language it takes the last number of the generation.

    Raises ValueError (a ConfigError through ``get_task``) for a text that is not a string or an
    answer phrase without exactly one ``{}``.
    """

    name: ClassVar[str] = "math"
    fields: ClassVar[tuple[str, ...]] = ("question", "answer", "final")
    translatable: ClassVar[tuple[str, ...]] = ("question", "answer")
    inputs: ClassVar[tuple[str, ...]] = ("question",)
    outputs: ClassVar[tuple[str, ...]] = ("answer", "final")
    gold_field: ClassVar[str] = "final"
    languages: ClassVar[tuple[str, ...]] = ("en", "de", "ru", "th", "zh")
    primary_metric: ClassVar[str] = "accuracy"

    def __init__(
        self,
        keep_calculator_annotations: bool = False,
        instructions: Mapping[str, str] | None = None,
        answer_phrases: Mapping[str, str] | None = None,
    ) -> None:
        self.keep_calculator_annotations = keep_calculator_annotations
        self.instructions = {**INSTRUCTIONS, **_texts(instructions, "instructions")}
        self.answer_phrases = {**FINAL_ANSWER, **_texts(answer_phrases, "answer_phrases")}
        # Phrases of languages without built-in patterns also mark the final answer when parsing.
        user = {lang: answer_phrase_pattern(p) for lang, p in (answer_phrases or {}).items() if lang not in FINAL_ANSWER}
        self._user_phrases = {lang: pattern for lang, pattern in user.items() if pattern is not None}
        for lang, phrase in self.answer_phrases.items():
            if phrase.count("{}") != 1:
                raise ValueError(f"answer_phrases['{lang}'] must contain '{{}}' once (the number), got {phrase!r}")

    def load(self, source: str, lang: str, *, split: str | None = None) -> list[Example]:
        """Read GSM8K JSONL (``question``, ``answer`` ending in ``#### N``), MGSM JSONL or TSV
        (``question<TAB>number``, no header; exemplars ``question<TAB>answer<TAB>number`` or
        with a header) or a Hub dataset with either layout (``hf://openai/gsm8k:main``,
        ``hf://juletxara/mgsm:de``)."""
        self.check_language(lang)
        formats = {
            ".jsonl": readers.read_jsonl,
            ".tsv": _read_tsv,
        }
        table = readers.read_source(source, formats, split=split)
        return self.examples_of(table.records, table, lang)

    def _example(self, record: readers.Record, table: readers.Table, lang: str) -> Example:
        where, line = table.where, record.line
        if "answer_number" in record:
            readers.require_fields(record, ("question",), where, line)
            final = normalize_number(record["answer_number"])
            if final is None:
                raise DataError(where, f"answer {record['answer_number']!r} is not a number", line)
            reasoning = ""
            if record.get("answer") is not None:
                worked = readers.require_text(record, "answer", where, line)
                reasoning = self._worked_reasoning(worked, final, lang, where, line)
        else:
            readers.require_fields(record, ("question", "answer"), where, line)
            reasoning, final = self._split_gsm8k(readers.require_text(record, "answer", where, line), where, line)
        question = readers.require_text(record, "question", where, line).strip()
        if "answer_number" in record:
            question = _QUESTION_LABEL.sub("", question, count=1)
        if not question:
            raise DataError(where, "empty question", line)
        example_id = str(record["id"]) if record.get("id") is not None else f"{table.stem}-{line}"
        return {
            "id": example_id,
            "lang": lang,
            "question": question,
            "answer": reasoning,
            "final": final,
        }

    def _split_gsm8k(self, answer: str, where: str, line: int | None) -> tuple[str, str]:
        if "####" not in answer:
            raise DataError(where, "answer has no '#### <number>' final answer (GSM8K format)", line)
        _check_one_final(answer, where, line)
        reasoning, _, final_text = answer.rpartition("####")
        final = normalize_number(final_text)
        if final is None:
            raise DataError(where, f"final answer {final_text.strip()!r} after '####' is not a number", line)
        if not self.keep_calculator_annotations:
            reasoning = strip_calculator_annotations(reasoning)
        return reasoning.strip(), final

    def _worked_reasoning(self, answer: str, final: str, lang: str, where: str, line: int | None) -> str:
        """The reasoning of an MGSM exemplar's (or GSM8K-style) worked answer, checked against ``final``."""
        text = _ANSWER_LABEL.sub("", answer, count=1)
        if "####" in text:
            _check_one_final(text, where, line)
            text, _, stated = text.rpartition("####")
            _check_stated(normalize_number(stated) or stated.strip(), final, where, line)
        folded = fold_text(text)  # character for character, so positions carry over
        phrases = final_phrases(folded)
        stated = stated_answer(folded, phrases[-1], lang) if phrases else None
        if stated is not None:
            _check_stated(stated, final, where, line)
            thai = phrases[-1].lang == "th"
            head = text[: phrases[-1].start]
            breaks = [m.end() for m in _SENTENCE_BREAK.finditer(head)]
            breaks += [m.end() for m in re.finditer(r"\s+", head)] if thai else []
            text = text[: max(breaks, default=0)]
        if not self.keep_calculator_annotations:
            text = strip_calculator_annotations(text)
        return text.strip()

    def instruction(self, example: Example) -> str:
        """A one-line instruction to solve step by step, then the question."""
        text = self.texts_for(example["lang"], self.instructions)
        return f"{text}\n\n{example['question']}"

    def target(self, example: Example) -> str:
        """The reasoning (if any) followed by a final-answer sentence, e.g. 'The answer is 72.'."""
        phrase = self.texts_for(self.output_lang(example), self.answer_phrases, what="answer phrase")
        final = phrase.format(example["final"])
        reasoning = (example.get("answer") or "").strip()
        return f"{reasoning}\n{final}" if reasoning else final

    def parse_answer(self, generation: str, lang: str) -> str | None:
        """The final numeric answer as a normalized string (like ``final``), or None."""
        return parse_number_answer(generation, lang, self._user_phrases)

    def score(self, predictions: Sequence[Any], golds: Sequence[Any], lang: str) -> dict[str, float]:
        """Predictions are normalized number strings or None, golds the examples' ``final``.
        ``accuracy``: % numerically equal (``"18"`` == ``"18.0"``); ``unparsed``: % None (counted
        wrong). Raises ValueError for no examples, lengths that differ or a gold not a number."""
        self.check_scorable(predictions, golds)
        correct = unparsed = 0
        for pred, gold in zip(predictions, golds, strict=True):
            gold_value = _decimal(gold)
            if gold_value is None:
                raise ValueError(f"gold answer {gold!r} is not a number")
            value = _decimal(pred)
            unparsed += value is None
            correct += value is not None and value == gold_value
        n = len(golds)
        return {"accuracy": 100.0 * correct / n, "unparsed": 100.0 * unparsed / n}

    def translation_checks(
        self, source: Example, translated: Example, lang: str, settings: Any, fields: Sequence[str]
    ) -> list[str]:
        """``'<field>:numbers'`` for each translated field that lost or changed a number of the
        source (read leniently: ``1,000`` = ``1.000`` = ``1000``), unless ``settings.numbers``
        is off. Empty sources and empty translations are left to the ``empty`` rule."""
        if not getattr(settings, "numbers", True):
            return []
        reasons = []
        for name in fields:
            src, out = str(source.get(name) or ""), str(translated.get(name) or "")
            if src.strip() and out.strip() and not source_numbers(src) <= translation_numbers(out):
                reasons.append(f"{name}:numbers")
        return reasons


def _texts(texts: Mapping[str, Any] | None, key: str) -> dict[str, str]:
    """User texts per language, checked to be strings (ValueError naming ``key`` otherwise)."""
    if texts is None:
        return {}
    if not isinstance(texts, Mapping):
        raise ValueError(f"{key} must map language codes to texts, got {texts!r}")
    for lang, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{key}['{lang}'] must be a non-empty string, got {text!r}")
    return dict(texts)


def _decimal(value: Any) -> Decimal | None:
    number = normalize_number(value) if value is not None else None
    return Decimal(number) if number is not None else None


def _check_one_final(answer: str, where: str, line: int | None) -> None:
    """Refuse an answer with more than one ``####`` final-answer marker (which one is gold?)."""
    count = answer.count("####")
    if count > 1:
        finals = ", ".join(repr(part.strip().split("\n", 1)[0]) for part in answer.split("####")[1:])
        raise DataError(
            where, f"answer has {count} '####' final answers ({finals}); expected one, on the last line", line
        )


def _check_stated(stated: str, final: str, where: str, line: int | None) -> None:
    same = normalize_number(stated) is not None and Decimal(normalize_number(stated)) == Decimal(final)
    if not same:
        raise DataError(where, f"the worked answer states {stated} but answer_number is {final}", line)


def strip_calculator_annotations(text: str) -> str:
    """Remove GSM8K ``<<expr=result>>`` annotations: ``48/2 = <<48/2=24>>24`` → ``48/2 = 24``."""
    return _ANNOTATION.sub("", text)
