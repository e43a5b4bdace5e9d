"""Language facts by code (selftt.languages): CLDR names, scripts, separators, and invalid codes."""

from __future__ import annotations

import pytest

from selftt.errors import ConfigError
from selftt.languages import get_language, script_letters

FACTS = [
    # code, name, script, spaced, decimal, group, bleu tokenizer, char n-gram
    ("de", "German", "Latn", True, ",", ".", "13a", None),
    ("en", "English", "Latn", True, ".", ",", "13a", None),
    ("ru", "Russian", "Cyrl", True, ",", "\u00a0", "13a", None),
    ("zh", "Chinese", "Hans", False, ".", ",", "zh", 6),
    ("ja", "Japanese", "Jpan", False, ".", ",", "char", 6),
    ("th", "Thai", "Thai", False, ".", ",", "char", 10),
    ("sw", "Swahili", "Latn", True, ".", ",", "13a", None),
    ("hi", "Hindi", "Deva", True, ".", ",", "13a", None),
    ("ar", "Arabic", "Arab", True, ".", ",", "13a", None),
    ("pt-BR", "Portuguese (Brazil)", "Latn", True, ",", ".", "13a", None),
    ("ko", "Korean", "Kore", True, ".", ",", "13a", None),
    ("zh-Hant", "Chinese (Traditional)", "Hant", False, ".", ",", "zh", 6),
]


@pytest.mark.parametrize(("code", "name", "script", "spaced", "decimal", "group", "bleu", "ngram"), FACTS)
def test_language_facts(code, name, script, spaced, decimal, group, bleu, ngram):
    language = get_language(code)
    assert (language.code, language.name, language.script, language.spaced) == (code, name, script, spaced)
    assert (language.decimal_symbol, language.group_symbol) == (decimal, group)
    assert (language.bleu_tokenizer, language.char_ngram) == (bleu, ngram)
    assert language.question_mark_optional == (code == "th")
    assert get_language(code) is language  # cached


def test_codes_are_canonical_and_shipped_codes_unchanged():
    assert [get_language(c).code for c in ("de", "ru", "th", "zh", "en")] == ["de", "ru", "th", "zh", "en"]
    assert get_language("ZH").code == "zh" and get_language("pt-br").code == "pt-BR"
    assert get_language("pt-BR").base == "pt"


@pytest.mark.parametrize(
    ("code", "letter", "other"),
    [
        ("sw", "é", "ж"),
        ("hi", "क", "a"),
        ("zh", "北", "a"),
        ("ja", "カ", "a"),
        ("ja", "ひ", "한"),
        ("ko", "한", "a"),
        ("ko", "韓", "ก"),
        ("ar", "ع", "a"),
        ("ru", "ж", "j"),
        ("de", "Ｄ", "ж"),
    ],
)
def test_script_letters(code, letter, other):
    letters = get_language(code).letters
    assert letters is not None and letters.match(letter) and not letters.match(other)


def test_unknown_unicode_script_has_no_pattern():
    assert script_letters("Zzzz-not") is None
    assert script_letters("Deva") is not None


@pytest.mark.parametrize("bad", ["xx-notalang", "", "  ", 42, None, "english", "und", "xx", "x-private"])
def test_invalid_codes_name_the_key(bad):
    with pytest.raises(ConfigError) as info:
        get_language(bad, "data.components[0].lang")
    assert info.value.key == "data.components[0].lang"
    assert "\n" not in str(info.value) and "language code" in str(info.value)


def test_length_bounds_estimated_from_shots():
    from selftt.translation.length_bounds import estimate_length_bounds

    shots = [
        ("The dog barks loudly.", "Mbwa anabweka kwa sauti."),
        ("She is ten years old.", "Ana umri wa miaka kumi."),
    ]
    ratios = [24 / 21, 23 / 21]
    assert estimate_length_bounds(shots) == (round(min(ratios) / 2, 3), round(max(ratios) * 2, 3))
    short = [("Hi", "Jambo")]  # no source of MIN_LENGTH_CHARS: all pairs count
    assert estimate_length_bounds(short) == (1.25, 5.0)
