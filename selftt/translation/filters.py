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

``language_id``
    lingua (:mod:`selftt.translation.language_id`, models inside its wheel) finds the field to be
    in another language than the target with at least ``min_language_confidence``, choosing
    between the source, the target and ``language_id_candidates``: English left in a German
    translation, which the ``script`` rule cannot see. Fields under 20 letters (after removing
    Latin names for non-Latin targets) and name-like sources are not judged.
``round_trip`` (off by default)
    The field translated back into the source language by the same model has chrF (sacrebleu,
    0-100) below ``round_trip_min_chrf`` against the source field. Only translations that every
    other rule keeps are translated back (and counted here).
``duplicate``
    The same translation (ignoring case, spacing, punctuation) as that of a different source
    text of the field (:func:`duplicate_reasons`; a set-level rule, name-like sources left out).

``truncated``, ``empty_line``, ``lost_question``, ``scaffolding``
    A cut-off translation or prompt text in the output: see :mod:`selftt.translation.output_checks`.

Everything here is pure Python (no torch) and linear-time in the text length.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from selftt.languages import get_language
from selftt.languages.numbers import chinese_numbers as chinese_numbers
from selftt.languages.numbers import source_numbers, translation_numbers
from selftt.translation.duplicates import duplicate_translations, normalized
from selftt.translation.filter_settings import FilterSettings
from selftt.translation.language_id import wrong_language
from selftt.translation.length_bounds import LENGTH_SLACK_CHARS, MIN_LENGTH_CHARS, squash
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
    "language_id",
    "round_trip",
    "answer_in_context",
    "duplicate",
)
"""All filter rules, in the order they are checked and reported."""

MIN_ECHO_WORDS = 8
"""Sources of at least this many words count as untranslated when copied inside the output; shorter
ones are often quoted next to their translation ("佛瓦和悉达多 (phowa and siddhi)")."""
MIN_SCRIPT_LETTERS = 3
"""Outputs with fewer letters (numbers, "km") are not judged by ``script``."""


_WORD_NGRAM = 4
_MAX_LETTER_RUN = 4  # one letter 5+ times in a row is a loop
_MAX_WORD_RUN = 3  # one word 4+ times in a row is a loop

_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_CHAR_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|\S")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_LETTER_RUN = re.compile(rf"([^\W\d_])\1{{{_MAX_LETTER_RUN},}}")


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
    src_lang: str | None = None,
    back: str | None = None,
) -> list[str]:
    """Rule names (from ``RULES``) that this one translated string fails; empty list = passes.

    ``numbers`` turns on the numbers rule (math fields); ``finish`` are the finish reasons of the
    field's translated lines (``truncated``; None when unknown, e.g. caches written before they
    were recorded); ``labels`` the prompt's language labels (``scaffolding``); ``src_lang`` the
    source language (``language_id`` runs only when it is given); ``back`` the translation back
    into the source language (``round_trip``; None: not judged). An empty source is never
    judged, and an empty translation is reported as ``empty`` only.
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
    src_norm, tr_norm = normalized(source), normalized(translation)
    legit_copy = _name_like(source)
    if settings.untranslated and not legit_copy:
        echo = len(src_norm.split()) >= MIN_ECHO_WORDS and f" {src_norm} " in f" {tr_norm} "
        if tr_norm == src_norm or echo:
            failed.append("untranslated")
    src_len, tr_len = len(squash(source)), len(squash(translation))
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
    if settings.language_id and src_lang and not legit_copy:
        candidates = (src_lang, *(settings.language_id_candidates or ()))
        if wrong_language(translation, tgt_lang, candidates, settings.min_language_confidence):
            failed.append("language_id")
    if settings.round_trip and back is not None and sentence_chrf(back, source) < settings.round_trip_min_chrf:
        failed.append("round_trip")
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
    src_lang: str | None = None,
    back: dict[str, str] | None = None,
) -> list[str]:
    """All reasons an example fails, as ``'field:rule'`` (``'answer:numbers'``,
    ``'example:answer_in_context'``); an empty list means keep it.

    Checks each translated field (``fields``, default ``task.translatable``) with
    ``check_text`` (``finish[field]`` the finish reasons of its lines; ``labels`` the prompt's
    language labels; ``src_lang`` the source language; ``back[field]`` its round-trip
    translation, if made), then adds the task's own ``task.translation_checks`` (math: numbers kept;
    QA: the answer in the context), each field's reasons together, example-wide ones last.
    """
    finish, back = finish or {}, back or {}
    names = tuple(fields if fields is not None else task.translatable)
    own = task.translation_checks(source, translated, tgt_lang, settings, names)
    reasons = []
    for name in names:
        src, out = str(source.get(name) or ""), str(translated.get(name) or "")
        checks = check_text(
            src, out, tgt_lang, settings, finish=finish.get(name), labels=labels, src_lang=src_lang, back=back.get(name)
        )
        reasons += [f"{name}:{rule}" for rule in checks]
        reasons += [r for r in own if r.rsplit(":", 1)[0] == name]
    return reasons + [r for r in own if r.rsplit(":", 1)[0] not in names]


def rejection_summary(counts: dict[str, int]) -> str:
    """``count_reasons``'s counts as ``"rule n, rule n"``: the rules that rejected at least one
    example, in ``counts``' order (``kept`` and ``total`` left out); '' when none did."""
    return ", ".join(f"{rule} {n}" for rule, n in counts.items() if rule not in ("kept", "total") and n)


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


def duplicate_reasons(
    sources: Sequence[dict[str, Any]], translated: Sequence[dict[str, Any]], fields: Sequence[str]
) -> dict[int, list[str]]:
    """Per example index, ``'field:duplicate'`` for each field whose translation equals (ignoring
    case, spacing and punctuation) the translation of a different source text of that field
    (:func:`selftt.translation.duplicates.duplicate_translations`). Name-like sources (at most
    two words, or a title: "Denver Broncos", "the Broncos") are left out: different spellings of
    one name may rightly share a translation."""
    reasons: dict[int, list[str]] = {}
    for name in fields:
        index = [i for i, e in enumerate(sources) if not _name_like(str(e.get(name) or ""))]
        found = duplicate_translations(
            [str(sources[i].get(name) or "") for i in index], [str(translated[i].get(name) or "") for i in index]
        )
        for k in sorted(found):
            reasons.setdefault(index[k], []).append(f"{name}:duplicate")
    return reasons


def sentence_chrf(hypothesis: str, reference: str) -> float:
    """chrF (0-100) of one hypothesis against one reference: sacrebleu's ``CHRF`` (character
    6-grams, beta 2; Popovic 2015), the metric of the ``round_trip`` rule."""
    from sacrebleu.metrics import CHRF

    return float(CHRF().sentence_score(hypothesis, [reference]).score)
