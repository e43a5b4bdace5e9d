"""Natural language inference (MultiNLI for training, XNLI for evaluation)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

from selftt.errors import DataError
from selftt.languages import get_language, language_key
from selftt.tasks import readers
from selftt.tasks.base import Example, Task, labelled_templates

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
        word_end = r"\w*" if _WORD_START[lang] else ""  # the whole word: "contradict" -> "contradiction"
        parts.append(f"(?P<{label}>{_WORD_START[lang]}(?:{stem}){word_end})")
    return re.compile("|".join(parts), re.IGNORECASE)


_LABEL_RE = {lang: _label_pattern(lang) for lang in _STEMS}

# Negation cues before a label: en, de, ru words; Thai ไม่; Chinese 不/没/非/无 (是否 is a question).
_NEGATION = re.compile(
    r"\b(?:not|no|never|neither|nor|cannot|nicht|kein\w*|weder|nie|не|нет|ни)\b|n't\b|ไม่|不|没|沒|非|无|無",
    re.I,
)
# ... and after one, closing its clause: "widerspricht der Prämisse nicht", "противоречия нет".
_NEGATION_AFTER = frozenset({"nicht", "нет"})
# What may stand between two labels of an echoed list: "a, b or c", "a / b / c", "a、b还是c".
_LIST_GAP = re.compile(
    r"[\s,;/|、，·*\"'`«»„“”「」『』()\[\]-]*"
    r"(?:(?:or|and|oder|und|или|либо|и|หรือ|และ|或者|或是|或|还是|還是|和|与|與)[\s,、，*\"'`«»„“”「」]*)?",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"[,;:.!?，；：。！？、\n()]")
_SENTENCE_END = re.compile(r"[.!?。！？\n]")
_QUESTION_PARTICLE = re.compile(r"หรือไม่|หรือเปล่า|ไหม|吗|嗎")
# Where the model gives its verdict; the first label after the last of them is the answer.
_VERDICT = re.compile(
    r"\banswer\b|\bI\s+(?:think|would\s+say|'d\s+say|believe)\b|\bAntwort\b|\bich\s+(?:denke|glaube|würde\s+sagen)\b"
    r"|\bответ\b|\bдумаю\b|คำตอบ|คิดว่า|答案|答\s*[:：]|我认为|我認為|我觉得|应该是",
    re.IGNORECASE,
)


class _Hit(NamedTuple):
    start: int
    end: int
    label: str
    script: str  # "th", "zh" or "word"


def _hits(text: str, lang: str) -> list[_Hit]:
    """Label words of ``lang`` and English in ``text``, in order, without overlaps."""
    shipped = language_key(_LABEL_RE, lang)  # "de" serves "de-DE"
    langs = ["en"] + ([shipped] if shipped is not None and shipped != "en" else [])
    found = sorted(
        (m.start(), -m.end(), m.lastgroup)
        for code in langs
        for m in _LABEL_RE[code].finditer(text)
        if m.lastgroup
    )
    hits: list[_Hit] = []
    for start, neg_end, label in found:
        if not hits or start >= hits[-1].end:
            first = text[start]
            script = (
                "th" if "\u0e00" <= first <= "\u0e7f" else "zh" if "\u3400" <= first <= "\u9fff" else "word"
            )
            hits.append(_Hit(start, -neg_end, label, script))
    return hits


def _listed(text: str, hits: list[_Hit], negated: set[int]) -> set[int]:
    """Indices of hits in an echoed list: runs of labels joined by list gaps, with two labels or
    more, and a separator or conjunction (not just spaces: "ไม่ขัดแย้ง เป็นกลาง") or all three.
    A negated label is no list item ("Нет противоречия, следование")."""
    listed: set[int] = set()
    run, joined = [0] if hits else [], False
    for i in range(1, len(hits) + 1):
        gap = text[hits[i - 1].end : hits[i].start] if i < len(hits) else None
        joinable = gap is not None and not {i - 1, i} & negated and "\n" not in gap
        if joinable and _LIST_GAP.fullmatch(gap):
            run.append(i)
            joined = joined or bool(gap.strip())
            continue
        labels = {hits[j].label for j in run}
        if len(labels) == len(LABELS) or (len(labels) > 1 and joined):
            listed.update(run)
        run, joined = [i], False
    return listed


def _negated(text: str, hit: _Hit) -> bool:
    breaks = [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, hit.start)]
    if hit.script == "th":
        breaks += [m.end() for m in re.finditer(r"\s+", text[: hit.start])]
    before = text[max(breaks, default=0) : hit.start]
    if hit.script == "word":
        words = before.split()[-3:]
        if _NEGATION.search(" ".join(words)) or (
            "noch" in (w.lower() for w in words) and "weder" in before.lower()
        ):
            return True
        stop = _CLAUSE_BREAK.search(text, hit.end)
        after = text[hit.end : stop.start() if stop else len(text)].split()
        return bool(after) and after[-1].lower() in _NEGATION_AFTER
    return bool(_NEGATION.search(before[-10:] if hit.script == "th" else before[-4:]))


def _in_question(text: str, hit: _Hit) -> bool:
    end = _SENTENCE_END.search(text, hit.end)
    if end and end.group() in "?？":
        return True
    stop = _CLAUSE_BREAK.search(text, hit.end)
    after = text[hit.end : stop.start() if stop else len(text)]
    if hit.script == "th":
        after = after.split(None, 1)[0] if after.strip() else ""
    clause_start = max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, hit.start)), default=0)
    return hit.script != "word" and bool(
        _QUESTION_PARTICLE.search(after) or "是否" in text[clause_start : hit.start]
    )


def parse_label(generation: str, lang: str) -> str | None:
    """The English label a generation gives, or None.

    Label words of ``lang`` and English count (inflected forms such as "widerspricht" too), but
    not those that are negated (a cue before it in its clause: "not"/"no"/"neither"/"nor",
    "nicht"/"kein"/"weder...noch", "не"/"нет"/"ни", Thai ไม่, Chinese 不/没有/非/无; or clause-final
    "nicht"/"нет" after it: "widerspricht der Prämisse nicht"), nor those of an echoed list (two
    or more different labels joined only by commas, slashes or "or"/"and" in any language:
    "entailment, neutral or contradiction"). Labels in a question (a sentence ending in "?",
    Thai หรือไม่/ไหม, Chinese 是否/吗) count only when no other does. Of those left, the first
    after the last verdict phrase ("answer", "I think", "Antwort", "ответ", "คำตอบ", "答案",
    "我认为" ...) wins, else the first.
    """
    hits = _hits(generation, lang)
    negated = {i for i, hit in enumerate(hits) if _negated(generation, hit)}
    listed = _listed(generation, hits, negated)
    clean = [h for i, h in enumerate(hits) if i not in listed | negated]
    pool = [h for h in clean if not _in_question(generation, h)] or clean
    if not pool:
        return None
    for verdict in reversed(list(_VERDICT.finditer(generation))):
        after = [h for h in pool if h.start >= verdict.end()]
        if after:
            return after[0].label
    return pool[0].label


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

    Args:
        instructions: Per language code, an instruction with ``{0} {1} {2}`` for the label words
            (a string, keeping the English "Premise"/"Hypothesis" labels) or ``[instruction,
            premise label, hypothesis label]``, added to the shipped ``TEMPLATES``.
        label_words: Per language code, ``[entailment, neutral, contradiction]`` words, added to
            ``LABEL_WORDS``; ``parse_answer`` also finds them (whole, case-insensitive) when the
            shipped stems of that language and English find nothing.

    A language without texts uses the English ones, with a warning. Raises ValueError for
    texts of the wrong shape.
    """

    name: ClassVar[str] = "nli"
    fields: ClassVar[tuple[str, ...]] = ("premise", "hypothesis", "label")
    translatable: ClassVar[tuple[str, ...]] = ("premise", "hypothesis")
    inputs: ClassVar[tuple[str, ...]] = ("premise", "hypothesis")
    outputs: ClassVar[tuple[str, ...]] = ("label",)
    gold_field: ClassVar[str] = "label"
    passage_field: ClassVar[str | None] = "premise"
    languages: ClassVar[tuple[str, ...]] = ("en", "de", "ru", "th", "zh")
    primary_metric: ClassVar[str] = "accuracy"

    def __init__(
        self,
        instructions: Mapping[str, str | Sequence[str]] | None = None,
        label_words: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.instructions = labelled_templates(TEMPLATES, instructions, "premise label, hypothesis label")
        self.label_words = dict(LABEL_WORDS)
        for lang, words in (label_words or {}).items():
            if isinstance(words, str) or not isinstance(words, Sequence) or len(words) != len(LABELS) or not all(
                isinstance(w, str) and w.strip() for w in words
            ):
                raise ValueError(f"label_words['{lang}'] must be 3 words: {', '.join(LABELS)}")
            self.label_words[lang] = tuple(words)

    def load(self, source: str, lang: str, *, split: str | None = None) -> list[Example]:
        """Read JSONL (premise/hypothesis/label or sentence1/sentence2/gold_label), a TSV with a
        header (MNLI/XNLI columns; XNLI's ``language`` column keeps rows in ``lang``) or a Hub
        dataset (``hf://nyu-mll/multi_nli``, ``hf://facebook/xnli:de``)."""
        self.check_language(lang)
        tsv = lambda p: readers.read_tsv(p, header=True)  # noqa: E731
        table = readers.read_source(
            source, {".jsonl": readers.read_jsonl, ".tsv": tsv, ".txt": tsv}, split=split
        )
        row_lang = [str(r.get("language", lang)).strip() for r in table.records]
        serving = language_key(dict.fromkeys(row_lang), lang)  # rows labelled "de" serve "de-DE", "zh" not "zh-Hant"
        records = [r for r, rl in zip(table.records, row_lang, strict=True) if rl == serving]
        if not records:
            found = sorted({str(r.get("language")) for r in table.records})
            raise DataError(
                table.where, f"no examples in language '{lang}' (the 'language' column has {found})"
            )
        return self.examples_of(records, table, lang)

    def _example(self, record: readers.Record, table: readers.Table, lang: str) -> Example:
        where, line = table.where, record.line
        fields = {}
        for field, aliases in _ALIASES.items():
            key = next((k for k in aliases if k in record), aliases[0])
            readers.require_fields(record, (key,), where, line)
            fields[field] = readers.require_nonempty_text(record, key, where, line).strip()
        label_key = next((k for k in _LABEL_KEYS if k in record), _LABEL_KEYS[0])
        readers.require_fields(record, (label_key,), where, line)
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
        text, premise_label, hypothesis_label = self.texts_for(lang, self.instructions)
        words = self.texts_for(lang, self.label_words, what="label words")
        colon = get_language(lang).label_separator
        return (
            f"{text.format(*words)}\n\n"
            f"{premise_label}{colon}{example['premise']}\n{hypothesis_label}{colon}{example['hypothesis']}"
        )

    def target(self, example: Example) -> str:
        """The label word in the example's output language."""
        words = self.texts_for(self.output_lang(example), self.label_words, what="label words")
        return words[LABELS.index(example["label"])]

    def parse_answer(self, generation: str, lang: str) -> str | None:
        """The English label the generation gives (see ``parse_label``), else the first of
        ``lang``'s user-given label words in it (languages without shipped stems), else None."""
        label = parse_label(generation, lang)
        words_key = language_key(self.label_words, lang)
        if label is None and language_key(_STEMS, lang) is None and words_key is not None:
            words = self.label_words[words_key]
            found = [(m.start(), lab) for w, lab in zip(words, LABELS, strict=True)
                     for m in [re.search(re.escape(w), generation, re.IGNORECASE)] if m]
            label = min(found)[1] if found else None
        return label

    def score(self, predictions: Sequence[Any], golds: Sequence[Any], lang: str) -> dict[str, float]:
        """Predictions are label names or None, golds label names (or 0/1/2). ``accuracy``: %
        correct; ``unparsed``: % None or not a label (counted wrong). Raises ValueError for no
        examples, lengths that differ or a gold that is not a label."""
        self.check_scorable(predictions, golds)
        correct = unparsed = 0
        for pred, gold in zip(predictions, golds, strict=True):
            gold_label = normalize_label(gold)
            if gold_label is None:
                raise ValueError(f"gold label {gold!r} is not one of {', '.join(LABELS)}")
            pred_label = normalize_label(pred) if isinstance(pred, str) else None
            unparsed += pred_label is None
            correct += pred_label == gold_label
        n = len(golds)
        return {"accuracy": 100.0 * correct / n, "unparsed": 100.0 * unparsed / n}
