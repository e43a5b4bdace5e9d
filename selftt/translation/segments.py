"""How a text field is cut into the pieces that are translated one prompt each, and joined again.

``segment`` (the ``translation.segment`` config key):

``sentence`` (default)
    Each line is split into sentences by ``sentencex`` (Wikimedia's rule-based segmenter, rules
    for ~250 languages with fallbacks: https://github.com/wikimedia/sentencex) for the *source*
    language; each sentence is one prompt. A whole paragraph in one prompt is hard for a small
    model (Gemma 3 270M en->de chrF 25.4 on XQuAD paragraphs, 47.5 on short sentences), and
    sentences repeated across examples (a QA context shared by several questions) are
    translated once.
``line``
    Each line is one prompt (selftt before sentence splitting).
``none``
    The whole field is one prompt, line breaks kept inside it (the prompt's stop strings end
    the translation, not a line break).

Translated pieces are joined with the target language's sentence separator
(:attr:`selftt.languages.Language.sentence_separator`: nothing in Chinese and Japanese, a space
elsewhere, Thai included) and lines with ``"\\n"``, so a chain of thought keeps one step per line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from selftt.languages import get_language

Segment = Literal["sentence", "line", "none"]
SEGMENTS: tuple[str, ...] = ("sentence", "line", "none")

Span = tuple[int, int]
"""(start, end) character offsets into the source text."""
Lines = list[list[Span]]
"""Per line of the source text (split at ``"\\n"``), the spans of its pieces; an empty line has none."""


def segment_text(text: str, lang: str, segment: Segment) -> Lines:
    """The pieces of ``text`` to translate, as spans of ``text`` stripped of surrounding whitespace.

    Args:
        text: the source field.
        lang: its language code (chooses ``sentencex``'s rules).
        segment: ``"sentence"``, ``"line"`` or ``"none"`` (see the module docstring).

    Returns:
        For ``sentence`` and ``line``, one list per line of ``text`` (``text.split("\\n")``), empty
        for a blank line; for ``none``, one list per run of non-blank lines (holding that run as
        one piece, line breaks inside) and an empty one per blank line.

    Raises:
        ValueError: an unknown ``segment``.
    """
    if segment == "none":
        return _blocks(text)
    if segment not in ("sentence", "line"):
        raise ValueError(f"segment must be one of {SEGMENTS}, got {segment!r}")
    lines: Lines = []
    offset = 0
    for line in text.split("\n"):
        if not line.strip():
            lines.append([])
        elif segment == "line":
            lines.append([_stripped(text, offset, offset + len(line))])
        else:
            lines.append(_sentences(text, offset, line, lang))
        offset += len(line) + 1
    return lines


def _blocks(text: str) -> Lines:
    """For ``none``: each run of non-blank lines is one piece (a prompt cannot hold a blank line,
    the separator of its shot pairs), listed at its first line; each blank line is an empty entry,
    so that joining with line breaks restores them."""
    lines: Lines = []
    offset, block_start, block_end = 0, None, 0
    for line in text.split("\n"):
        if line.strip():
            block_start = offset if block_start is None else block_start
            block_end = offset + len(line)
        else:
            if block_start is not None:
                lines.append([_stripped(text, block_start, block_end)])
                block_start = None
            lines.append([])
        offset += len(line) + 1
    if block_start is not None:
        lines.append([_stripped(text, block_start, block_end)])
    return lines


def _sentences(text: str, offset: int, line: str, lang: str) -> list[Span]:
    from sentencex import get_sentence_boundaries

    code = get_language(lang).code.split("-")[0]
    spans = []
    for boundary in get_sentence_boundaries(code, line):
        start, end = offset + boundary["start_index"], offset + boundary["end_index"]
        if text[start:end].strip():
            spans.append(_stripped(text, start, end))
    return spans or [_stripped(text, offset, offset + len(line))]


def _stripped(text: str, start: int, end: int) -> Span:
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    return start + lead, start + len(piece.rstrip())


def merge_around(lines: Lines, start: int, end: int) -> tuple[int, int] | None:
    """Merge the pieces of one line that overlap ``[start, end)`` into one piece (in place).

    Used to translate an answer span inside one prompt: an answer that a sentence splitter cut
    in two ("Washington, D.C." split after "D.") is translated with both sentences together.

    Returns:
        (line index, piece index) of the piece holding the span, or None when no piece holds it
        (the span is blank, outside the pieces, or crosses a line break).
    """
    for li, pieces in enumerate(lines):
        hit = [pi for pi, (s, e) in enumerate(pieces) if s < end and start < e]
        if not hit:
            continue
        first, last = hit[0], hit[-1]
        merged = (min(pieces[first][0], start), max(pieces[last][1], end))
        if any(s < end and start < e for other in lines[li + 1 :] for s, e in other):
            return None  # the span goes on past this line
        lines[li][first : last + 1] = [merged]
        return li, first
    return None


def join_pieces(translated: Sequence[Sequence[str]], lang: str) -> str:
    """The translated field: each line's pieces joined by ``lang``'s sentence separator (empty
    pieces skipped), lines by ``"\\n"``."""
    separator = get_language(lang).sentence_separator
    return "\n".join(separator.join(p for p in pieces if p) for pieces in translated)
