"""Answer projection for extractive QA: keep the translated answer a span of the translated context.

Before translation the answer is marked in the source context (``mark_span``: ``"... in [Berlin] ..."``);
after translation ``read_marked`` reads the span back from where the markers ended up and removes
them. Models lose, duplicate or reorder markers now and then, so ``find_answer`` is the fallback:
it looks for the separately translated answer in the translated context, first exactly (ignoring
case, Unicode compatibility forms, runs of whitespace and the answer's edge punctuation), then
approximately with ``rapidfuzz.fuzz.partial_ratio_alignment``. ``project_answer`` chains the two.

All offsets are character offsets into the string the caller gets back (the cleaned context), so
``context[m.start:m.end] == m.text`` always holds, also where normalization changes lengths
(``"ß"`` casefolds to ``"ss"``, ``"ﬁ"`` to ``"fi"``, ``"㍱"`` to ``"hpa"``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from selftt.languages import get_language

__all__ = ["SpanMatch", "find_answer", "mark_span", "project_answer", "read_marked"]

METHODS = ("marker", "exact", "fuzzy")

# Edge punctuation a model may pull inside the markers, or add around a translated answer. Kept
# deliberately small: brackets, hyphens, ``?``/``!``, ``%`` and the like can belong to an answer.
_DOUBLE_QUOTES = frozenset('"“”„‟«»‹›「」『』＂〝〞')
_SINGLE_QUOTES = frozenset("'‘’‚‛＇")
_LEAD_STRIP = frozenset(",;:、，；：､") | _DOUBLE_QUOTES
_TRAIL_STRIP = frozenset(",;:、，；：､。．｡") | _DOUBLE_QUOTES
# A trailing "." is kept after letter abbreviations ("U.S.", "e.g.", "z. B.") and a few common
# abbreviated words ("Apple Inc.").
_ABBREVIATION = re.compile(r"(?<![\w.])(?:[^\W\d_]\.\s?){2,}$")
_ABBREVIATED_WORDS = frozenset({"inc", "ltd", "co", "corp", "jr", "sr", "st", "etc"})
_LAST_WORD = re.compile(r"(\w+)\.$")

# Tidying after a marker is removed (only whitespace touching the marker is ever changed).
_NO_SPACE_BEFORE = frozenset(".,)]}。，、；：！？）］｝」』】〕》〉")  # never preceded by a space
_SPACE_OPTIONAL_BEFORE = frozenset(";:!?")  # French puts a space before these
_NO_SPACE_AFTER = frozenset("([{（［｛「『【〔《〈")


def _is_cjk(char: str) -> bool:
    """True for Han, kana and CJK punctuation/full-width forms (written without spaces)."""
    code = ord(char)
    return (
        0x3000 <= code <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF
        or 0x20000 <= code <= 0x2FA1F
    )


def _is_word_char(char: str) -> bool:
    """Letters, digits and combining marks (Thai vowels, Devanagari matras) are part of a word."""
    return char.isalnum() or unicodedata.category(char).startswith("M")


def marker_problem(markers: object) -> str | None:
    """What is wrong with an answer-marker pair, or None: it must be two non-empty strings without
    whitespace (the opening and the closing marker; they may be equal, as ``**``), neither inside
    the other."""
    if not isinstance(markers, tuple | list) or len(markers) != 2:
        return "not a pair of strings"
    if not all(isinstance(m, str) and m and not any(ch.isspace() for ch in m) for m in markers):
        return "each marker a non-empty string without spaces"
    opening, closing = markers
    if opening != closing and (opening in closing or closing in opening):
        return "one marker must not contain the other"
    if unicodedata.category(opening[0]) == "Pe" or unicodedata.category(closing[-1]) == "Ps":
        return "the opening marker first (a closing bracket opens, or an opening one closes)"
    return None


def _check_markers(markers: tuple[str, str]) -> tuple[str, str]:
    problem = marker_problem(markers)
    if problem:
        raise ValueError(f"markers {problem}, got {markers!r}")
    return markers[0], markers[1]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``text[start:end]`` by surrounding whitespace and edge punctuation (conservatively).

    Double quotes, commas, colons, semicolons and (at the end) full stops go; single quotes only as
    a pair around the span (``'s-Hertogenbosch`` keeps its apostrophe); a full stop ending an
    abbreviation (``U.S.``) stays. Returns the new offsets; ``start == end`` if nothing is left.
    """
    while True:
        before = (start, end)
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end and text[start] in _LEAD_STRIP:
            start += 1
        if end > start and text[end - 1] in _TRAIL_STRIP:
            end -= 1
        elif end > start and text[end - 1] == ".":
            span = text[start:end]
            word = _LAST_WORD.search(span)
            if not _ABBREVIATION.search(span) and not (
                word and word.group(1).casefold() in _ABBREVIATED_WORDS
            ):
                end -= 1
        if end - start >= 2 and text[start] in _SINGLE_QUOTES and text[end - 1] in _SINGLE_QUOTES:
            start, end = start + 1, end - 1
        if (start, end) == before:
            return start, end


def mark_span(text: str, start: int, end: int, markers: tuple[str, str]) -> str:
    """Wrap ``text[start:end]`` in ``markers``: ``text[:start] + open + text[start:end] + close + text[end:]``.

    Args:
        text: The source context.
        start: Offset of the first character of the span.
        end: Offset one past the last character of the span.
        markers: ``(open, close)``, e.g. ``("[", "]")``; non-blank strings, possibly equal
            (``("**", "**")``), neither containing the other unless equal.

    Returns:
        The marked text. If ``text`` already contains a marker string, ``read_marked`` will not find
        a single pair in its translation and ``project_answer`` falls back to ``find_answer``.

    Raises:
        ValueError: unless ``0 <= start < end <= len(text)``, or for invalid markers.
    """
    opening, closing = _check_markers(markers)
    if not (0 <= start < end <= len(text)):
        raise ValueError(f"span ({start}, {end}) is not a non-empty span of a text of length {len(text)}")
    return text[:start] + opening + text[start:end] + closing + text[end:]


def _remove_markers(text: str, found: list[re.Match[str]]) -> tuple[str, list[tuple[int, int]]]:
    """Drop the ``found`` marker occurrences from ``text``, tidying whitespace that touches them.

    Returns the cleaned text and, per marker, ``(offset before, offset after)`` the whitespace kept
    at its place in the cleaned text (a span opened by a marker starts at "after", one closed by a
    marker ends at "before").
    """
    out = ""
    places: list[tuple[int, int]] = []
    pos = 0
    for match in found:
        out += text[pos : match.start()]
        keep = len(out)
        while keep > 0 and out[keep - 1].isspace():
            keep -= 1
        before_ws = out[keep:]
        after = match.end()
        while after < len(text) and text[after].isspace():
            after += 1
        after_ws = text[match.end() : after]
        prev_char = out[keep - 1] if keep > 0 else None
        next_char = text[after] if after < len(text) else None
        padded = bool(before_ws and after_ws)
        ws = before_ws or after_ws  # a space on both sides of the marker becomes one
        if ws and (
            prev_char is None
            or next_char is None
            or next_char in _NO_SPACE_BEFORE
            or (padded and next_char in _SPACE_OPTIONAL_BEFORE)
            or prev_char in _NO_SPACE_AFTER
            or (_is_cjk(prev_char) and _is_cjk(next_char))
        ):
            ws = ""
        out = out[:keep] + ws
        places.append((keep, len(out)))
        pos = after
    return out + text[pos:], places


def read_marked(translation: str, markers: tuple[str, str]) -> tuple[str, tuple[int, int] | None]:
    """Read the marked span back from a translation and remove the markers.

    The span is found if the translation holds exactly one opening and one closing marker (for
    equal markers: the marker exactly twice), the opening one first, with non-blank text between.
    Whitespace touching a removed marker is tidied (``"in [ Berlin ] ."`` -> ``"in Berlin."``; no
    space left between two CJK characters, after an opening bracket, or at either end of the text);
    whitespace elsewhere is left alone. The span is trimmed of surrounding whitespace and of edge
    quotes, commas, colons, semicolons and full stops (see ``_trim``); internal punctuation stays.

    Args:
        translation: The model's translation of the marked context.
        markers: ``(open, close)`` as given to ``mark_span``.

    Returns:
        ``(clean, (start, end))`` with ``clean`` free of every marker string and
        ``clean[start:end]`` the answer, or ``(clean, None)`` if the markers are missing,
        duplicated, reversed or enclose nothing but whitespace/punctuation.

    Raises:
        ValueError: for invalid markers (blank, or one containing the other).
    """
    opening, closing = _check_markers(markers)
    alternatives = sorted({opening, closing}, key=len, reverse=True)
    found = list(re.finditer("|".join(re.escape(marker) for marker in alternatives), translation))
    clean, places = _remove_markers(translation, found)
    if len(found) != 2 or (opening != closing and [m.group() for m in found] != [opening, closing]):
        return clean, None
    start, end = _trim(clean, places[0][1], places[1][0])
    if start >= end:
        return clean, None
    return clean, (start, end)


@dataclass(frozen=True)
class SpanMatch:
    """Where the answer lies in the (cleaned) translated context.

    Attributes:
        method: ``"marker"`` (read from the markers), ``"exact"`` or ``"fuzzy"`` (``find_answer``).
        start: Offset of the span's first character.
        end: Offset one past its last character.
        score: Match quality 0-100; 100.0 for marker and exact matches.
        text: ``context[start:end]``.
    """

    method: str
    start: int
    end: int
    score: float
    text: str

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not 0 <= self.start < self.end or self.end - self.start != len(self.text):
            raise ValueError(f"inconsistent span ({self.start}, {self.end}) for text {self.text!r}")


def _normalize(text: str, spaced: bool) -> tuple[str, list[int], list[int]]:
    """NFKC + casefold ``text``, collapsing whitespace runs to one space (``spaced``) or dropping
    whitespace (unspaced scripts, where the model's spacing is arbitrary); format characters
    (zero-width space/joiner, soft hyphen) are dropped.

    Returns the normalized string and, per normalized character, the start and end offsets in
    ``text`` of the character (with its combining marks) that produced it.
    """
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and unicodedata.category(text[j]).startswith("M"):
            j += 1
        piece = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text[i:j]).casefold())
        for char in piece:
            if char.isspace():
                if not spaced:
                    continue
                if chars and chars[-1] == " ":
                    ends[-1] = j
                    continue
                char = " "
            elif unicodedata.category(char) == "Cf":
                continue
            chars.append(char)
            starts.append(i)
            ends.append(j)
        i = j
    return "".join(chars), starts, ends


def _bounded(norm: str, start: int, end: int) -> bool:
    """True if ``norm[start:end]`` neither starts nor ends inside a word."""
    if start > 0 and _is_word_char(norm[start]) and _is_word_char(norm[start - 1]):
        return False
    return not (end < len(norm) and _is_word_char(norm[end - 1]) and _is_word_char(norm[end]))


def find_answer(answer: str, context: str, lang: str, min_score: float = 80.0) -> SpanMatch | None:
    """Find a (translated) answer in a (translated) context.

    First an exact match: the answer, trimmed of edge whitespace/punctuation, occurs in the context
    after NFKC normalization and casefolding of both, with whitespace runs collapsed (spaced
    languages) or ignored (unspaced scripts: zh, ja, th, ...). For spaced languages the occurrence
    must not start or end inside a word (``"Rhein"`` is not found exactly in ``"Rheins"``). The first
    such occurrence wins.

    Then, if the normalized answer has 2+ characters and is not longer than the context, a fuzzy
    match: ``rapidfuzz.fuzz.partial_ratio_alignment`` of the normalized answer against the
    normalized context. If its score is at least ``min_score`` the aligned region is mapped back to
    the original context; for spaced languages it is widened to whole words, and it is trimmed of
    whitespace and edge punctuation. The score reported is rapidfuzz's alignment score (the span
    may then be wider than the aligned region).

    Args:
        answer: The answer as translated on its own.
        context: The translated context (without markers).
        lang: Language code of the translation (``get_language``), e.g. ``"de"``, ``"zh"``.
        min_score: Lowest fuzzy score (0-100) accepted.

    Returns:
        A ``SpanMatch`` (method ``"exact"`` with score 100.0, or ``"fuzzy"``) with offsets into
        ``context``, or None if the answer or context is empty/blank or nothing matches well enough.

    Raises:
        ConfigError: for an unknown language code.
        ValueError: if ``min_score`` is not within 0-100.
    """
    spaced = get_language(lang).spaced
    if not 0 <= min_score <= 100:
        raise ValueError(f"min_score must be within 0-100, got {min_score!r}")
    if not answer or not context:
        return None
    answer = answer[slice(*_trim(answer, 0, len(answer)))]
    needle = _normalize(answer, spaced)[0].strip()
    haystack, starts, ends = _normalize(context, spaced)
    if not needle or not haystack.strip():
        return None

    at = haystack.find(needle)
    while at >= 0:
        if not spaced or _bounded(haystack, at, at + len(needle)):
            start, end = starts[at], ends[at + len(needle) - 1]
            return SpanMatch("exact", start, end, 100.0, context[start:end])
        at = haystack.find(needle, at + 1)

    if len(needle) < 2 or len(needle) > len(haystack):
        return None
    from rapidfuzz import fuzz

    aligned = fuzz.partial_ratio_alignment(needle, haystack, score_cutoff=min_score)
    if aligned is None or aligned.score < min_score or aligned.dest_end <= aligned.dest_start:
        return None
    start, end = starts[aligned.dest_start], ends[aligned.dest_end - 1]
    if spaced:
        while start > 0 and _is_word_char(context[start - 1]) and _is_word_char(context[start]):
            start -= 1
        while end < len(context) and _is_word_char(context[end - 1]) and _is_word_char(context[end]):
            end += 1
    start, end = _trim(context, start, end)
    if start >= end:
        return None
    return SpanMatch("fuzzy", start, end, float(aligned.score), context[start:end])


def project_answer(
    translated_context: str,
    translated_answer: str,
    lang: str,
    markers: tuple[str, str] | None,
    min_score: float = 80.0,
) -> tuple[str, SpanMatch | None]:
    """Locate the answer in a translated context: by its markers, else by ``find_answer``.

    Args:
        translated_context: The translation of the context (marked with ``mark_span`` if
            ``markers`` is given).
        translated_answer: The answer translated on its own (used when the markers fail).
        lang: Language code of the translation.
        markers: The ``(open, close)`` markers used, or None if the context was not marked.
        min_score: Lowest fuzzy score accepted by the fallback.

    Returns:
        ``(clean_context, match)``: the context with every marker string removed (unchanged if
        ``markers`` is None) and a ``SpanMatch`` into it (method ``"marker"``, score 100.0, if the
        markers gave a span), or None if the answer could not be located.

    Raises:
        ConfigError: for an unknown language code.
        ValueError: for invalid markers or ``min_score``.
    """
    get_language(lang)
    clean = translated_context
    if markers is not None:
        clean, span = read_marked(translated_context, markers)
        if span is not None:
            start, end = span
            return clean, SpanMatch("marker", start, end, 100.0, clean[start:end])
    return clean, find_answer(translated_answer, clean, lang, min_score)
