"""Quality filters for self-translations: cheap, language-aware checks that drop broken outputs.

A model translating its own training data with a few-shot prompt fails in a handful of typical
ways. Each rule below catches one of them; a translated example is kept only if every
translatable field passes every enabled rule (``filter_example`` returns the reasons otherwise).

``empty``
    The output is empty or whitespace only (the model stopped at once, or the field was lost).
``untranslated``
    The output is the source again (equal after normalizing case, spaces and punctuation), or,
    for sources of ``MIN_ECHO_WORDS`` words or more, contains a copy of it (the model echoed the
    source before or after translating). Text without letters (``"48 / 2 = 24"``) and name-like
    spans (at most two words, or up to eight where every word of 4+ letters has a capital:
    ``"Tesla"``, ``"Super Bowl 50"``, ``"University of Chicago"``) are legitimately identical
    across languages, above all as QA answers, and are never flagged.
``length_ratio``
    ``len(translation) / len(source)`` (characters, spaces collapsed) is outside the target
    language's bounds: a truncated translation is too short, a rambling or looping one too long.
    Bounds for English -> de/ru/th/zh come from real human translations (``DEFAULT_LENGTH_BOUNDS``);
    for any other pair they are estimated from the prompt's shot pairs (``estimate_length_bounds``)
    unless ``translation.filters.length_bounds`` gives them; sources under
    ``MIN_LENGTH_CHARS`` are not judged, and ``LENGTH_SLACK_CHARS`` of slack is allowed either way
    because short spans ("United States" -> "США") vary far more than sentences.
``repetition``
    Degenerate decoding loops: more than ``max_repeated_ngram_fraction`` of the n-grams are
    repeats of earlier ones (word 4-grams; for scripts that do not separate words, character
    n-grams: 6 for Chinese/Japanese, 10 for Thai/Lao/Khmer/Burmese, see :mod:`selftt.languages`;
    numbers count as one token so templated reasoning steps that
    differ only in their numbers are not loops), or one letter 5+ times in a row ("ааааа",
    "的的的的的"), or one word 4+ times in a row ("the the the the"). Saying a word twice is fine.
``script``
    Fewer than ``min_script_fraction`` of the letters are in the target language's script (its
    CLDR likely script, Unicode Script_Extensions: de Latin, ru Cyrillic, hi Devanagari, zh Han,
    ja Han + kana, ko Hangul + Han; see :mod:`selftt.languages`): the model answered in English or in another
    language. Capitalized Latin words copied from the source (names, acronyms: "NASUWT是什么？")
    do not count; outputs with under ``MIN_SCRIPT_LETTERS`` letters, and name-like spans kept
    exactly as in the source ("Nikola Tesla" as a Chinese answer), are not judged.
``numbers`` (math only)
    Every number of the source must appear in the translation, read leniently: ``1,000``,
    ``1.000``, ``1 000`` and ``1000`` are all 1000, ``1,5`` may be 1.5, full-width and Thai
    digits count. A lost or changed number ("48" -> "84") makes the example wrong, not just
    clumsy. The number parsing lives in :mod:`selftt.languages.numbers`.
``answer_in_context`` (QA only, ``qa_answer="filter"``)
    The translated answer must occur in the translated context (ignoring case, spacing and
    surrounding punctuation), otherwise the example no longer teaches extractive QA.

``truncated``, ``empty_line``, ``lost_question``, ``scaffolding``
    A cut-off translation or prompt text in the output: see :mod:`selftt.translation.output_checks`.

Everything here is pure Python (no torch) and linear-time in the text length.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from selftt.errors import ConfigError
from selftt.languages import get_language
from selftt.languages.numbers import chinese_numbers as chinese_numbers
from selftt.languages.numbers import source_numbers, translation_numbers
from selftt.translation.output_checks import has_scaffolding, lost_line, lost_question, truncated

if TYPE_CHECKING:
    from selftt.tasks.base import Task

RULES = (
    "empty",
    "truncated",
    "empty_line",
    "lost_question",
    "scaffolding",
    "untranslated",
    "length_ratio",
    "repetition",
    "script",
    "numbers",
    "answer_in_context",
)
"""All filter rules, in the order they are checked and reported."""

# Target chars / English source chars (spaces collapsed), measured on the human translations in
# ../shared/data: MGSM questions (250 pairs), XQuAD contexts (240) and questions (1,190).
# Percentiles over those 1,680 pairs per language, p0.5 / p50 / p99.5 [min - max]:
#   de 0.76 / 1.12 / 1.68 [0.61 - 2.02]     ru 0.69 / 1.05 / 1.82 [0.59 - 3.07]
#   th 0.54 / 0.90 / 1.46 [0.44 - 2.67]     zh 0.18 / 0.31 / 0.63 [0.16 - 0.79]
# The bounds widen p0.5 / p99.5 by 10-20% (a model's translations vary more than professional
# ones). With LENGTH_SLACK_CHARS they keep 99.8-100% of those pairs, and 99-99.4% of the XQuAD
# answers (a third are under MIN_LENGTH_CHARS: not judged). English, a target only when translating
# back, is not measured: loose bounds. These hold for an English source only (FilterSettings.for_pair).
DEFAULT_LENGTH_BOUNDS: dict[str, tuple[float, float]] = {
    "en": (0.5, 2.0),
    "de": (0.65, 1.9),
    "ru": (0.6, 2.0),
    "th": (0.45, 1.6),
    "zh": (0.15, 0.75),
}
MIN_LENGTH_CHARS = 10
"""Sources shorter than this ("1905", "Tesla") are not judged by ``length_ratio``."""
LENGTH_SLACK_CHARS = 5
"""Characters allowed beyond ``lo * len(source)`` / ``hi * len(source)``."""
MIN_ECHO_WORDS = 8
"""Sources of at least this many words count as untranslated when copied inside the output; shorter
ones are often quoted next to their translation ("佛瓦和悉达多 (phowa and siddhi)")."""
MIN_SCRIPT_LETTERS = 3
"""Outputs with fewer letters (numbers, "km") are not judged by ``script``."""


ESTIMATE_WIDEN = (0.5, 2.0)
"""``estimate_length_bounds`` multiplies the least shot ratio by the first, the greatest by the second."""

_WORD_NGRAM = 4
_MAX_LETTER_RUN = 4  # one letter 5+ times in a row is a loop
_MAX_WORD_RUN = 3  # one word 4+ times in a row is a loop

_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_CHAR_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|\S")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_LETTER_RUN = re.compile(rf"([^\W\d_])\1{{{_MAX_LETTER_RUN},}}")


@dataclass
class FilterSettings:
    """Which quality filters run on self-translations, and their thresholds."""

    empty: bool = True
    """Drop empty or whitespace-only translations."""
    truncated: bool = True
    """Drop translations of which some line ended at its token budget (maybe mid-sentence)."""
    empty_line: bool = True
    """Drop multi-line translations with an empty line where the source line is not empty."""
    lost_question: bool = True
    """Drop translations without a question mark of a source that has one (the question was dropped)."""
    scaffolding: bool = True
    """Drop translations that hold a language label of the prompt ('German:', 'English: ...')."""
    untranslated: bool = True
    """Drop translations equal to the source (ignoring case, spaces and punctuation) or containing a
    verbatim copy of it; text without letters and name-like spans (names, titles) may stay identical."""
    length_ratio: bool = True
    """Drop translations whose length (characters) relative to the source is outside the bounds."""
    length_bounds: dict[str, list[float]] | None = None
    """Per target language code [lo, hi] of translation chars / source chars, overriding
    DEFAULT_LENGTH_BOUNDS (English source: de 0.65-1.9, ru 0.6-2.0, th 0.45-1.6, zh 0.15-0.75) and
    the bounds estimated from the shots for other pairs, e.g. {"zh": [0.15, 0.9], "sw": [0.6, 2.2]}."""
    repetition: bool = True
    """Drop degenerate repetition (decoding loops)."""
    max_repeated_ngram_fraction: float = 0.5
    """Most n-grams that may repeat earlier ones (word 4-grams; character 6-grams for Chinese and
    Japanese, 10-grams for Thai, Lao, Khmer and Burmese)."""
    script: bool = True
    """Drop translations written mostly in another script than the target language's."""
    min_script_fraction: float = 0.6
    """Least fraction of letters in the target language's script (de Latin, ru Cyrillic, hi Devanagari, zh Han)."""
    numbers: bool = True
    """Math: drop translations that lose or change a number of the source (1,000 = 1.000 = 1 000)."""
    qa_answer: Literal["filter", "keep"] = "filter"
    """QA: 'filter' drops examples whose translated answer is not in the translated context; 'keep' keeps them."""

    def validate(self, key: str = "translation.filters") -> None:
        """Raise a ConfigError naming ``key.<field>`` for any out-of-range setting."""
        switches = ("empty", "truncated", "empty_line", "lost_question", "scaffolding", "untranslated")
        for name in (*switches, "length_ratio", "repetition", "script", "numbers"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{key}.{name}", f"must be true or false, got {getattr(self, name)!r}")
        for name in ("max_repeated_ngram_fraction", "min_script_fraction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
                raise ConfigError(f"{key}.{name}", f"must be a number in (0, 1], got {value!r}")
        if self.qa_answer not in ("filter", "keep"):
            raise ConfigError(f"{key}.qa_answer", f"must be 'filter' or 'keep', got {self.qa_answer!r}")
        if self.length_bounds is None:
            return
        where = f"{key}.length_bounds"
        if not isinstance(self.length_bounds, dict):
            raise ConfigError(where, f"must map languages to [lo, hi], got {self.length_bounds!r}")
        for lang, pair in self.length_bounds.items():
            get_language(lang, where)  # any valid language code
            ok = isinstance(pair, (list, tuple)) and len(pair) == 2
            ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair)
            if not (ok and 0 < pair[0] < pair[1]):
                raise ConfigError(where, f"'{lang}' must be [lo, hi] with 0 < lo < hi, got {pair!r}")

    def _given(self, lang: str) -> tuple[float, float] | None:
        code = get_language(lang, "translation.filters.length_bounds").code
        for name, (lo, hi) in (self.length_bounds or {}).items():
            if name == lang or get_language(name).code == code:
                return float(lo), float(hi)
        return None

    def bounds(self, lang: str) -> tuple[float, float]:
        """(lo, hi) of translation chars / source chars for target language ``lang``: the given
        ``length_bounds``, else DEFAULT_LENGTH_BOUNDS (an English source). Raises ConfigError
        naming ``translation.filters.length_bounds`` for a language with neither (use
        :meth:`for_pair`, which estimates them from the shots)."""
        given = self._given(lang)
        if given is not None:
            return given
        if lang not in DEFAULT_LENGTH_BOUNDS:
            raise ConfigError(
                "translation.filters.length_bounds",
                f"no length bounds for language '{lang}': give [lo, hi] (translation chars / source chars)",
            )
        return DEFAULT_LENGTH_BOUNDS[lang]

    def for_pair(self, src_lang: str, tgt_lang: str, shots: Sequence[tuple[str, str]]) -> FilterSettings:
        """These settings with length bounds for ``src_lang`` -> ``tgt_lang`` made explicit.

        Given ``length_bounds`` win; an English source into a language of DEFAULT_LENGTH_BOUNDS
        keeps its tuned bounds; any other pair (another target, or a non-English source, for
        which the tuned target/English ratios do not hold) gets ``estimate_length_bounds(shots)``.
        Returns ``self`` when nothing changes, else a copy.
        """
        src, tgt = get_language(src_lang).code, get_language(tgt_lang).code
        if not self.length_ratio or self._given(tgt) is not None:
            return self
        if src == "en" and tgt in DEFAULT_LENGTH_BOUNDS:
            return self
        estimate = list(estimate_length_bounds(shots))
        return replace(self, length_bounds={**(self.length_bounds or {}), tgt: estimate})


def estimate_length_bounds(shots: Sequence[tuple[str, str]]) -> tuple[float, float]:
    """Length bounds (lo, hi) estimated from parallel (source, target) pairs, e.g. the prompt's shots.

    The ratios target chars / source chars (spaces collapsed) of the pairs whose source has at
    least ``MIN_LENGTH_CHARS`` characters (all pairs if none has), widened generously by
    ``ESTIMATE_WIDEN``: ``(0.5 * least ratio, 2 * greatest ratio)``. A handful of shots cannot
    show the spread of real translations (the tuned bounds of DEFAULT_LENGTH_BOUNDS span about
    1:3), hence the wide margin. On the packaged en->de shots this gives (0.45, 2.43), en->zh (0.13, 1.07).
    Raises ValueError for no pairs or an empty side.
    """
    pairs = [(len(_squash(src)), len(_squash(tgt))) for src, tgt in shots]
    if not pairs or any(not a or not b for a, b in pairs):
        raise ValueError("length bounds need non-empty (source, target) shot pairs")
    long = [(a, b) for a, b in pairs if a >= MIN_LENGTH_CHARS] or pairs
    ratios = [b / a for a, b in long]
    return round(min(ratios) * ESTIMATE_WIDEN[0], 3), round(max(ratios) * ESTIMATE_WIDEN[1], 3)


def _squash(text: str) -> str:
    return " ".join(text.split())


def normalize_text(text: str) -> str:
    """NFKC, case-folded, punctuation and symbols turned into spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _squash("".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text))


def _letter_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if any(ch.isalpha() for ch in w)]


def _name_like(text: str) -> bool:
    """At most two words, or up to eight where every word of 4+ letters has a capital (a name or title)."""
    words = _letter_words(text)
    if len(words) <= 2:
        return True
    return len(words) <= 8 and all(len(w) <= 3 or any(ch.isupper() for ch in w) for w in words)


def _copied_names(source: str) -> set[str]:
    """Latin words of ``source`` with a capital letter (names, acronyms: "Tesla", "NASUWT", "iPhone")."""
    return {w for w in _LATIN_WORD.findall(source) if any(ch.isupper() for ch in w)}


def script_fraction(
    text: str, lang: str, ignore: set[str] | frozenset[str] = frozenset()
) -> tuple[float, int]:
    """(fraction of the letters in ``lang``'s script, number of letters), not counting the Latin
    words in ``ignore`` (names copied from the source). Letters are characters of category L*;
    the script is the language's likely one (:func:`selftt.languages.get_language`; Unicode
    Script_Extensions). Raises ConfigError for an invalid code, ValueError for a script Unicode
    does not define."""
    letters_of = get_language(lang).letters
    if letters_of is None:
        raise ValueError(f"Unicode defines no script {get_language(lang).script!r} (language {lang!r})")
    if ignore:
        text = _LATIN_WORD.sub(lambda m: " " if m.group() in ignore else m.group(), text)
    letters = [ch for ch in text if unicodedata.category(ch)[0] == "L"]
    if not letters:
        return 1.0, 0
    return sum(bool(letters_of.match(ch)) for ch in letters) / len(letters), len(letters)


def _tokens(text: str, lang: str) -> list[str]:
    """Case-folded words, or characters (numbers kept whole) for scripts without spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if not get_language(lang).spaced:
        return [t for t in _CHAR_TOKEN.findall(text) if t[0].isdigit() or unicodedata.category(t)[0] in "LM"]
    return _WORD.findall(text)


def repeated_ngram_fraction(text: str, lang: str) -> float:
    """Share of the n-grams of ``text`` that repeat an earlier one (0.0 for fewer than 4 n-grams)."""
    tokens = _tokens(text, lang)
    n = get_language(lang).char_ngram or _WORD_NGRAM
    total = len(tokens) - n + 1
    if total < 4:
        return 0.0
    distinct = {tuple(tokens[i : i + n]) for i in range(total)}
    return 1.0 - len(distinct) / total


def _has_loop(text: str, lang: str) -> bool:
    if _LETTER_RUN.search(unicodedata.normalize("NFKC", text).casefold()):
        return True
    if not get_language(lang).spaced:
        return False
    run, previous = 0, None
    for word in _tokens(text, lang):
        run = run + 1 if word == previous else 1
        previous = word
        if run > _MAX_WORD_RUN and sum(ch.isalpha() for ch in word) > 1:
            return True
    return False


def check_text(
    source: str,
    translation: str,
    tgt_lang: str,
    settings: FilterSettings,
    *,
    numbers: bool = False,
    finish: Sequence[str] | None = None,
    labels: Sequence[str] = (),
) -> list[str]:
    """Rule names (from ``RULES``) that this one translated string fails; empty list = passes.

    ``numbers`` turns on the numbers rule (math fields); ``finish`` are the finish reasons of the
    field's translated lines (``truncated``; None when unknown, e.g. caches written before they
    were recorded); ``labels`` the prompt's language labels (``scaffolding``). An empty source is
    never judged, and an empty translation is reported as ``empty`` only.
    """
    if not source.strip():
        return []
    if not translation.strip():
        return ["empty"] if settings.empty else []
    failed = []
    if settings.truncated and truncated(finish):
        failed.append("truncated")
    if settings.empty_line and lost_line(source, translation):
        failed.append("empty_line")
    if settings.lost_question and lost_question(source, translation, tgt_lang):
        failed.append("lost_question")
    if settings.scaffolding and has_scaffolding(source, translation, labels):
        failed.append("scaffolding")
    src_norm, tr_norm = normalize_text(source), normalize_text(translation)
    legit_copy = _name_like(source)
    if settings.untranslated and not legit_copy:
        echo = len(src_norm.split()) >= MIN_ECHO_WORDS and f" {src_norm} " in f" {tr_norm} "
        if tr_norm == src_norm or echo:
            failed.append("untranslated")
    src_len, tr_len = len(_squash(source)), len(_squash(translation))
    if settings.length_ratio and src_len >= MIN_LENGTH_CHARS:
        lo, hi = settings.bounds(tgt_lang)
        if not lo * src_len - LENGTH_SLACK_CHARS <= tr_len <= hi * src_len + LENGTH_SLACK_CHARS:
            failed.append("length_ratio")
    if settings.repetition and (
        _has_loop(translation, tgt_lang)
        or repeated_ngram_fraction(translation, tgt_lang) > settings.max_repeated_ngram_fraction
    ):
        failed.append("repetition")
    judge_script = get_language(tgt_lang).letters is not None and not (legit_copy and tr_norm == src_norm)
    if settings.script and judge_script:
        fraction, letters = script_fraction(translation, tgt_lang, _copied_names(source))
        if letters >= MIN_SCRIPT_LETTERS and fraction < settings.min_script_fraction:
            failed.append("script")
    if numbers and settings.numbers and not source_numbers(source) <= translation_numbers(translation):
        failed.append("numbers")
    return failed


def filter_example(
    task: Task,
    source: dict[str, Any],
    translated: dict[str, Any],
    tgt_lang: str,
    settings: FilterSettings,
    fields: Sequence[str] | None = None,
    finish: dict[str, list[str]] | None = None,
    labels: Sequence[str] = (),
) -> list[str]:
    """All reasons an example fails, as ``'field:rule'`` (``'answer:numbers'``,
    ``'example:answer_in_context'``); an empty list means keep it.

    Checks each translated field (``fields``, default ``task.translatable``) with
    ``check_text`` (``finish[field]`` the finish reasons of its lines; ``labels`` the prompt's
    language labels), then adds the task's own ``task.translation_checks`` (math: numbers kept;
    QA: the answer in the context), each field's reasons together, example-wide ones last.
    """
    finish = finish or {}
    names = tuple(fields if fields is not None else task.translatable)
    own = task.translation_checks(source, translated, tgt_lang, settings, names)
    reasons = []
    for name in names:
        src, out = str(source.get(name) or ""), str(translated.get(name) or "")
        checks = check_text(src, out, tgt_lang, settings, finish=finish.get(name), labels=labels)
        reasons += [f"{name}:{rule}" for rule in checks]
        reasons += [r for r in own if r.rsplit(":", 1)[0] == name]
    return reasons + [r for r in own if r.rsplit(":", 1)[0] not in names]


def count_reasons(verdicts: Iterable[list[str]]) -> dict[str, int]:
    """Per rule (the part after ':'), how many examples it rejected; plus ``kept`` and ``total``.

    An example failing one rule in several fields counts once for that rule; every rule of
    ``RULES`` is present (possibly 0) so reports line up across languages.
    """
    counts = dict.fromkeys(RULES, 0)
    kept = total = 0
    for reasons in verdicts:
        total += 1
        kept += not reasons
        for rule in {reason.rsplit(":", 1)[-1] for reason in reasons}:
            counts[rule] = counts.get(rule, 0) + 1
    return {**counts, "kept": kept, "total": total}
