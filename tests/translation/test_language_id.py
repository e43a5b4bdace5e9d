from __future__ import annotations

import importlib.util

import pytest

from selftt.translation.language_id import (
    detector,
    identified_language,
    strip_latin_names,
    supported,
    wrong_language,
)

needs_lingua = pytest.mark.skipif(
    importlib.util.find_spec("lingua") is None, reason="lingua-language-detector is not installed"
)

GERMAN = "Der Ausschuss traf sich am Dienstag, um den Haushalt für das nächste Jahr zu besprechen."
ENGLISH = "The committee met on Tuesday to discuss the budget for next year."
GERMAN_WITH_NAMES = (
    "Der neue Film von Steven Spielberg, Ready Player One, wurde in Los Angeles und New York gedreht."
)
RUSSIAN = "Киев — столица Украины, крупнейший город страны."
UKRAINIAN = "Київ — столиця України, найбільше місто країни."
RUSSIAN_WITH_NAMES = "Компания Microsoft выпустила Windows 11 для пользователей Apple MacBook Pro."
CHINESE = "委员会于星期二开会讨论明年的预算。经过长时间的辩论，成员们同意增加对公立学校的资助。"
CHINESE_WITH_NAMES = "Apple公司的iPhone 15 Pro Max在美国Cupertino发布，售价为999美元。"


@needs_lingua
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("de", True),
        ("zh", True),
        ("zh-Hant", True),
        ("pt-BR", True),
        ("pt_BR", True),
        ("RU", True),
        ("no", True),
        ("xx", False),
        ("tlh", False),
        ("", False),
        ("not a tag!", False),
        (None, False),
    ],
)
def test_supported_uses_the_language_subtag(code, expected):
    assert supported(code) is expected


@needs_lingua
def test_detector_skips_unsupported_codes_and_needs_one_supported():
    built = detector(("en", "de", "xx"))
    assert {str(v.language) for v in built.compute_language_confidence_values(GERMAN)} == {
        "Language.ENGLISH",
        "Language.GERMAN",
    }
    with pytest.raises(ValueError, match="none of the languages"):
        detector(("xx", "tlh"))


@needs_lingua
def test_identified_language_returns_code_and_confidence():
    code, confidence = identified_language(GERMAN, ("en", "de"))
    assert code == "de"
    assert 0.99 < confidence <= 1.0
    assert identified_language(ENGLISH, ("de", "en"))[0] == "en"


@needs_lingua
def test_identified_language_is_undecided_without_letters_or_choice():
    assert identified_language("12345 + 678 = ?", ("en", "de")) == (None, 0.0)
    assert identified_language("", ("en", "de")) == (None, 0.0)
    assert identified_language(GERMAN, ("de",)) == (None, 0.0)
    assert identified_language(GERMAN, ("de", "xx")) == (None, 0.0)


@needs_lingua
def test_german_passes_for_german():
    assert wrong_language(GERMAN, "de", ("en",)) is None


@needs_lingua
def test_english_left_in_a_german_translation_is_flagged():
    assert wrong_language(ENGLISH, "de", ("en",)) == "en"
    # the target is added to the candidates: it need not be listed
    assert wrong_language(ENGLISH, "de-AT", ("en", "fr")) == "en"


@needs_lingua
@pytest.mark.parametrize(
    "text",
    [
        GERMAN_WITH_NAMES,
        "Nikola Tesla wurde in Smiljan geboren.",
        "Die Denver Broncos besiegten die Carolina Panthers mit 24:10.",
        "Beyoncé wurde in Houston, Texas, geboren und wuchs dort auf.",
    ],
)
def test_german_with_english_names_passes(text):
    assert identified_language(text, ("en", "de"))[0] == "de"
    assert wrong_language(text, "de", ("en",)) is None


@needs_lingua
def test_russian_and_ukrainian_are_told_apart():
    assert wrong_language(RUSSIAN, "ru", ("en", "uk")) is None
    assert wrong_language(UKRAINIAN, "ru", ("en", "uk")) == "uk"
    assert wrong_language(UKRAINIAN, "uk", ("ru",)) is None
    assert wrong_language(RUSSIAN, "uk", ("ru",)) == "ru"


@needs_lingua
def test_names_in_non_latin_targets_are_stripped():
    assert strip_latin_names("Компания Microsoft выпустила iPhone 15 и COVID-19 test").split() == [
        "Компания",
        "выпустила",
        "и",
        "test",
    ]
    assert wrong_language(RUSSIAN_WITH_NAMES, "ru", ("en", "uk")) is None
    # as is, Lingua's rule engine votes English by word count; stripped, too few letters are left
    assert identified_language("Ответ: New York City Marathon", ("en", "ru"))[0] == "en"
    assert wrong_language("Ответ: New York City Marathon", "ru", ("en",)) is None
    # lowercase English words stay: an English sentence in a Russian field is still caught
    assert wrong_language(ENGLISH, "ru", ("en", "uk")) == "en"


@needs_lingua
def test_chinese_passes_for_chinese_and_english_is_flagged():
    assert wrong_language(CHINESE, "zh", ("en",)) is None
    assert wrong_language(CHINESE, "zh-Hans", ("en", "ja")) is None
    assert wrong_language(CHINESE_WITH_NAMES, "zh", ("en",)) is None
    assert wrong_language(ENGLISH, "zh", ("en",)) == "en"


@needs_lingua
def test_short_texts_are_not_judged():
    short_english = "The cat sat down."  # 13 letters
    assert identified_language(short_english, ("en", "de"))[0] == "en"
    assert wrong_language(short_english, "de", ("en",)) is None
    assert wrong_language(short_english, "de", ("en",), min_letters=10) == "en"
    assert wrong_language("48 / 2 = 24 !!! 1234567890 1234567890", "de", ("en",)) is None


@needs_lingua
def test_min_confidence_is_respected():
    code, confidence = identified_language("Die Antwort ist: the United States of America", ("en", "de"))
    assert code == "en"
    assert 0.5 < confidence < 0.95
    assert wrong_language("Die Antwort ist: the United States of America", "de", ("en",)) == "en"
    assert wrong_language("Die Antwort ist: the United States of America", "de", ("en",), 0.95) is None


@needs_lingua
def test_unsupported_languages_are_not_judged():
    assert supported("xx") is False
    assert wrong_language(ENGLISH, "xx", ("en",)) is None
    # only one supported candidate: nothing to choose between
    assert wrong_language(ENGLISH, "de", ("xx",)) is None
