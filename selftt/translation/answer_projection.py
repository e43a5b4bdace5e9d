"""Answer-span projection for extractive QA, at the level of examples.

Before translation the answer is marked in the source context (:func:`answer_offsets` gives its
span; :mod:`selftt.translation.pieces` puts the markers around it). After translation the
translated answer is read back from the marked span of the translated context; where the
markers were lost, the separately translated answer is looked for in the translated context,
exactly and then by fuzzy matching (:func:`selftt.translation.projection.project_answer`).
The answer becomes that span of the context and its start offset is recomputed, so training
always sees an answer that is a span of its context. This is the usual remedy for the answers
translate-train loses: answer alignment after translation (Carrino et al. 2020, "Automatic
Spanish translation of SQuAD", the TAR method) and marking spans with square brackets before
translating (Chen et al. 2023, "Frustratingly easy label projection for cross-lingual transfer",
EasyProject), whose markers selftt uses by default.

How each answer was found is recorded per example (``marker``, ``exact``, ``fuzzy`` with its
score 0-100, or ``none``: the example is dropped by the ``answer_in_context`` rule) and
counted per language (:func:`count_found`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from selftt.errors import ConfigError
from selftt.translation.projection import marker_problem, project_answer
from selftt.translation.segments import Span

FOUND_METHODS = ("marker", "exact", "fuzzy", "none")
"""How a translated answer was found in its translated context, in the order they are tried."""


def check_markers(markers: object, key: str = "translation.answer_markers") -> None:
    """Raise a ConfigError naming ``key`` unless ``markers`` is None or two non-empty strings
    without whitespace (the opening and the closing marker; they may be equal, as ``**``)."""
    if markers is None:
        return
    problem = marker_problem(markers)
    if problem:
        raise ConfigError(key, f"must be [open, close] or null: {problem}; got {markers!r}")


def answer_offsets(example: dict[str, Any], answer_field: str, context_field: str) -> Span | None:
    """The (start, end) of the answer in the source context: ``<answer_field>_start`` when it
    points at the answer, else the first occurrence; None for a blank answer or one not in the
    context. Surrounding whitespace of the answer is left out of the span."""
    context, answer = str(example.get(context_field) or ""), str(example.get(answer_field) or "")
    if not answer.strip():
        return None
    start = example.get(f"{answer_field}_start")
    if not (isinstance(start, int) and not isinstance(start, bool) and context[start : start + len(answer)] == answer):
        start = context.find(answer)
        if start < 0:
            return None
    lead = len(answer) - len(answer.lstrip())
    return start + lead, start + len(answer.rstrip())


def project_example(
    translated: dict[str, Any],
    answer_field: str,
    context_field: str,
    lang: str,
    markers: tuple[str, str] | None,
    min_score: float,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The translated example with its answer read from the translated context, and how.

    Args:
        translated: the example with translated fields; its context may hold the markers.
        answer_field, context_field: the task's ``answer_span``.
        lang: the target language (word boundaries for fuzzy matching).
        markers: the answer markers used when translating, or None.
        min_score: least rapidfuzz score (0-100) of a fuzzy match.

    Returns:
        (example, found): the example with the markers removed from the context and, when the
        answer was found, the answer replaced by the span of the context and
        ``<answer_field>_start`` set to its offset (None when not found: the example keeps the
        separately translated answer, which the ``answer_in_context`` rule then rejects);
        ``found`` is ``{"method": one of FOUND_METHODS, "score": 0-100 or None}``.
    """
    context = str(translated.get(context_field) or "")
    answer = str(translated.get(answer_field) or "")
    clean, match = project_answer(context, answer, lang, markers, min_score)
    out = {**translated, context_field: clean, f"{answer_field}_start": None}
    if match is None:
        return out, {"method": "none", "score": None}
    out[answer_field] = match.text
    out[f"{answer_field}_start"] = match.start
    return out, {"method": match.method, "score": round(float(match.score), 1)}


def count_found(found: Iterable[dict[str, Any] | None]) -> dict[str, int]:
    """How many answers were found by each of FOUND_METHODS (all present, possibly 0)."""
    counts = Counter(f["method"] for f in found if f is not None)
    return {method: counts.get(method, 0) for method in FOUND_METHODS}
