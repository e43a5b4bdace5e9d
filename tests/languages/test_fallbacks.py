"""Tags with a region or script (``de-DE``, ``de_DE``, ``zh-Hans``, ``zh-TW``) use the tables of the
less specific tag in the same script: packaged shots, task instructions, label words, length
bounds, XNLI rows, number formats. A tag in another script than its base language's likely one
(``zh-Hant``, ``sr-Latn``) never does: Traditional Chinese must not get Simplified shots."""

from __future__ import annotations

import logging

import pytest

from selftt.errors import ConfigError
from selftt.languages import get_language, language_key
from selftt.tasks.math import MathTask
from selftt.tasks.math_answer import parse_number_answer
from selftt.tasks.nli import NLITask
from selftt.tasks.qa import QATask
from selftt.translation.filter_settings import FilterSettings
from selftt.translation.length_bounds import DEFAULT_LENGTH_BOUNDS
from selftt.translation.shots import load_shots


@pytest.mark.parametrize(
    ("code", "canonical", "fallbacks"),
    [
        ("de-DE", "de-DE", ("de-Latn", "de")),
        ("de_DE", "de-DE", ("de-Latn", "de")),
        ("ru-RU", "ru-RU", ("ru-Cyrl", "ru")),
        ("zh-Hans", "zh-Hans", ("zh",)),
        ("zh-CN", "zh-CN", ("zh-Hans", "zh")),
        ("zh-Hans-CN", "zh-Hans-CN", ("zh-Hans", "zh")),
        ("zh", "zh", ("zh-Hans",)),
        ("zh-TW", "zh-TW", ("zh-Hant",)),
        ("zh-Hant", "zh-Hant", ()),
        ("sr-Latn", "sr-Latn", ()),
        ("sr-Latn-RS", "sr-Latn-RS", ("sr-Latn",)),
        ("sr-RS", "sr-RS", ("sr-Cyrl", "sr")),
        ("de", "de", ("de-Latn",)),
    ],
)
def test_fallbacks_keep_the_script(code, canonical, fallbacks):
    language = get_language(code)
    assert (language.code, language.fallbacks) == (canonical, fallbacks)


def test_language_key_prefers_the_exact_tag_and_compares_canonical_forms():
    table = {"ZH": 1, "de": 2, "de-AT": 3, "zh-hant": 4, "not a code": 5}
    assert language_key(table, "de-AT") == "de-AT"
    assert language_key(table, "de-DE") == "de"
    assert language_key(table, "zh-Hans") == "ZH"
    assert language_key(table, "zh-TW") == "zh-hant"
    assert language_key(table, "ru-RU") is None
    assert language_key({"zh": 1, "zh-Hans": 2}, "zh-CN") == "zh-Hans"  # the closer tag
    assert language_key({"zh-Hans": 1}, "zh-SG") == language_key({"zh-Hans": 1}, "zh") == "zh-Hans"
    assert language_key({"en": 1}, "zh-Hant") is None
    assert language_key({"xx": 1}, "xx") == "xx" and language_key({"en": 1}, "xx") is None  # never raises


@pytest.mark.parametrize(("tgt", "base"), [("de-DE", "de"), ("de_DE", "de"), ("zh-Hans", "zh"), ("zh-CN", "zh")])
def test_packaged_shots_serve_a_regional_tag(tgt, base):
    assert load_shots(None, "en-US", tgt) == load_shots(None, "en", base)


@pytest.mark.parametrize("tgt", ["zh-Hant", "zh-TW", "zh-HK"])
def test_traditional_chinese_never_gets_simplified_shots(tgt):
    with pytest.raises(ConfigError, match=f"no packaged translation shots for en->{tgt}"):
        load_shots(None, "en", tgt)


def test_a_users_traditional_shots_serve_zh_tw(tmp_path):
    path = tmp_path / "shots.json"
    path.write_text('{"zh-Hant": [{"en": "How old is she?", "zh-Hant": "她幾歲？"}]}', encoding="utf-8")
    assert load_shots(str(path), "en", "zh-TW") == [("How old is she?", "她幾歲？")]


def _prompt(task, lang, **fields):
    return task.instruction({"id": "x", "lang": lang, **fields})


def test_task_texts_serve_a_regional_tag_without_warning(caplog):
    qa, math, nli = QATask(), MathTask(), NLITask()
    qa_fields = {"context": "Berlin.", "question": "Wo?"}
    nli_fields = {"premise": "A.", "hypothesis": "B."}
    with caplog.at_level(logging.WARNING):
        assert _prompt(qa, "de-DE", **qa_fields) == _prompt(qa, "de", **qa_fields)
        assert _prompt(math, "ru-RU", question="2+2?") == _prompt(math, "ru", question="2+2?")
        assert _prompt(nli, "zh-Hans", **nli_fields) == _prompt(nli, "zh", **nli_fields)
        assert math.target({"lang": "de-DE", "answer": "2+2=4", "final": "4"}).endswith(
            math.target({"lang": "de", "answer": "2+2=4", "final": "4"})[-20:]
        )
    assert not caplog.records


def test_traditional_chinese_prompt_is_not_simplified(caplog):
    fields = {"context": "台北。", "question": "哪裡？"}
    with caplog.at_level(logging.WARNING):
        prompt = _prompt(QATask(), "zh-Hant", **fields)
    assert prompt != _prompt(QATask(), "zh", **fields)
    assert "：台北。" in prompt  # the full-width colon of Chinese script, with the English instruction
    assert "no instruction for language 'zh-Hant'" in caplog.text


def test_nli_label_words_and_rows_serve_a_regional_tag(tmp_path):
    task = NLITask()
    assert task.parse_answer("Das widerspricht der Prämisse.", "de-AT") == "contradiction"
    path = tmp_path / "xnli.tsv"
    path.write_text(
        "language\tsentence1\tsentence2\tgold_label\n"
        "de\tEr schläft.\tEr ist wach.\tcontradiction\n"
        "en\tHe sleeps.\tHe is awake.\tcontradiction\n",
        encoding="utf-8",
    )
    examples = task.load(str(path), "de-DE")
    assert [(e["premise"], e["lang"]) for e in examples] == [("Er schläft.", "de-DE")]


def test_length_bounds_serve_a_regional_tag():
    settings = FilterSettings()
    assert settings.bounds("de-DE") == DEFAULT_LENGTH_BOUNDS["de"]
    assert settings.for_pair("en-GB", "zh-CN", shots=[("a b", "c")]) is settings  # tuned bounds kept
    given = FilterSettings(length_bounds={"de": [0.5, 3.0]})
    assert given.bounds("de-CH") == (0.5, 3.0)
    with pytest.raises(ConfigError, match="no length bounds for language 'zh-Hant'"):
        settings.bounds("zh-Hant")


@pytest.mark.parametrize("lang", ["de", "de-DE", "de-AT"])
def test_german_number_formats_serve_regional_german(lang):
    # no German or English word in the line: its number format is the set language's
    assert parse_number_answer("Zahl 1.500", lang) == "1500"


@pytest.mark.parametrize("lang", ["ru", "ru-RU"])
def test_spaced_russian_numbers_serve_ru_ru(lang):
    assert parse_number_answer("x = 12 500", lang) == "12500"
