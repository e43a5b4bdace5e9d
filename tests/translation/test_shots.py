"""The packaged translation shots and the shots-file checks."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from selftt.errors import ConfigError, DataError
from selftt.translation.shots import check_language, load_shots, packaged_shots_path

SUPPORTED_LANGUAGES = ("de", "ru", "th", "zh")  # what the packaged file covers, from English


def _numbers(text: str) -> list[str]:
    return sorted(re.findall(r"\d+", text))


def test_packaged_file_covers_english_to_the_four_languages():
    assert set(json.loads(packaged_shots_path().read_text(encoding="utf-8"))) == set(SUPPORTED_LANGUAGES)


def test_packaged_asset_is_found_by_importlib_resources():
    path = resources.files("selftt") / "assets" / "translation_shots.json"
    assert path.is_file()
    assert packaged_shots_path().read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_packaged_shots_load_with_numbers_preserved(lang):
    shots = load_shots(None, "en", lang)
    assert len(shots) >= 8
    for src, tgt in shots:
        assert src.strip() == src and tgt.strip() == tgt and src and tgt
        assert "\n" not in src and "\n" not in tgt
        assert _numbers(src) == _numbers(tgt), (src, tgt)
    assert sum(bool(_numbers(src)) for src, _ in shots) >= 3  # math problems and chain-of-thought lines
    assert any(re.search(r"\d+ [-+*/] \d+ = \d+", tgt) for _, tgt in shots)


def test_packaged_shots_share_english_sides():
    english = [src for src, _ in load_shots(None, "en", "de")]
    for lang in SUPPORTED_LANGUAGES:
        assert [src for src, _ in load_shots(None, "en", lang)] == english
    assert len(set(english)) == len(english)


def test_custom_file(tmp_path):
    path = tmp_path / "shots.json"
    path.write_text(
        json.dumps({"th": [{"en": " One. ", "th": "หนึ่ง"}, {"en": "Two 2.", "th": "สอง 2", "de": "ignored"}]}),
        encoding="utf-8",
    )
    assert load_shots(str(path), "en", "th") == [("One.", "หนึ่ง"), ("Two 2.", "สอง 2")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "cannot read"),
        ('[["en", "de"]]', "must be a JSON object"),
        ('{"zh": [{"en": "a", "zh": "b"}]}', "has no pairs for 'de'"),
        ('{"de": []}', "has no pairs for 'de'"),
        ('{"de": {"en": "a", "de": "b"}}', "must be a list"),
        ('{"de": ["a"]}', "must be an object"),
        ('{"de": [{"en": "a"}]}', "no 'de' side"),
        ('{"de": [{"de": "a"}]}', "no 'en' side"),
        ('{"de": [{"en": "a", "de": "   "}]}', "'de' is empty"),
        ('{"de": [{"en": "a", "de": 3}]}', "must be a string"),
        ('{"de": [{"en": "line one\\n\\nline two", "de": "b"}]}', "has a line break; each side is one line"),
        ('{"de": [{"en": "a", "de": "x\\n  \\ny"}]}', "has a line break"),
        ('{"de": [{"en": "a", "de": "Hallo\\nWelt"}]}', "'de' has a line break"),
    ],
)
def test_bad_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad_shots.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(message)) as info:
        load_shots(str(path), "en", "de")
    assert info.value.path == str(path)
    assert str(path) in str(info.value)


def test_missing_file_names_it(tmp_path):
    path = tmp_path / "absent.json"
    with pytest.raises(DataError) as info:
        load_shots(str(path), "en", "de")
    assert str(path) in str(info.value)


@pytest.mark.parametrize("bad", ["xx-notalang", "", 42, "english", None, "und"])
def test_invalid_language_names_the_key(bad):
    with pytest.raises(ConfigError) as info:
        check_language(bad, "translation.languages")
    assert info.value.key == "translation.languages"
    assert repr(bad) in str(info.value) and "\n" not in str(info.value)


def test_any_valid_language_is_accepted_in_canonical_form():
    assert [check_language(c, "k") for c in ("th", "en", "fr", "sw", "ZH", "pt-br")] == [
        "th",
        "en",
        "fr",
        "sw",
        "zh",
        "pt-BR",
    ]


def test_load_shots_checks_languages():
    with pytest.raises(ConfigError) as info:
        load_shots(None, "en", "xx-notalang", key="my.shots")
    assert info.value.key == "my.shots"
    with pytest.raises(ConfigError, match="'xx'"):
        load_shots(None, "xx", "de")
    with pytest.raises(ConfigError, match="both 'de'"):
        load_shots(None, "de", "DE")


@pytest.mark.parametrize(("src", "tgt"), [("en", "sw"), ("en", "ja"), ("de", "ru")])
def test_unshipped_pair_requires_a_shots_file(src, tgt):
    with pytest.raises(ConfigError) as info:
        load_shots(None, src, tgt)
    message = str(info.value)
    assert info.value.key == "translation.shots_file" and "\n" not in message
    assert f"no packaged translation shots for {src}->{tgt}" in message
    assert f'{{"{tgt}": [{{"{src}": "...", "{tgt}": "..."}}, ...]}}' in message


def test_german_to_swahili_file(tmp_path):
    path = tmp_path / "de-sw.json"
    pairs = [
        {"de": "Wie alt ist sie?", "sw": "Ana umri gani?"},
        {"de": "Der Hund bellt.", "sw": "Mbwa anabweka."},
    ]
    path.write_text(json.dumps({"sw": pairs}), encoding="utf-8")
    expected = [("Wie alt ist sie?", "Ana umri gani?"), ("Der Hund bellt.", "Mbwa anabweka.")]
    assert load_shots(str(path), "de", "sw") == expected
    assert load_shots(str(path), "DE", "SW") == expected  # codes match in any case
    with pytest.raises(DataError, match="no 'en' side"):
        load_shots(str(path), "en", "sw")
    with pytest.raises(DataError, match="no pairs for 'ja'"):
        load_shots(str(path), "de", "ja")


@pytest.mark.parametrize(
    ("pair", "shown"),
    [
        ({"en": "How old is she?", "de": "How old is she?"}, "How old is she?"),
        ({"en": "  Hello world. ", "de": "hello WORLD."}, "Hello world."),
        ({"en": "He is 5 years old.", "de": "he is 5 years old."}, "He is 5 years old."),
    ],
)
def test_a_pair_with_the_same_text_on_both_sides_is_refused(tmp_path, pair, shown):
    """A copied, untranslated pair would teach the translator to copy (issue 13)."""
    path = tmp_path / "shots.json"
    path.write_text(json.dumps({"de": [{"en": "Hi.", "de": "Hallo."}, pair]}), encoding="utf-8")
    message = f"{path}: shot 1 for 'de': the 'en' and 'de' sides are the same text ({shown!r})"
    with pytest.raises(DataError, match=re.escape(message)):
        load_shots(str(path), "en", "de")


def test_a_name_or_number_may_stay_the_same(tmp_path):
    """Names and numbers are kept in a translation, as the packaged en->de "Marie Curie" shot shows."""
    path = tmp_path / "shots.json"
    pairs = [{"en": "Marie Curie", "de": "Marie Curie"}, {"en": "1969", "de": "1969"}]
    path.write_text(json.dumps({"de": pairs}), encoding="utf-8")
    assert load_shots(str(path), "en", "de") == [("Marie Curie", "Marie Curie"), ("1969", "1969")]


def test_deeply_nested_shots_file_names_the_line(tmp_path):
    path = tmp_path / "shots.json"
    path.write_text('{\n "de": ' + "[" * 100_000 + "]" * 100_000 + "\n}", encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(f"{path}:2: shots file nests JSON too deeply")):
        load_shots(str(path), "en", "de")
