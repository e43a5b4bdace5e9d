"""Facts about languages, by BCP 47 / ISO 639 code: the one place selftt asks about a language.

Everything comes from standard locale data, not hand-written per-language tables:

* the English name (what the translation prompt calls the language) and the likely script,
  from CLDR through ``langcodes`` / ``language-data`` (``sw`` -> Swahili, Latn; ``ja`` -> Jpan;
  ``zh`` -> Hans; ``hi`` -> Deva);
* which characters are letters of that script: Unicode ``Script_Extensions`` through the
  ``regex`` module (``\\p{scx=Latn}``), so full-width Latin counts as Latin and ``々〆`` as Han;
* the decimal and grouping symbols, from CLDR through ``babel`` (Latin digits).

The few facts about scripts themselves (which are written without spaces between words, and the
derived choices below) are small documented constants: :data:`UNSPACED_SCRIPTS`.

>>> get_language("sw").name, get_language("sw").script, get_language("sw").spaced
('Swahili', 'Latn', True)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import regex

from selftt.errors import ConfigError

HAN_SCRIPTS = frozenset({"Hans", "Hant", "Hani", "Jpan", "Hira", "Kana", "Hrkt"})
"""ISO 15924 scripts of Chinese and Japanese writing (ideographs and kana)."""
SOUTHEAST_ASIAN_SCRIPTS = frozenset({"Thai", "Laoo", "Khmr", "Mymr", "Tibt"})
"""Scripts written without spaces between words whose words are spelled with many characters."""
UNSPACED_SCRIPTS = HAN_SCRIPTS | SOUTHEAST_ASIAN_SCRIPTS
"""ISO 15924 scripts written without spaces between words (Unicode UAX #29 / CLDR: their text
needs a dictionary to find word boundaries): Han (Hans/Hant/Hani), Japanese (Jpan, Hira, Kana,
Hrkt), Thai, Lao, Khmer, Burmese and Tibetan (syllables split by tsheg, words unmarked)."""
QUESTION_PARTICLE_SCRIPTS = frozenset({"Thai", "Laoo", "Khmr", "Mymr"})
"""Scripts of languages that often ask without a question mark (a final particle asks: Thai
ไหม/หรือไม่, Lao, Khmer, Burmese; most of XQuAD's human Thai questions carry none)."""

# ISO 15924 codes that Unicode has no Script value for: the Unicode scripts they are written in.
_SCRIPT_PARTS = {
    "Hans": ("Hani",),
    "Hant": ("Hani",),
    "Jpan": ("Hani", "Hira", "Kana"),
    "Hrkt": ("Hira", "Kana"),
    "Kore": ("Hang", "Hani"),
    "Aran": ("Arab",),
    "Cyrs": ("Cyrl",),
    "Latf": ("Latn",),
    "Latg": ("Latn",),
    "Syre": ("Syrc",),
    "Syrj": ("Syrc",),
    "Syrn": ("Syrc",),
}
# Character n-gram size for repetition detection in unspaced scripts: an ideograph carries about
# as much as a short word (6 ~ a word 4-gram), a Thai/Lao/Khmer/Burmese letter much less (10).
_HAN_NGRAM, _SEA_NGRAM = 6, 10


@dataclass(frozen=True)
class Language:
    """What selftt needs to know about one language. Build with :func:`get_language`."""

    code: str
    """The tag as given, in canonical case and without deprecated forms (``"ZH"`` -> ``"zh"``,
    ``"pt-br"`` -> ``"pt-BR"``, ``"iw"`` -> ``"he"``); ``"de"`` stays ``"de"``."""
    base: str
    """The ISO 639 language subtag (``"pt"`` for ``"pt-BR"``)."""
    name: str
    """English name, as in the prompt (``"German"``, ``"Portuguese (Brazil)"``)."""
    script: str
    """ISO 15924 script: the tag's own or CLDR's likely one (``"Latn"``, ``"Hans"``, ``"Deva"``)."""
    decimal_symbol: str
    """CLDR decimal symbol with Latin digits (``","`` for de, ``"."`` for en)."""
    group_symbol: str
    """CLDR thousands grouping symbol (``"."`` for de, ``","`` for en, no-break space for ru)."""
    letters: regex.Pattern[str] | None
    """Matches one character of the script (None if Unicode has no such script)."""
    fallbacks: tuple[str, ...] = ()
    """Other tags of the same language in the same script, most specific first: what a
    per-language table (shots, instructions, length bounds) is searched for when it has no entry
    for :attr:`code` (:func:`language_key`): the language with its script, then the bare language
    if that is its CLDR likely script. ``"de-DE"`` -> ``("de-Latn", "de")``; ``"zh-CN"`` and
    ``"zh-Hans-CN"`` -> ``("zh-Hans", "zh")``; ``"zh"`` -> ``("zh-Hans",)``; ``"zh-TW"`` ->
    ``("zh-Hant",)`` and ``"zh-Hant"`` -> ``()``, since plain ``zh`` is Simplified and Traditional
    text must not get Simplified shots; ``"sr-Latn"`` -> ``()`` (``sr`` is Cyrillic)."""

    @property
    def spaced(self) -> bool:
        """Whether words are separated by spaces (False for :data:`UNSPACED_SCRIPTS`)."""
        return self.script not in UNSPACED_SCRIPTS

    @property
    def char_ngram(self) -> int | None:
        """Character n-gram size for repetition detection; None for spaced scripts (word n-grams)."""
        if self.spaced:
            return None
        return _HAN_NGRAM if self.script in HAN_SCRIPTS else _SEA_NGRAM

    @property
    def bleu_tokenizer(self) -> str:
        """SacreBLEU tokenizer: ``zh`` for Han (each ideograph a token), ``char`` for the other
        unspaced scripts (Japanese too: ``ja-mecab`` needs MeCab), ``13a`` for spaced ones."""
        if self.spaced:
            return "13a"
        return "zh" if self.script in {"Hans", "Hant", "Hani"} else "char"

    @property
    def sentence_separator(self) -> str:
        """What goes between two sentences: nothing for Chinese and Japanese (:data:`HAN_SCRIPTS`:
        the full stop 。 ends a sentence), a space otherwise. Thai, Lao, Khmer and Burmese write no
        spaces between words but do put one between sentences (so do XQuAD's human Thai contexts)."""
        return "" if self.script in HAN_SCRIPTS else " "

    @property
    def label_separator(self) -> str:
        """What follows a field label in a prompt ("Context: ..."): the full-width colon ``"："``
        for Chinese and Japanese (:data:`HAN_SCRIPTS`), ``": "`` otherwise."""
        return "：" if self.script in HAN_SCRIPTS else ": "

    @property
    def question_mark_optional(self) -> bool:
        """Whether questions are often written without a question mark (:data:`QUESTION_PARTICLE_SCRIPTS`)."""
        return self.script in QUESTION_PARTICLE_SCRIPTS


def script_letters(script: str) -> regex.Pattern[str] | None:
    """A pattern matching one character of ISO 15924 ``script`` (Unicode Script_Extensions), or
    None if Unicode has no such script (e.g. ``Zmth``)."""
    parts = _SCRIPT_PARTS.get(script, (script,))
    try:
        return regex.compile("|".join(rf"\p{{scx={p}}}" for p in parts))
    except regex.error:
        return None


def _numbers_locale(tag: object) -> tuple[str, str]:
    """(decimal, group) symbols from CLDR via babel, for the most specific locale babel knows."""
    import babel
    import babel.numbers

    candidates = [str(tag), f"{tag.language}-{tag.territory}" if tag.territory else None, tag.language]  # type: ignore[attr-defined]
    for candidate in filter(None, candidates):
        try:
            locale = babel.Locale.parse(candidate, sep="-")
        except (ValueError, babel.UnknownLocaleError):
            continue
        return babel.numbers.get_decimal_symbol(locale), babel.numbers.get_group_symbol(locale)
    return ".", ","  # CLDR root


@lru_cache(maxsize=256)
def _language(code: str) -> Language | str:
    """The Language for ``code``, or why there is none (a message)."""
    import langcodes

    try:
        tag = langcodes.get(code)
    except (langcodes.tag_parser.LanguageTagError, ValueError) as err:
        return f"{code!r} is not a language code (BCP 47, e.g. 'de', 'sw', 'pt-BR'): {err}"
    name = tag.display_name()
    if not tag.is_valid() or not tag.language or tag.language in ("und", "mis", "zxx") or "Unknown" in name:
        return f"{code!r} is not a known language code (BCP 47 / ISO 639, e.g. 'de', 'sw', 'pt-BR')"
    script = tag.script or tag.maximize().script
    if not script:
        return f"no script is known for {code!r}; give one in the tag, e.g. '{code}-Latn'"
    decimal, group = _numbers_locale(tag)
    base_script = langcodes.get(tag.language).maximize().script
    fallbacks: list[str] = []
    if str(tag) != f"{tag.language}-{script}":
        fallbacks.append(f"{tag.language}-{script}")  # zh-TW -> zh-Hant, zh-CN -> zh-Hans, de -> de-Latn
    if str(tag) != tag.language and base_script == script:
        fallbacks.append(tag.language)  # de-DE -> de, never zh-Hant -> zh
    return Language(
        code=str(tag),
        base=tag.language,
        name=name,
        script=script,
        decimal_symbol=decimal,
        group_symbol=group,
        letters=script_letters(script),
        fallbacks=tuple(fallbacks),
    )


def get_language(code: object, key: str = "lang") -> Language:
    """The :class:`Language` for BCP 47 tag ``code`` (``"de"``, ``"sw"``, ``"zh-Hant"``, ``"pt-BR"``).

    Cached. Raises ConfigError naming ``key`` (one line) for a non-string, an empty string, a
    malformed tag or one naming no known language (``"english"``, ``"xx-notalang"``, ``"und"``).
    """
    if not isinstance(code, str) or not code.strip():
        raise ConfigError(key, f"expected a language code (BCP 47, e.g. 'de', 'sw', 'pt-BR'), got {code!r}")
    found = _language(code.strip())
    if isinstance(found, str):
        raise ConfigError(key, found)
    return found


def canonical_code(code: object, key: str = "lang") -> str:
    """``get_language(code, key).code``: the tag in canonical form (``"ZH"`` -> ``"zh"``)."""
    return get_language(code, key).code


def language_key(table: Iterable[str], lang: str) -> str | None:
    """The key of ``table`` (a mapping or any iterable of language codes) that serves ``lang``:
    the key naming ``lang`` itself, else the one naming its nearest :attr:`Language.fallbacks`
    (``"de-DE"`` is served by ``"de"``; ``"zh-Hant"`` is not served by ``"zh"``). Keys are compared
    in canonical form (``"ZH"`` names ``"zh"``); keys that are not language codes are skipped.
    None if no key serves ``lang``; an invalid ``lang`` is served by an equal key only. Never raises."""
    keys = list(table)
    language = _language(lang.strip()) if isinstance(lang, str) and lang.strip() else None
    if not isinstance(language, Language):
        return lang if lang in keys else None
    by_code: dict[str, str] = {}  # canonical code -> the first key naming it
    for key in keys:
        found = _language(key.strip()) if isinstance(key, str) and key.strip() else None
        if isinstance(found, Language):
            by_code.setdefault(found.code, key)
    for wanted in (lang, language.code, *language.fallbacks):
        if wanted in keys:
            return wanted
        if wanted in by_code:
            return by_code[wanted]
    return None
