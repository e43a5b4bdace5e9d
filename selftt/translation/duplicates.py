"""Duplicate translations: different sources that the model translated to the same text (at
least one of them wrongly), compared after :func:`normalized`. Pure Python, linear time."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import regex

_PUNCT_SYMBOL_OR_SPACE = regex.compile(r"[\p{P}\p{S}\s]+")


def normalized(text: str) -> str:
    """``text`` for comparison: NFKC, casefolded, runs of punctuation, symbols and whitespace as
    one space, stripped ("  Hallo,   WELT!! " -> "hallo welt")."""
    return _PUNCT_SYMBOL_OR_SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def duplicate_translations(sources: Sequence[str], translations: Sequence[str]) -> set[int]:
    """Indexes of translations shared by different sources.

    ``i`` is returned if its normalized translation (:func:`normalized`: NFKC, casefold,
    punctuation, symbols and whitespace collapsed) equals that of some ``j`` whose normalized source
    differs from ``i``'s: different sources translated to the same text, at least one of them
    wrongly; all members of such a group are returned. Identical sources translated identically
    (a QA context shared by several questions) are not duplicates. Translations that are empty
    after normalization are ignored. Linear time (one dict pass).

    Args:
        sources: the source texts.
        translations: their translations, in the same order.

    Returns:
        the set of flagged indexes (empty if none).

    Raises:
        ValueError: if the two sequences differ in length.
    """
    if len(sources) != len(translations):
        raise ValueError(f"{len(sources)} sources but {len(translations)} translations")
    groups: dict[str, dict[str, list[int]]] = {}
    for i, (source, translation) in enumerate(zip(sources, translations, strict=True)):
        key = normalized(translation or "")
        if key:
            groups.setdefault(key, {}).setdefault(normalized(source or ""), []).append(i)
    return {
        i for by_source in groups.values() if len(by_source) > 1 for ids in by_source.values() for i in ids
    }
