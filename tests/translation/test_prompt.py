"""The few-shot translation prompt: exact text, stop strings, fingerprint, validation."""

from __future__ import annotations

import json

import pytest

from selftt.errors import ConfigError
from selftt.translation.prompt import TranslationPrompt
from selftt.translation.shots import load_shots

DE_SHOTS = [
    ("Where is the station?", "Wo ist der Bahnhof?"),
    ("He pays 3 * 4 = 12 euros.", "Er bezahlt 3 * 4 = 12 Euro."),
    ("It rains.", "Es regnet."),
]
ZH_SHOTS = [
    ("Where is the station?", "车站在哪里？"),
    ("He pays 3 * 4 = 12 euros.", "他付了 3 * 4 = 12 欧元。"),
    ("It rains.", "下雨了。"),
]


def test_golden_german():
    prompt = TranslationPrompt(n_shots=2)
    assert prompt.build("She has 5 cats.", DE_SHOTS, "en", "de") == (
        "English: Where is the station?\n"
        "German: Wo ist der Bahnhof?\n"
        "\n"
        "English: He pays 3 * 4 = 12 euros.\n"
        "German: Er bezahlt 3 * 4 = 12 Euro.\n"
        "\n"
        "English: She has 5 cats.\n"
        "German:"
    )


def test_golden_chinese():
    prompt = TranslationPrompt(n_shots=2)
    assert prompt.build("  How old is {name}?  ", ZH_SHOTS, "en", "zh") == (
        "English: Where is the station?\n"
        "Chinese: 车站在哪里？\n"
        "\n"
        "English: He pays 3 * 4 = 12 euros.\n"
        "Chinese: 他付了 3 * 4 = 12 欧元。\n"
        "\n"
        "English: How old is {name}?\n"
        "Chinese:"
    )


def test_zero_shot_and_custom_template():
    assert TranslationPrompt(n_shots=0).build("Hi.", [], "en", "th") == "English: Hi.\nThai:"
    prompt = TranslationPrompt(
        n_shots=1, template="[{src_lang}] {src}\n[{tgt_lang}]\n{tgt}", separator="\n###\n"
    )
    assert prompt.build("Hi.", DE_SHOTS, "en", "ru") == (
        "[en] Where is the station?\n[ru]\nWo ist der Bahnhof?\n###\n[en] Hi.\n[ru]\n"
    )


def test_default_shots_prompt_ends_with_target_name():
    shots = load_shots(None, "en", "ru")
    text = TranslationPrompt().build("Two plus two is 4.", shots, "en", "ru")
    assert text.endswith("\nEnglish: Two plus two is 4.\nRussian:")
    assert text.count("\n\n") == 4
    assert text.startswith(f"English: {shots[0][0]}\nRussian: {shots[0][1]}\n\n")


@pytest.mark.parametrize("text", ["first line\n\nsecond line", "a\n \nb", "   ", ""])
def test_build_rejects_blank_lines_and_empty_text(text):
    with pytest.raises(ValueError):
        TranslationPrompt(n_shots=1).build(text, DE_SHOTS, "en", "de")


def test_build_rejects_custom_separator_in_text_or_shots():
    prompt = TranslationPrompt(n_shots=1, separator="\n---\n")
    with pytest.raises(ValueError, match="separator"):
        prompt.build("a\n---\nb", DE_SHOTS, "en", "de")
    with pytest.raises(ValueError, match="separator"):
        prompt.build("a", [("x\n---\ny", "z")], "en", "de")


def test_too_many_shots_is_a_config_error():
    with pytest.raises(ConfigError) as info:
        TranslationPrompt(n_shots=4).build("a", DE_SHOTS, "en", "de")
    assert info.value.key == "translation.prompt.n_shots"


def test_stop_strings():
    assert TranslationPrompt().stop_strings("en") == ["\n\n", "\nEnglish:"]
    assert TranslationPrompt(separator="\n###\n").stop_strings("en") == ["\n###\n", "\nEnglish:"]
    custom = TranslationPrompt(stop=["\n"])
    assert custom.stop_strings("en") == ["\n"]
    custom.stop_strings("en").append("x")  # a copy
    assert custom.stop == ["\n"]


def test_fingerprint_is_json_and_lists_what_changes_the_prompt():
    fp = TranslationPrompt(n_shots=2).fingerprint(DE_SHOTS, "en", "de")
    assert json.loads(json.dumps(fp)) == fp
    assert fp["shots"] == [list(DE_SHOTS[0]), list(DE_SHOTS[1])]
    assert fp["stop"] == ["\n\n", "\nEnglish:"]
    assert fp["template"] == TranslationPrompt.template


def test_fingerprint_changes_only_with_the_prompt():
    base = TranslationPrompt(n_shots=2).fingerprint(DE_SHOTS, "en", "de")
    # equal settings, unused shots changed: same fingerprint
    assert TranslationPrompt(n_shots=2).fingerprint(DE_SHOTS, "en", "de") == base
    assert TranslationPrompt(n_shots=2).fingerprint([*DE_SHOTS[:2], ("other", "andere")], "en", "de") == base
    assert TranslationPrompt(n_shots=2).fingerprint(DE_SHOTS[:2], "en", "de") == base
    changed = [
        TranslationPrompt(n_shots=1).fingerprint(DE_SHOTS, "en", "de"),
        TranslationPrompt(n_shots=3).fingerprint(DE_SHOTS, "en", "de"),
        TranslationPrompt(n_shots=2, template="{src_name}: {src}\n{tgt_name}:{tgt}").fingerprint(
            DE_SHOTS, "en", "de"
        ),
        TranslationPrompt(n_shots=2, separator="\n\n\n").fingerprint(DE_SHOTS, "en", "de"),
        TranslationPrompt(n_shots=2, stop=["\n"]).fingerprint(DE_SHOTS, "en", "de"),
        TranslationPrompt(n_shots=2).fingerprint([DE_SHOTS[0], ("It rains.", "Es regnet!")], "en", "de"),
        TranslationPrompt(n_shots=2).fingerprint(DE_SHOTS, "en", "ru"),
        TranslationPrompt(n_shots=2).fingerprint(DE_SHOTS, "de", "ru"),
    ]
    for fp in changed:
        assert fp != base
    assert len({json.dumps(fp, sort_keys=True) for fp in changed}) == len(changed)


@pytest.mark.parametrize(
    ("prompt", "field", "message"),
    [
        (TranslationPrompt(n_shots=-1), "n_shots", ">= 0"),
        (TranslationPrompt(n_shots=True), "n_shots", ">= 0"),
        (TranslationPrompt(template="{src_name}: {src}\n{tgt_name}:"), "template", "{tgt}"),
        (TranslationPrompt(template="{tgt_name}: {tgt}"), "template", "{src}"),
        (TranslationPrompt(template="{tgt}\n{src}"), "template", "before"),
        (TranslationPrompt(template="{src}\n{tgt}\n"), "template", "end with {tgt}"),
        (TranslationPrompt(template="{src} {tgt} {tgt}"), "template", "exactly once"),
        (TranslationPrompt(template="{lang}: {src}\n{tgt}"), "template", "unknown field {lang}"),
        (TranslationPrompt(template="{0}: {src}\n{tgt}"), "template", "unknown field"),
        (TranslationPrompt(template="{src!r}\n{tgt}"), "template", "format spec"),
        (TranslationPrompt(template="{src\n{tgt}"), "template", "not a valid format string"),
        (TranslationPrompt(separator=""), "separator", "non-empty"),
        (TranslationPrompt(stop=[""]), "stop", "non-empty"),
        (TranslationPrompt(stop="\n"), "stop", "list"),
    ],
)
def test_validate_errors(prompt, field, message):
    with pytest.raises(ConfigError) as info:
        prompt.validate("cfg.prompt")
    assert info.value.key == f"cfg.prompt.{field}"
    assert message in str(info.value)


def test_validate_accepts_defaults_and_literal_braces():
    TranslationPrompt().validate()
    prompt = TranslationPrompt(n_shots=1, template="{{{src_name}}} {src}\n{{{tgt_name}}} {tgt}")
    prompt.validate()
    assert prompt.build("x", DE_SHOTS, "en", "de") == (
        "{English} Where is the station?\n{German} Wo ist der Bahnhof?\n\n{English} x\n{German}"
    )


def test_unknown_language_code():
    with pytest.raises(ConfigError, match="not a known language"):
        TranslationPrompt(n_shots=0).build("x", [], "en", "xx-notalang")


def test_any_language_is_named_by_cldr():
    prompt = TranslationPrompt(n_shots=0)
    assert prompt.language_names("de", "sw") == ["German", "Swahili"]
    assert prompt.build("Habari", [], "sw", "pt-BR").endswith("Portuguese (Brazil):")
    assert prompt.stop_strings("hi") == ["\n\n", "\nHindi:"]
