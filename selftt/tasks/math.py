"""Math word problems (GSM8K for training, MGSM for evaluation): chain of thought + numeric answer."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

from selftt.errors import DataError
from selftt.tasks.base import Example, Task

if TYPE_CHECKING:
    from selftt.datamodules.loaders import Record, Table

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

# What introduces the final answer, per language (matched case-insensitively after NFKC
# normalization, which turns full-width "：" into ":"). English is always tried as well.
_MARKERS = {
    "en": r"(?:final\s+)?answer\s+is\s*:?|answer\s*:|####",
    "de": r"Antwort\s+(?:lautet|ist)\s*:?|Antwort\s*:|Ergebnis\s+(?:lautet|ist)\s*:?",
    "ru": r"ответ\s*(?::|—|-|равен|будет|составляет)|ответ\b",
    "th": r"คำตอบ(?:สุดท้าย)?\s*(?:คือ|:)",
    "zh": r"答案\s*(?:是|为|:)|最终答案",
}

# Digit grouping and decimal marks per language: (group separators, decimal separator).
_SEPARATORS = {
    "en": (",", "."),
    "th": (",", "."),
    "zh": (",", "."),
    "de": (".\u00a0\u202f\u2009", ","),
    "ru": (" \u00a0\u202f\u2009", ","),
}


def _number_pattern(lang: str) -> re.Pattern[str]:
    groups, decimal = _SEPARATORS.get(lang, _SEPARATORS["en"])
    g = "[" + re.escape(groups) + "]"
    # Either digits grouped in threes (1,234 / 1.234 / 1 234) with an optional decimal part, or
    # plain digits with an optional decimal part using either mark (0.5 and 0,5 are both read as
    # decimals where they cannot be groups of three).
    d = re.escape(decimal)
    grouped = rf"\d{{1,3}}(?:{g}\d{{3}})+(?!\d)(?:{d}\d+)?"
    plain = r"\d+(?:[.,]\d+)?" if decimal == "," else r"\d+(?:\.\d+)?"
    return re.compile(
        rf"(?P<sign>(?<![\dA-Za-z)\]])[-\u2212])?(?:[$€£¥]\s?)?(?<!\d)(?P<num>{grouped}|{plain})"
    )


_NUMBER_RE = {lang: _number_pattern(lang) for lang in _SEPARATORS}
# The patterns are NFKC-normalized like the text they search: NFKC decomposes Thai SARA AM
# ("ำ" -> "ํา"), so the raw Thai "คำตอบ" would never match a normalized generation.
_MARKER_RE = {
    lang: re.compile(unicodedata.normalize("NFKC", _MARKERS[lang]), re.IGNORECASE) for lang in _MARKERS
}


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


def _to_ascii_digits(text: str) -> str:
    """NFKC (full-width digits and punctuation) and any Unicode decimal digit (Thai ๑๒๓) to ASCII."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.digit(ch)) if unicodedata.category(ch) == "Nd" else ch for ch in text)


def _read_number(match: re.Match[str], lang: str) -> str | None:
    groups, decimal = _SEPARATORS.get(lang, _SEPARATORS["en"])
    num = match.group("num")
    if re.fullmatch(rf"\d{{1,3}}(?:[{re.escape(groups)}]\d{{3}})+(?:{re.escape(decimal)}\d+)?", num):
        for ch in groups:
            num = num.replace(ch, "")
    num = num.replace(",", ".")
    sign = "-" if match.group("sign") else ""
    return normalize_number(sign + num)


def parse_number_answer(generation: str, lang: str) -> str | None:
    """The number in the first final-answer sentence of ``generation``, else its last number.

    Understands each language's digit grouping and decimal mark (en ``1,234.5``, de
    ``1.234,5``, ru ``1 234,5``), full-width and Thai digits, signs and currency symbols.
    """
    text = _to_ascii_digits(generation)
    number_re = _NUMBER_RE.get(lang, _NUMBER_RE["en"])
    markers = [_MARKER_RE[lang]] if lang in _MARKER_RE and lang != "en" else []
    markers.append(_MARKER_RE["en"])
    ends = sorted(m.end() for marker in markers for m in marker.finditer(text))
    for end in ends:
        rest = text[end:].lstrip().split("\n", 1)[0]  # the answer may start on the next line
        found = number_re.search(rest)
        if found:
            return _read_number(found, lang)
    numbers = list(number_re.finditer(text))
    return _read_number(numbers[-1], lang) if numbers else None


class MathTask(Task):
    """Grade-school math word problems with a chain of thought and a numeric final answer.

    Examples hold ``question``, ``answer`` (the reasoning; ``""`` for MGSM, which has none) and
    ``final`` (the numeric answer as a normalized string, e.g. ``"72"``).

    GSM8K reasoning carries calculator annotations such as ``48/2 = <<48/2=24>>24``. They are
    markup for a calculator tool, not language: a translator would mangle or drop them, and a
    model trained on them learns to emit tool calls nobody executes. By default they are removed
    (``48/2 = 24``); pass ``keep_calculator_annotations=True`` to keep them verbatim.
    """

    name: ClassVar[str] = "math"
    fields: ClassVar[tuple[str, ...]] = ("question", "answer", "final")
    translatable: ClassVar[tuple[str, ...]] = ("question", "answer")
    inputs: ClassVar[tuple[str, ...]] = ("question",)
    outputs: ClassVar[tuple[str, ...]] = ("answer", "final")
    gold_field: ClassVar[str] = "final"
    languages: ClassVar[tuple[str, ...]] = ("en", "de", "ru", "th", "zh")

    def __init__(self, keep_calculator_annotations: bool = False) -> None:
        self.keep_calculator_annotations = keep_calculator_annotations

    def load(self, source: str, lang: str, *, split: str | None = None) -> list[Example]:
        """Read GSM8K JSONL (``question``, ``answer`` ending in ``#### N``), MGSM TSV
        (``question<TAB>number``, no header) or a Hub dataset with either layout
        (``hf://openai/gsm8k:main``, ``hf://juletxara/mgsm:de``)."""
        # Deferred: importing selftt.datamodules imports the data module, which imports selftt.tasks.
        from selftt.datamodules import loaders

        self.check_language(lang)
        readers = {
            ".jsonl": loaders.read_jsonl,
            ".tsv": lambda p: loaders.read_tsv(p, columns=("question", "answer_number")),
        }
        table = loaders.read_source(source, readers, split=split)
        return self.examples_of(table.records, table, lang)

    def _example(self, record: Record, table: Table, lang: str) -> Example:
        from selftt.datamodules.loaders import require_fields, require_text

        where, line = table.where, record.line
        if "answer_number" in record:
            require_fields(record, ("question",), where, line)
            final = normalize_number(record["answer_number"])
            if final is None:
                raise DataError(where, f"answer {record['answer_number']!r} is not a number", line)
            reasoning = ""
        else:
            require_fields(record, ("question", "answer"), where, line)
            reasoning, final = self._split_gsm8k(require_text(record, "answer", where, line), where, line)
        question = require_text(record, "question", where, line).strip()
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
        reasoning, _, final_text = answer.rpartition("####")
        final = normalize_number(final_text)
        if final is None:
            raise DataError(where, f"final answer {final_text.strip()!r} after '####' is not a number", line)
        if not self.keep_calculator_annotations:
            reasoning = strip_calculator_annotations(reasoning)
        return reasoning.strip(), final

    def instruction(self, example: Example) -> str:
        """A one-line instruction to solve step by step, then the question."""
        lang = example["lang"]
        self.check_language(lang)
        return f"{INSTRUCTIONS[lang]}\n\n{example['question']}"

    def target(self, example: Example) -> str:
        """The reasoning (if any) followed by a final-answer sentence, e.g. 'The answer is 72.'."""
        lang = self.output_lang(example)
        self.check_language(lang)
        final = FINAL_ANSWER[lang].format(example["final"])
        reasoning = (example.get("answer") or "").strip()
        return f"{reasoning}\n{final}" if reasoning else final

    def parse_answer(self, generation: str, lang: str) -> str | None:
        """The final numeric answer as a normalized string (like ``final``), or None."""
        return parse_number_answer(generation, lang)


def strip_calculator_annotations(text: str) -> str:
    """Remove GSM8K ``<<expr=result>>`` annotations: ``48/2 = <<48/2=24>>24`` → ``48/2 = 24``."""
    return _ANNOTATION.sub("", text)
