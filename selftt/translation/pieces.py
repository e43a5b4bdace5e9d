"""Text-level self-translation: fields cut into pieces (sentences or lines), each piece translated
in one few-shot prompt by the shared batched generator, the pieces joined again.

An answer span to project (extractive QA) is marked inside its piece with the answer markers
before translation (:func:`selftt.translation.projection.mark_span`); the translation keeps the
markers, and the filtering stage reads the translated answer back from them.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from selftt.modules.engines.protocol import TextGenerator
from selftt.modules.generation import BatchedGenerator, GenerationSettings
from selftt.translation.filters import FilterSettings, check_text
from selftt.translation.projection import mark_span, read_marked
from selftt.translation.prompt import TranslationPrompt
from selftt.translation.segments import Segment, Span, join_pieces, merge_around, segment_text

log = logging.getLogger(__name__)

PIECE_CHECK_VERSION = 1
"""Part of the cache key when pieces are retried: raise it when :class:`PieceCheck` changes."""

DROPPED = "dropped"
"""The finish reason recorded for a piece left out of its context (see ``PieceSettings.drop_failed_pieces``)."""

SHOT_ROTATION_VERSION = 2
"""Part of the cache key from ``retries: 2`` on: raise it when :func:`_rotated` changes the shots
of a retry after the first (version 1 repeated the first retry's shots at the third)."""


@dataclass(frozen=True)
class PieceSettings:
    """What decides the pieces and their prompts (a view of :class:`TranslationSettings`)."""

    prompt: TranslationPrompt
    generation: GenerationSettings
    segment: Segment
    max_new_tokens_ratio: float
    max_new_tokens_extra: int
    answer_markers: tuple[str, str] | None
    retries: int = 3
    """Pieces whose translation fails a piece check are translated again this often, each time with
    the next ``n_shots`` shot pairs of the shots file (rotating), greedy as before."""
    drop_failed_pieces: float = 0.0
    """Extractive QA contexts: the largest share of a context's pieces whose translation still
    fails the piece check after the retries that may be left out of the translated context
    (``floor(share x pieces)``; never the piece holding the marked answer). 0: none."""


def marked_pieces(
    text: str, src_lang: str, segment: Segment, span: Span | None, markers: tuple[str, str] | None
) -> list[list[str]]:
    """The pieces of ``text`` per line, the one holding ``span`` with the markers around it.

    The span is marked only when both ``span`` and ``markers`` are given, the span lies inside one
    line, and its piece does not already hold a marker (it could not be read back unambiguously).
    """
    return _segment_and_mark(text, src_lang, segment, span, markers)[0]


def _segment_and_mark(
    text: str, src_lang: str, segment: Segment, span: Span | None, markers: tuple[str, str] | None
) -> tuple[list[list[str]], str | None]:
    """``marked_pieces`` and the marked piece's text (None when nothing was marked)."""
    lines, where = _cut(text, src_lang, segment, span, markers)
    pieces = [[text[s:e] for s, e in line] for line in lines]
    if where is not None and markers is not None and span is not None:
        li, pi = where
        start, end = lines[li][pi]
        piece = text[start:end]
        if not any(m in piece for m in markers):
            pieces[li][pi] = mark_span(piece, span[0] - start, span[1] - start, markers)
            return pieces, pieces[li][pi]
    return pieces, None


def _cut(text: str, src_lang: str, segment: Segment, span: Span | None, markers: tuple[str, str] | None):
    """The (start, end) of each piece per line, the pieces around a span to mark merged into one,
    and the (line, piece) index of that piece (None: nothing to mark)."""
    lines = segment_text(text, src_lang, segment)
    return lines, merge_around(lines, *span) if span and markers else None


def kept_source(
    text: str, src_lang: str, segment: Segment, span: Span | None, markers: tuple[str, str] | None, finish: Sequence[str]
) -> str:
    """``text`` without the pieces whose translation was left out (finish reason ``DROPPED``):
    the source that the translated field stands for, which the filters compare it with (a
    length ratio against the whole paragraph would reject every context with a sentence left
    out). ``text`` itself when the pieces and ``finish`` do not line up (nothing is guessed)."""
    lines, _ = _cut(text, src_lang, segment, span, markers)
    if DROPPED not in finish or sum(len(line) for line in lines) != len(finish):
        return text
    reasons = iter(finish)
    kept = [[text[s:e] for s, e in line if next(reasons) != DROPPED] for line in lines]
    return join_pieces(kept, src_lang)


def translate_pieces(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    src_lang: str,
    tgt_lang: str,
    shots: list[tuple[str, str]],
    settings: PieceSettings,
    spans: Sequence[Span | None] | None = None,
    generator: TextGenerator | None = None,
) -> list[tuple[str, list[str]]]:
    """(translation, finish reason of each translated piece) for each of ``texts``.

    Args:
        model, tokenizer: the causal LM that translates (a PEFT model's adapter is switched off).
        texts: source fields; blank lines stay blank, line breaks are kept.
        src_lang, tgt_lang: language codes.
        shots: the prompt's (source, target) shot pairs.
        settings: segmentation, prompt, decoding and token budgets.
        spans: per text, the (start, end) of an answer span to mark, or None.
        generator: the engine that generates (default: ``BatchedGenerator`` on ``model``; see
            :class:`selftt.modules.engines.protocol.TextGenerator`).

    Returns:
        Per text, the joined translation and the finish reasons of its pieces (see
        :class:`~selftt.modules.generation.Generation`; ``length``: the piece's budget of
        ``ratio x its tokens + extra`` new tokens ran out). Identical pieces are translated once.
    """
    spans = spans if spans is not None else [None] * len(texts)
    segmented = [
        _segment_and_mark(text, src_lang, settings.segment, span, settings.answer_markers)
        for text, span in zip(texts, spans, strict=True)
    ]
    per_text = [lines for lines, _ in segmented]
    unique = list(dict.fromkeys(p for lines in per_text for line in lines for p in line))
    given = {piece for _, piece in segmented if piece is not None}
    marked = {i for i, piece in enumerate(unique) if piece in given}  # pieces given answer markers
    prompts = [settings.prompt.build(piece, shots, src_lang, tgt_lang) for piece in unique]
    budgets = [
        math.ceil(settings.max_new_tokens_ratio * len(tokenizer(piece, add_special_tokens=False)["input_ids"]))
        + settings.max_new_tokens_extra
        for piece in unique
    ]
    # one piece in, one piece out: a line break ends it (except for whole fields), as do the prompt's stop strings
    stop = settings.prompt.stop_strings(src_lang)
    stop = stop if settings.segment == "none" else ["\n", *stop]
    generator = generator if generator is not None else BatchedGenerator(model, tokenizer, settings.generation)
    with adapter_disabled(model):
        outputs = generator.generate_detailed(prompts, stop=stop, max_new_tokens=budgets)
        check = PieceCheck(src_lang, tgt_lang, shots, settings.answer_markers)
        failing = [
            i for i, out in enumerate(outputs) if check.fails(unique[i], out.text, out.finish_reason, i in marked)
        ]
        tried = len(failing)
        # greedy: past the shots file's distinct rotations a retry would repeat a prompt
        attempts = min(settings.retries, len(shots) - 1) if settings.prompt.n_shots else 0
        for attempt in range(1, attempts + 1):
            if not failing:
                break
            other = _rotated(shots, attempt, settings.prompt.n_shots)
            again = generator.generate_detailed(
                [settings.prompt.build(unique[i], other, src_lang, tgt_lang) for i in failing],
                stop=stop,
                max_new_tokens=[budgets[i] for i in failing],
            )
            still = []
            for i, out in zip(failing, again, strict=True):
                if check.fails(unique[i], out.text, out.finish_reason, i in marked):
                    still.append(i)
                else:
                    outputs[i] = out
            failing = still
    if tried:
        log.info(
            "%s->%s: %d of %d pieces failed a piece check; %d repaired by up to %d retries with other shots",
            src_lang, tgt_lang, tried, len(unique), tried - len(failing), settings.retries,
        )
    by_piece = {piece: out for piece, out in zip(unique, outputs, strict=True)}
    broken = {unique[i] for i in failing}
    results = []
    for lines, (_, marked_piece) in zip(per_text, segmented, strict=True):
        drop = _droppable(lines, marked_piece, broken, settings.drop_failed_pieces)
        translated = [[by_piece[p].text.strip() for p in line if p not in drop] for line in lines]
        finish = [DROPPED if p in drop else by_piece[p].finish_reason for line in lines for p in line]
        results.append((join_pieces(translated, tgt_lang), finish))
    return results


def _droppable(lines: list[list[str]], marked: str | None, broken: set[str], share: float) -> set[str]:
    """The broken pieces of a text with a marked answer piece that may be left out: all of them
    when they are at most ``floor(share x pieces)``, else none (the text stays whole and its
    filters judge it). Never the marked piece; nothing for a text without one."""
    if marked is None or share <= 0:
        return set()
    pieces = [p for line in lines for p in line]
    bad = {p for p in pieces if p in broken and p != marked}
    limit = math.floor(share * len(pieces))
    return bad if sum(p in bad for p in pieces) <= limit else set()


class PieceCheck:
    """Whether one translated piece is broken, by the default filter rules that judge a piece on
    its own (empty, truncated, lost question, untranslated, length ratio, repetition, script,
    language identification; the length bounds for the pair as the filters use them), and a
    marked piece whose translation lost its answer markers. Fixed,
    not the run's ``translation.filters``, so that the cache key does not depend on them."""

    def __init__(
        self, src_lang: str, tgt_lang: str, shots: list[tuple[str, str]], markers: tuple[str, str] | None = None
    ) -> None:
        self.src_lang, self.tgt_lang, self.markers = src_lang, tgt_lang, markers
        self.settings = FilterSettings(duplicates=False, round_trip=False, numbers=False).for_pair(
            src_lang, tgt_lang, shots
        )

    def fails(self, piece: str, translation: str, finish: str, marked: bool = False) -> bool:
        """Whether the translation of ``piece`` fails a rule or, for a piece given answer markers
        (``marked``), lost them."""
        if marked and self.markers and read_marked(translation, self.markers)[1] is None:
            return True
        return bool(
            check_text(piece, translation.strip(), self.tgt_lang, self.settings, finish=[finish], src_lang=self.src_lang)
        )


def _rotated(shots: list[tuple[str, str]], attempt: int, n_shots: int) -> list[tuple[str, str]]:
    """The shots for retry ``attempt``: rotated by ``attempt * n_shots`` (the next, unused shots)
    until that comes round to a start already used, then by one more each time round the file
    (8 pairs, 4 shots: starts 0, 4, 1, 5, 2, 6, 3, 7), so that the first ``len(shots)`` attempts
    each see a different prompt."""
    total = max(len(shots), 1)
    cycle = total // math.gcd(total, n_shots % total or total)  # distinct starts k * n_shots mod total
    by = ((attempt * n_shots) % total + attempt // cycle) % total
    return shots[by:] + shots[:by]


@contextlib.contextmanager
def adapter_disabled(model: Any):
    """Translate with the base model: a PEFT model's adapter is switched off for the block."""
    if hasattr(model, "disable_adapter"):
        with model.disable_adapter():
            yield
    else:
        yield
