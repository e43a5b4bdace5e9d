"""Reference-free check of translated text: language identification (duplicate translations are
in :mod:`selftt.translation.duplicates`).

``wrong_language``
    The output is fluent text in the wrong language although its script may be right: English
    left in a German translation, a Ukrainian answer for Russian. Identified with *Lingua*
    (``lingua-language-detector``, n-gram models shipped inside the wheel, nothing is downloaded),
    choosing only among a few candidate languages (the target, the source, close neighbours):
    a closed choice is far more reliable than open identification among 75 languages.

What makes false rejections rare in :func:`wrong_language`:

* Texts with fewer than ``min_letters`` letters are not judged (Lingua's own docs: accuracy on
  single words and short phrases is far lower than on sentences), nor texts of target languages
  Lingua has no model for.
* A text is rejected only if another candidate is *more likely* than the target and has a
  confidence of at least ``min_confidence`` (confidences of all candidates sum to 1).
* For targets not written in Latin script (ru, zh, th, ...), Latin words containing a capital
  letter or a digit (names, brands, acronyms, units: "Microsoft", "iPhone 15", "COVID-19",
  "NASA") are removed before identification, and the letters are counted after that. They are
  legitimately copied untranslated, and Lingua's rule engine otherwise votes by script word
  count: ``"Ответ: New York City Marathon"`` is English with confidence 1.0 as is, and not
  judged (too few letters left) after stripping. Lowercase Latin words stay, so an English
  sentence in a Russian field is still caught.
* For Latin-script targets nothing is stripped: capitals there are ordinary words (every German
  noun), and Lingua's statistics already carry the sentence: "Der neue Film von Steven
  Spielberg, Ready Player One, wurde in Los Angeles und New York gedreht." is German with 0.96
  (candidates en, de).

Lingua is imported lazily (on the first call), so importing this module costs nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import regex

if TYPE_CHECKING:
    from lingua import Language, LanguageDetector

_MACROLANGUAGES = {"no": "nb"}
"""BCP 47 language subtags Lingua has no model for but a written standard of: Norwegian (``no``)
is identified as Bokmål, the far more common written form (Lingua has ``nb`` and ``nn``)."""

_LATIN_NAME_LIKE = regex.compile(r"[\p{Latin}\p{N}]+(?:['’.\-][\p{Latin}\p{N}]+)*")
"""A Latin word with inner apostrophes, dots or hyphens ("Children's", "U.S", "COVID-19")."""



def _lingua():
    try:
        import lingua
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "language identification needs the package 'lingua-language-detector' (pip install "
            "'lingua-language-detector>=2.1')"
        ) from err
    return lingua


@lru_cache(maxsize=512)
def _lingua_language(lang: str) -> Language | None:
    """Lingua's Language for the language subtag of BCP 47 tag ``lang``, or None."""
    import langcodes

    lingua = _lingua()
    try:
        base = langcodes.get(lang.strip()).language or ""
    except ValueError:  # langcodes' LanguageTagError is a ValueError
        return None
    base = _MACROLANGUAGES.get(base.lower(), base.lower())
    try:
        if len(base) == 2:
            return lingua.Language.from_iso_code_639_1(lingua.IsoCode639_1.from_str(base))
        if len(base) == 3:
            return lingua.Language.from_iso_code_639_3(lingua.IsoCode639_3.from_str(base))
    except ValueError:  # "Matching enum member not found"
        return None
    return None


def _code(language: Language) -> str:
    """The lowercase ISO 639-1 code of a Lingua Language ("de")."""
    return language.iso_code_639_1.name.lower()


def _candidate_codes(candidates: Sequence[str]) -> tuple[str, ...]:
    """The supported ``candidates`` as sorted, distinct ISO 639-1 codes (one cache key per set)."""
    found = {_lingua_language(c) for c in candidates if isinstance(c, str)}
    return tuple(sorted(_code(language) for language in found if language is not None))


def supported(lang: str) -> bool:
    """Whether Lingua has a model for the language of BCP 47 tag ``lang``.

    Only the language subtag counts: ``"zh"``, ``"zh-Hant"`` -> Chinese, ``"pt-BR"`` ->
    Portuguese, ``"iw"`` -> Hebrew (deprecated code, via ``langcodes``), ``"no"`` -> Bokmål.
    The 75 languages are Lingua's ``Language`` enum, looked up with
    ``Language.from_iso_code_639_1(IsoCode639_1.from_str(code))`` (``from_iso_code_639_3`` for
    three-letter subtags); Lingua raises ValueError for a code it has no member for.

    Args:
        lang: a BCP 47 tag or ISO 639-1/-3 code; case and ``_`` separators are tolerated.

    Returns:
        True if Lingua can identify the language, False otherwise, also for malformed tags and
        non-strings (never raises).

    Raises:
        ImportError: if ``lingua-language-detector`` is not installed.
    """
    return isinstance(lang, str) and _lingua_language(lang) is not None


@lru_cache(maxsize=64)
def detector(langs: tuple[str, ...]) -> LanguageDetector:
    """A Lingua detector choosing among ``langs`` only (cached per tuple).

    Built with ``LanguageDetectorBuilder.from_languages(...).build()``: high accuracy mode (the
    default) and lazy loading of the n-gram models (the default). Measured with lingua 2.1.1 on
    one CPU core (RSS growth, Python 3.11):

    * building is instant (< 1 ms, < 1 MB); models are loaded on first use, only those needed.
      Lingua uses trigrams alone for texts of 120+ characters and 1- to 5-grams below that, so
      the first long text costs ~25 ms / ~6 MB, the first short Latin or Cyrillic text ~0.5 s /
      ~95 MB (en+de, en+ru+uk and en+de+ru+th+zh alike). en+zh and en+th needed ~3 MB: Lingua's
      rule engine settles them by script, no model is read.
    * ``with_preloaded_language_models()`` loads everything up front: 0.3 s / 68 MB for en+de,
      0.2 s / 33 MB for en+zh, 0.5 s / 126 MB for en+de+ru+th+zh, 0.7 s / 146 MB for six
      languages, with no faster calls afterwards, so it is not used (it pays only for
      latency-critical services, as Lingua's docs say).
    * a call on a 300-character text takes ~0.15 ms (en+de, en+ru+uk), ~0.05 ms for Chinese,
      ~0.01 ms for Thai; short sentences ~0.02-0.03 ms.
    * ``with_low_accuracy_mode()`` (trigrams only) saves the ~90 MB for short texts, but Lingua's
      docs say accuracy below 120 characters "will drop significantly", and short fields (QA
      answers, questions) are common here, so it is not used.

    Lingua's docs: detectors share their models ("every language model is loaded into memory
    just once, no matter how many instances of LanguageDetector have been created") and are
    thread-safe, so several cached detectors for overlapping sets cost little.

    Args:
        langs: BCP 47 codes; unsupported ones (:func:`supported` False) are skipped. For the
            best cache use pass sorted, distinct ISO 639-1 codes (what the functions below do).

    Returns:
        a ``lingua.LanguageDetector``.

    Raises:
        ValueError: if none of ``langs`` is supported (Lingua itself would panic).
        ImportError: if ``lingua-language-detector`` is not installed.
    """
    languages = {_lingua_language(c) for c in langs if isinstance(c, str)} - {None}
    if not languages:
        raise ValueError(f"none of the languages {langs!r} is supported by lingua")
    return _lingua().LanguageDetectorBuilder.from_languages(*languages).build()


def identified_language(text: str, candidates: tuple[str, ...]) -> tuple[str | None, float]:
    """The most likely of ``candidates`` for ``text``, by Lingua, and its confidence.

    The confidence is Lingua's ``compute_language_confidence_values``: relative probabilities
    of the candidates, summing to 1.0; 1.0 when Lingua's rule engine decides alone (e.g. only
    one candidate uses the text's script), and 0.0 for all when the text has no letters.

    Args:
        text: the text to identify, as is (no stripping; see :func:`wrong_language`).
        candidates: BCP 47 codes; unsupported ones are skipped.

    Returns:
        ``(code, confidence)`` with the lowercase ISO 639-1 code (``"de"``); ``(None, 0.0)``
        when undecided: fewer than two supported candidates (the confidence is relative; a
        one-language Lingua detector returns 0.0 for everything), no candidate above 0.0 (no
        letters), or a tie between the two most likely.

    Raises:
        ImportError: if ``lingua-language-detector`` is not installed.
    """
    codes = _candidate_codes(candidates)
    if len(codes) < 2 or not text:
        return None, 0.0
    values = detector(codes).compute_language_confidence_values(text)
    best = values[0]
    if best.value <= 0.0 or (len(values) > 1 and values[1].value >= best.value):
        return None, 0.0
    return _code(best.language), float(best.value)


def _latin_script_target(tgt_lang: str) -> bool:
    """Whether ``tgt_lang`` is written in Latin script (its CLDR likely script)."""
    from selftt.errors import ConfigError
    from selftt.languages import get_language

    try:
        return get_language(tgt_lang).script == "Latn"
    except ConfigError:
        return True  # unknown script: strip nothing (the conservative choice)


def strip_latin_names(text: str) -> str:
    """``text`` without Latin words that contain a capital letter or a digit ("iPhone", "NASA")."""
    return _LATIN_NAME_LIKE.sub(
        lambda m: " " if any(ch.isupper() or ch.isdigit() for ch in m.group()) else m.group(), text
    )


def _letters(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch).startswith("L"))


def wrong_language(
    text: str,
    tgt_lang: str,
    candidates: tuple[str, ...],
    min_confidence: float = 0.5,
    min_letters: int = 20,
) -> str | None:
    """The language ``text`` is in if it is confidently not ``tgt_lang``, else None.

    For targets not written in Latin script, capitalised Latin words and words with digits are
    removed first (names, acronyms, see the module docstring); letters (Unicode category L*)
    are counted after that.

    Args:
        text: a translated field.
        tgt_lang: the language it should be in (BCP 47).
        candidates: the languages it could be in instead (BCP 47; typically the source language
            and close neighbours of the target, e.g. ``("en", "uk", "bg")`` for ``ru``).
            ``tgt_lang`` is always added; unsupported codes are skipped.
        min_confidence: the least confidence (0-1) of the other language for a rejection.
        min_letters: texts with fewer letters are not judged.

    Returns:
        the lowercase ISO 639-1 code of the identified language when it differs from the
        target's and its confidence is at least ``min_confidence``; None otherwise, and also
        (not judged) for an unsupported target, fewer than two supported candidates, too few
        letters, or an undecided identification.

    Raises:
        ImportError: if ``lingua-language-detector`` is not installed.
    """
    target = _lingua_language(tgt_lang) if isinstance(tgt_lang, str) else None
    if target is None or not isinstance(text, str):
        return None
    if not _latin_script_target(tgt_lang):
        text = strip_latin_names(text)
    if _letters(text) < max(1, min_letters):
        return None
    found, confidence = identified_language(text, (*candidates, tgt_lang))
    if found is None or found == _code(target) or confidence < min_confidence:
        return None
    return found
