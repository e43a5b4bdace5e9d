"""Natural language inference (MultiNLI for training, XNLI for evaluation)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from selftt.errors import DataError
from selftt.tasks.base import Example, Task

if TYPE_CHECKING:
    from selftt.datamodules.loaders import Record, Table

LABELS = ("entailment", "neutral", "contradiction")
"""In MNLI/XNLI order: integer labels 0, 1, 2 index this tuple."""

LABEL_WORDS = {
    "en": ("entailment", "neutral", "contradiction"),
    "de": ("Folgerung", "neutral", "Widerspruch"),
    "ru": ("следование", "нейтрально", "противоречие"),
    "th": ("สอดคล้อง", "เป็นกลาง", "ขัดแย้ง"),
    "zh": ("蕴含", "中立", "矛盾"),
}

# (instruction with {0} {1} {2} = label words, premise label, hypothesis label) per language.
TEMPLATES = {
    "en": (
        "Does the premise entail the hypothesis? Answer with one word: {0}, {1} or {2}.",
        "Premise",
        "Hypothesis",
    ),
    "de": (
        "Folgt die Hypothese aus der Prämisse? Antworte mit einem Wort: {0}, {1} oder {2}.",
        "Prämisse",
        "Hypothese",
    ),
    "ru": (
        "Следует ли гипотеза из посылки? Ответьте одним словом: {0}, {1} или {2}.",
        "Посылка",
        "Гипотеза",
    ),
    "th": ("สมมติฐานสอดคล้องกับข้อตั้งหรือไม่ ตอบด้วยคำเดียว: {0}, {1} หรือ {2}", "ข้อตั้ง", "สมมติฐาน"),
    "zh": ("前提是否蕴含假设？请用一个词回答：{0}、{1}或{2}。", "前提", "假设"),
}

# Stems recognised in generations (inflected forms such as "widerspricht" or "противоречит"
# count), per language, in LABELS order. English is always tried as well.
_STEMS = {
    "en": (r"entail", r"neutral", r"contradict"),
    "de": (r"folgerung", r"neutral", r"widerspr"),
    "ru": (r"следовани", r"нейтральн", r"противореч"),
    "th": (r"สอดคล้อง", r"เป็นกลาง", r"ขัดแย้ง"),
    "zh": (r"蕴含|蕴涵", r"中立|中性", r"矛盾"),
}
_WORD_START = {"en": r"\b", "de": r"\b", "ru": r"\b", "th": "", "zh": ""}

# Column names accepted for each field: ours, then MNLI/XNLI file columns.
_ALIASES = {"premise": ("premise", "sentence1"), "hypothesis": ("hypothesis", "sentence2")}
_LABEL_KEYS = ("label", "gold_label")


def _label_pattern(lang: str) -> re.Pattern[str]:
    parts = []
    for label, stem in zip(LABELS, _STEMS[lang], strict=True):
        parts.append(f"(?P<{label}>{_WORD_START[lang]}(?:{stem}))")
    return re.compile("|".join(parts), re.IGNORECASE)


_LABEL_RE = {lang: _label_pattern(lang) for lang in _STEMS}


def normalize_label(value: Any) -> str | None:
    """Map 0/1/2 (MNLI/XNLI order) or a label name to 'entailment'/'neutral'/'contradiction'."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return LABELS[value] if 0 <= value < len(LABELS) else None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in LABELS:
            return text
        if text in ("0", "1", "2"):
            return LABELS[int(text)]
    return None


class NLITask(Task):
    """Three-way NLI: does the premise entail, contradict or say nothing about the hypothesis?

    Examples hold ``premise``, ``hypothesis`` and ``label`` (always the English label name);
    the target is the label word in the example's language.
    """

    name: ClassVar[str] = "nli"
    fields: ClassVar[tuple[str, ...]] = ("premise", "hypothesis", "label")
    translatable: ClassVar[tuple[str, ...]] = ("premise", "hypothesis")
    inputs: ClassVar[tuple[str, ...]] = ("premise", "hypothesis")
    outputs: ClassVar[tuple[str, ...]] = ("label",)
    gold_field: ClassVar[str] = "label"
    languages: ClassVar[tuple[str, ...]] = ("en", "de", "ru", "th", "zh")

    def load(self, source: str, lang: str, *, split: str | None = None) -> list[Example]:
        """Read JSONL (premise/hypothesis/label or sentence1/sentence2/gold_label), a TSV with a
        header (MNLI/XNLI columns; XNLI's ``language`` column keeps rows in ``lang``) or a Hub
        dataset (``hf://nyu-mll/multi_nli``, ``hf://facebook/xnli:de``)."""
        # Deferred: importing selftt.datamodules imports the data module, which imports selftt.tasks.
        from selftt.datamodules import loaders

        self.check_language(lang)
        tsv = lambda p: loaders.read_tsv(p, header=True)  # noqa: E731
        table = loaders.read_source(
            source, {".jsonl": loaders.read_jsonl, ".tsv": tsv, ".txt": tsv}, split=split
        )
        records = [r for r in table.records if str(r.get("language", lang)).strip() == lang]
        if not records:
            found = sorted({str(r.get("language")) for r in table.records})
            raise DataError(
                table.where, f"no examples in language '{lang}' (the 'language' column has {found})"
            )
        return self.examples_of(records, table, lang)

    def _example(self, record: Record, table: Table, lang: str) -> Example:
        from selftt.datamodules.loaders import require_fields, require_text

        where, line = table.where, record.line
        fields = {}
        for field, aliases in _ALIASES.items():
            key = next((k for k in aliases if k in record), aliases[0])
            require_fields(record, (key,), where, line)
            fields[field] = require_text(record, key, where, line).strip()
        label_key = next((k for k in _LABEL_KEYS if k in record), _LABEL_KEYS[0])
        require_fields(record, (label_key,), where, line)
        label = normalize_label(record[label_key])
        if label is None:
            raise DataError(
                where,
                f"label {record[label_key]!r} is not one of {', '.join(LABELS)} (or 0, 1, 2 in that order)",
                line,
            )
        example_id = str(record["id"]) if record.get("id") is not None else f"{table.stem}-{line}"
        return {"id": example_id, "lang": lang, **fields, "label": label}

    def instruction(self, example: Example) -> str:
        """The question with the three label words, then the premise and the hypothesis."""
        lang = example["lang"]
        self.check_language(lang)
        text, premise_label, hypothesis_label = TEMPLATES[lang]
        colon = "：" if lang == "zh" else ": "
        return (
            f"{text.format(*LABEL_WORDS[lang])}\n\n"
            f"{premise_label}{colon}{example['premise']}\n{hypothesis_label}{colon}{example['hypothesis']}"
        )

    def target(self, example: Example) -> str:
        """The label word in the example's output language."""
        lang = self.output_lang(example)
        self.check_language(lang)
        return LABEL_WORDS[lang][LABELS.index(example["label"])]

    def parse_answer(self, generation: str, lang: str) -> str | None:
        """The English label of the first label word (in ``lang`` or English) found, else None."""
        patterns = [_LABEL_RE["en"]] + ([_LABEL_RE[lang]] if lang in _LABEL_RE and lang != "en" else [])
        hits = [m for pattern in patterns if (m := pattern.search(generation))]
        if not hits:
            return None
        first = min(hits, key=lambda m: m.start())
        return first.lastgroup
