"""Length bounds of the ``length_ratio`` filter rule: translation characters / source characters.

Tuned bounds for an English source into de, ru, th, zh (measured on human translations), and an
estimate from parallel shot pairs for any other language pair.
"""

from __future__ import annotations

from collections.abc import Sequence

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

ESTIMATE_WIDEN = (0.5, 2.0)
"""``estimate_length_bounds`` multiplies the least shot ratio by the first, the greatest by the second."""


def estimate_length_bounds(shots: Sequence[tuple[str, str]]) -> tuple[float, float]:
    """Length bounds (lo, hi) estimated from parallel (source, target) pairs, e.g. the prompt's shots.

    The ratios target chars / source chars (spaces collapsed) of the pairs whose source has at
    least ``MIN_LENGTH_CHARS`` characters (all pairs if none has), widened generously by
    ``ESTIMATE_WIDEN``: ``(0.5 * least ratio, 2 * greatest ratio)``. A handful of shots cannot
    show the spread of real translations (the tuned bounds of DEFAULT_LENGTH_BOUNDS span about
    1:3), hence the wide margin. On the packaged en->de shots this gives (0.45, 2.43), en->zh (0.13, 1.07).
    Raises ValueError for no pairs or an empty side.
    """
    pairs = [(len(squash(src)), len(squash(tgt))) for src, tgt in shots]
    if not pairs or any(not a or not b for a, b in pairs):
        raise ValueError("length bounds need non-empty (source, target) shot pairs")
    long = [(a, b) for a, b in pairs if a >= MIN_LENGTH_CHARS] or pairs
    ratios = [b / a for a, b in long]
    return round(min(ratios) * ESTIMATE_WIDEN[0], 3), round(max(ratios) * ESTIMATE_WIDEN[1], 3)


def squash(text: str) -> str:
    return " ".join(text.split())
