"""The ``translation.filters`` settings: which quality rules run on self-translations, and their thresholds.

The rules themselves are described in :mod:`selftt.translation.filters`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from selftt.config_checks import check_range
from selftt.errors import ConfigError
from selftt.languages import get_language, language_key
from selftt.translation.language_id import supported
from selftt.translation.length_bounds import DEFAULT_LENGTH_BOUNDS, estimate_length_bounds


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
    language_id: bool = True
    """Drop translated fields that language identification (lingua, models inside its package)
    finds to be in another language than the target, even in the right script (English left in a
    German translation). Short fields and languages lingua does not know are not judged."""
    language_id_candidates: list[str] | None = None
    """Languages the identifier chooses among, besides the source and the target (None: only
    those two), e.g. ["uk", "bg"] to also catch Ukrainian or Bulgarian for Russian."""
    min_language_confidence: float = 0.5
    """Least confidence (0-1) in another language for ``language_id`` to drop a field."""
    duplicates: bool = True
    """Drop translations equal (ignoring case, spacing and punctuation) to the translation of a
    different source text in the same field: at least one of them is wrong."""
    round_trip: bool = False
    """Translate each translated field back into the source language with the same model and
    drop it when chrF against the original is below ``round_trip_min_chrf``. Doubles the
    translation time; off by default (see the README's measurement)."""
    round_trip_min_chrf: float = 30.0
    """Least chrF (0-100, sacrebleu) of the back-translation against the source field."""
    qa_answer: Literal["filter", "keep"] = "filter"
    """QA: 'filter' drops examples whose translated answer is not in the translated context; 'keep' keeps them."""
    answer_min_score: float = 80.0
    """QA: least rapidfuzz score (0-100) for finding a translated answer in the translated context by
    fuzzy matching, when the answer markers were lost and it is not there exactly."""

    @staticmethod
    def switches() -> tuple[str, ...]:
        """The names of the on/off rule settings."""
        return (
            "empty", "truncated", "empty_line", "lost_question", "scaffolding", "untranslated", "length_ratio",
            "repetition", "script", "numbers", "language_id", "duplicates", "round_trip",
        )

    def validate(self, key: str = "translation.filters") -> None:
        """Raise a ConfigError naming ``key.<field>`` for any out-of-range setting."""
        for name in self.switches():
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{key}.{name}", f"must be true or false, got {getattr(self, name)!r}")
        for name in ("max_repeated_ngram_fraction", "min_script_fraction", "min_language_confidence",
                     "round_trip_min_chrf", "answer_min_score"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{key}.{name}", f"must be a number, got {value!r}")
            check_range(f"{key}.{name}", value, lookup=f"translation.filters.{name}")  # the one table of ranges
        candidates = self.language_id_candidates
        if candidates is not None and (
            not isinstance(candidates, (list, tuple)) or not all(isinstance(c, str) for c in candidates)
        ):
            raise ConfigError(f"{key}.language_id_candidates", f"must be a list of language codes, got {candidates!r}")
        for i, lang in enumerate(candidates or []):
            get_language(lang, f"{key}.language_id_candidates[{i}]")
            if self.language_id and not supported(lang):
                raise ConfigError(
                    f"{key}.language_id_candidates[{i}]",
                    f"Lingua, the language identifier, has no model for '{lang}'; leave it out",
                )
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
        """The given bounds serving ``lang`` (:func:`selftt.languages.language_key`), or None."""
        get_language(lang, "translation.filters.length_bounds")
        key = language_key(self.length_bounds or {}, lang)
        if key is None:
            return None
        lo, hi = self.length_bounds[key]  # type: ignore[index]
        return float(lo), float(hi)

    def bounds(self, lang: str) -> tuple[float, float]:
        """(lo, hi) of translation chars / source chars for target language ``lang``: the given
        ``length_bounds``, else DEFAULT_LENGTH_BOUNDS (an English source). Raises ConfigError
        naming ``translation.filters.length_bounds`` for a language with neither (use
        :meth:`for_pair`, which estimates them from the shots)."""
        given = self._given(lang)
        if given is not None:
            return given
        tuned = language_key(DEFAULT_LENGTH_BOUNDS, lang)  # "de" serves "de-DE"
        if tuned is None:
            raise ConfigError(
                "translation.filters.length_bounds",
                f"no length bounds for language '{lang}': give [lo, hi] (translation chars / source chars)",
            )
        return DEFAULT_LENGTH_BOUNDS[tuned]

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
        if language_key(["en"], src) and language_key(DEFAULT_LENGTH_BOUNDS, tgt):
            return self
        estimate = list(estimate_length_bounds(shots))
        return replace(self, length_bounds={**(self.length_bounds or {}), tgt: estimate})
