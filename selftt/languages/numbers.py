"""Numbers in texts of any language (separators from CLDR, :mod:`selftt.languages`).

- ``read_number`` reads ONE written number (``"1.500,25"``) strictly, from its shape and, only
  where the shape is ambiguous, the language it is written in; answer extraction uses it.
- ``source_numbers`` / ``translation_numbers`` serve the ``numbers`` filter rule
  (:mod:`selftt.translation.filters`): every number of an English source must be among the values
  the translation's digit groups could mean in any convention (``1,000`` = ``1.000`` = ``1 000``,
  full-width and Thai digits, Chinese numerals and myriads such as ``"三万"`` or ``"1.5万"``).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from selftt.errors import ConfigError
from selftt.languages.registry import get_language

_SOURCE_NUMBER = re.compile(r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_NUMBER_GROUPS = re.compile(r"\d+(?:(?:[.,'\u00a0\u202f\u2009 ])\d+)*")
_ZH_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_NUMBER = re.compile("[零〇一二两三四五六七八九十百千万]+")
_MYRIAD = re.compile(r"(\d+(?:\.\d+)?)\s*([万亿])")


# Full-width ASCII (U+FF01-FF5E) to ASCII, the ideographic space to a space, the minus sign to "-".
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0x2212: 0x2D}
_SEPARATORS = ".,'\u00a0\u202f\u2009 "
_DECIMAL_OR_GROUP = ".,"


def grouping_mark(lang: str) -> str:
    """The symbol that groups thousands in ``lang`` (CLDR via :func:`selftt.languages.get_language`):
    ``","`` for en/th/zh, ``"."`` for de, a no-break space for ru (so there neither "," nor "."
    groups: "1,500" = 1.5). ``","`` for an invalid code."""
    try:
        return get_language(lang).group_symbol
    except ConfigError:
        return ","


def fold_text(text: str) -> str:
    """``text`` with every decimal digit in ASCII and full-width punctuation in ASCII.

    Any Unicode decimal digit (category Nd: full-width ``１``, Thai ``๗``, Arabic-Indic ``٣``,
    mathematical ``𝟒``) becomes ``0-9``; full-width ASCII (``：``, ``，``) becomes ASCII; the
    ideographic space a space and U+2212 ``−`` ``-``. Unlike NFKC this leaves superscripts,
    fractions and circled numbers alone, so ``m²`` or ``½`` never turn into digits that could be
    taken for a number; and it maps character for character, so positions in the result are
    positions in ``text``.
    """
    text = text.translate(_FOLD)
    return "".join(str(unicodedata.digit(ch)) if unicodedata.category(ch) == "Nd" else ch for ch in text)


def read_number(token: str, lang: str) -> str | None:
    """One written number (digits and separators, no sign) as a canonical string, or None.

    The rule, from the number's own shape first:

    - Spaces (plain, no-break, thin) and ``'`` only ever group digits; every group after the
      first must then have exactly 3 digits (``1 500``, ``1'500``).
    - ``,`` and ``.`` both present: the last one (used once, last) is the decimal mark, the
      other groups thousands (``1,500.25`` and ``1.500,25`` are 1500.25).
    - One mark repeated (``1,234,567``, ``1.234.567``): it groups thousands.
    - One mark once: a decimal mark unless exactly 3 digits follow and 1-3 digits not
      starting with 0 precede (``1.5``, ``2,50``, ``0,500``, ``1234,567`` are decimals).
      ``1,500`` / ``1.500`` are ambiguous: ``lang`` (the language of the phrase the number is
      written in) decides, by its CLDR grouping symbol (:func:`grouping_mark`): "," groups in
      en/th/zh, "." in de, neither in ru (which groups with a space).

    A shape that fits none of these (``1,23,456``, ``12.05.2023``) is not a number: None.
    """
    digits = re.split(r"[^0-9]", token)
    seps = re.findall(r"[^0-9]", token)
    if not all(digits) or any(s not in _SEPARATORS for s in seps):
        return None
    decimal = None
    if seps and seps[-1] in _DECIMAL_OR_GROUP and seps.count(seps[-1]) == 1:
        ambiguous = len(seps) == 1 and len(digits[1]) == 3 and len(digits[0]) <= 3 and digits[0][0] != "0"
        if len(seps) > 1 or not ambiguous or seps[-1] != grouping_mark(lang):
            decimal = seps[-1]
    groups = seps[:-1] if decimal else seps
    whole = digits[: len(groups) + 1]
    if groups and (
        len(set(groups)) != 1
        or len(whole[0]) > 3
        or whole[0][0] == "0"
        or any(len(g) != 3 for g in whole[1:])
    ):
        return None
    number = "".join(whole) + ("." + digits[-1] if decimal else "")
    return _canonical(number)


def _ascii_digits(text: str) -> str:
    # Not NFKC: it would turn "m²" into "m2" and "½" into "1⁄2", numbers a translation need not have.
    return fold_text(text)


def _canonical(number: str) -> str | None:
    try:
        value = Decimal(number)
    except InvalidOperation:
        return None
    return "0" if value == 0 else format(value.normalize(), "f")


def source_numbers(text: str) -> set[str]:
    """Numbers of an English text, canonical (``"1,000.50"`` -> ``"1000.5"``)."""
    found = (_canonical(m.group().replace(",", "")) for m in _SOURCE_NUMBER.finditer(_ascii_digits(text)))
    return {n for n in found if n is not None}


def translation_numbers(text: str) -> set[str]:
    """Every value the digit groups of ``text`` could mean in any of de/en/ru/th/zh conventions.

    ``"1.234,5"`` yields 1, 234, 5, 1234, 1.234, 234.5, 1234.5 ...: over-generating is harmless
    (a source number only has to be among them), while a too strict reading would reject good
    translations that group digits the local way.
    """
    values: set[str] = set()
    for match in _NUMBER_GROUPS.finditer(_ascii_digits(text)):
        groups = re.findall(r"\d+", match.group())
        for i in range(len(groups)):
            for j in range(i + 1, len(groups) + 1):
                span = groups[i:j]
                candidates = {span[0]} if len(span) == 1 else set()
                if len(span) > 1 and all(len(g) == 3 for g in span[1:]):
                    candidates.add("".join(span))  # every separator groups thousands
                if len(span) > 1 and all(len(g) == 3 for g in span[1:-1]):
                    candidates.add("".join(span[:-1]) + "." + span[-1])  # the last one is decimal
                values.update(c for c in map(_canonical, candidates) if c is not None)
    return values | chinese_numbers(text)


def _zh_value(numeral: str) -> int:
    """A Chinese numeral as an int: "四" 4, "十二" 12, "两百五十" 250, "三万" 30000, "二〇二〇" 2020."""
    if not any(ch in _ZH_UNITS or ch == "万" for ch in numeral):
        return int("".join(str(_ZH_DIGITS[ch]) for ch in numeral))
    total = section = digit = 0
    for ch in numeral:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            section += (digit or 1) * _ZH_UNITS[ch]
            digit = 0
        else:  # 万
            total += ((section + digit) or 1) * 10000
            section = digit = 0
    return total + section + digit


def chinese_numbers(text: str) -> set[str]:
    """Numbers written with Chinese numerals ("四周" 4, "百分之五十" 50) or myriads ("1.5万" 15000)."""
    values = {str(_zh_value(m.group())) for m in _ZH_NUMBER.finditer(text)}
    for m in _MYRIAD.finditer(_ascii_digits(text)):
        scaled = _canonical(str(Decimal(m.group(1)) * (10000 if m.group(2) == "万" else 10**8)))
        if scaled is not None:
            values.add(scaled)
    return values
