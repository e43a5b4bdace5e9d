"""Numbers in source texts and their translations, read leniently across languages.

Used by the ``numbers`` filter rule (:mod:`selftt.translation.filters`): every number of an English
source must be among the values the translation's digit groups could mean in de/en/ru/th/zh
conventions (``1,000`` = ``1.000`` = ``1 000``, full-width and Thai digits, Chinese numerals and
myriads such as ``"三万"`` or ``"1.5万"``).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

_SOURCE_NUMBER = re.compile(r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_NUMBER_GROUPS = re.compile(r"\d+(?:(?:[.,'\u00a0\u202f\u2009 ])\d+)*")
_ZH_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_NUMBER = re.compile("[零〇一二两三四五六七八九十百千万]+")
_MYRIAD = re.compile(r"(\d+(?:\.\d+)?)\s*([万亿])")


def _ascii_digits(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.digit(ch)) if unicodedata.category(ch) == "Nd" else ch for ch in text)


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
