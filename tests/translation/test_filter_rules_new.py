"""Tests for the filter rules language_id, round_trip and duplicate, and their settings."""

from __future__ import annotations

import pytest

from selftt.errors import ConfigError
from selftt.tasks import QATask
from selftt.translation.filter_settings import FilterSettings as FilterSettingsDirect
from selftt.translation.filters import (
    RULES,
    FilterSettings,
    check_text,
    count_reasons,
    duplicate_reasons,
    filter_example,
    sentence_chrf,
)

S = FilterSettings()
SRC = "The museum opens at nine o'clock on Sundays and closes in the evening."
DE = "Das Museum öffnet sonntags um neun Uhr und schließt am Abend."
EN_AGAIN = "The museum is open from nine in the morning on Sundays until the evening."  # English, not a copy
BACK_GOOD = "The museum opens at nine on Sundays and closes in the evening."
BACK_BAD = "A cat sat on a mat."
UK = "Музей відкривається о дев'ятій годині в неділю і зачиняється ввечері."


def test_filter_settings_reexported():
    assert FilterSettings is FilterSettingsDirect


def test_rules_list_new_names():
    assert RULES == (
        "empty", "truncated", "empty_line", "lost_question", "scaffolding", "untranslated", "length_ratio",
        "repetition", "script", "numbers", "language_id", "round_trip", "answer_in_context", "duplicate",
    )


def test_defaults():
    assert S.language_id is True and S.duplicates is True
    assert S.round_trip is False and S.round_trip_min_chrf == 30.0
    assert S.min_language_confidence == 0.5 and S.language_id_candidates is None
    assert S.answer_min_score == 80.0
    assert "language_id" in S.switches() and "round_trip" in S.switches() and "duplicates" in S.switches()


# ---------------------------------------------------------------- language_id
def test_language_id_rejects_english_as_german():
    # right script, not a copy of the source: only language identification catches it
    assert check_text(SRC, EN_AGAIN, "de", S, src_lang="en") == ["language_id"]


def test_language_id_keeps_good_german():
    assert check_text(SRC, DE, "de", S, src_lang="en") == []


def test_language_id_needs_src_lang():
    assert check_text(SRC, EN_AGAIN, "de", S) == []
    assert check_text(SRC, EN_AGAIN, "de", S, src_lang=None) == []


def test_language_id_off():
    assert check_text(SRC, EN_AGAIN, "de", FilterSettings(language_id=False), src_lang="en") == []


def test_language_id_confidence_threshold():
    # lingua's confidence in English here is about 0.99, below 1.0
    assert check_text(SRC, EN_AGAIN, "de", FilterSettings(min_language_confidence=1.0), src_lang="en") == []
    assert check_text(SRC, EN_AGAIN, "de", FilterSettings(min_language_confidence=0.9), src_lang="en") == [
        "language_id"
    ]


@pytest.mark.parametrize(
    ("source", "translation"),
    [
        ("University of Chicago Press", "University of Chicago Press Books"),
        ("Super Bowl 50", "The Super Bowl number fifty"),
    ],
)
def test_language_id_name_like_sources_not_judged(source, translation):
    assert "language_id" not in check_text(source, translation, "de", S, src_lang="en")
    # the same output for a source that is not name-like is judged (and is English)
    sentence = "the team that won the final game of the season"
    assert "language_id" in check_text(sentence, translation, "de", S, src_lang="en")


def test_language_id_candidates():
    # Ukrainian as a Russian translation: among en/ru it looks Russian, with uk a candidate it is caught
    assert check_text(SRC, UK, "ru", S, src_lang="en") == []
    assert check_text(SRC, UK, "ru", FilterSettings(language_id_candidates=["uk"]), src_lang="en") == [
        "language_id"
    ]


# ---------------------------------------------------------------- round_trip
def test_sentence_chrf():
    assert sentence_chrf(SRC, SRC) == pytest.approx(100.0)
    assert sentence_chrf(BACK_BAD, SRC) < 30.0
    assert sentence_chrf(BACK_GOOD, SRC) > 80.0


def test_round_trip_low_chrf_rejected():
    on = FilterSettings(round_trip=True)
    assert check_text(SRC, DE, "de", on, back=BACK_BAD) == ["round_trip"]
    assert check_text(SRC, DE, "de", on, back=BACK_BAD, src_lang="en") == ["round_trip"]


def test_round_trip_faithful_back_translation_passes():
    on = FilterSettings(round_trip=True)
    assert check_text(SRC, DE, "de", on, back=BACK_GOOD) == []
    assert check_text(SRC, DE, "de", on, back=SRC) == []


def test_round_trip_threshold():
    chrf = sentence_chrf(BACK_GOOD, SRC)
    assert check_text(SRC, DE, "de", FilterSettings(round_trip=True, round_trip_min_chrf=chrf), back=BACK_GOOD) == []
    assert check_text(
        SRC, DE, "de", FilterSettings(round_trip=True, round_trip_min_chrf=min(100.0, chrf + 0.5)), back=BACK_GOOD
    ) == ["round_trip"]


def test_round_trip_off_or_no_back_never():
    assert check_text(SRC, DE, "de", FilterSettings(round_trip=False), back=BACK_BAD) == []
    assert check_text(SRC, DE, "de", S, back=BACK_BAD) == []  # off by default
    assert check_text(SRC, DE, "de", FilterSettings(round_trip=True)) == []  # no back translation


def test_filter_example_passes_back_per_field():
    task = QATask()
    source = {"id": "q", "context": SRC, "question": "When does the museum open on Sundays?", "answer": "nine"}
    translated = {"context": DE, "question": "Wann öffnet das Museum sonntags?", "answer": "neun"}
    settings = FilterSettings(round_trip=True, language_id=False)
    reasons = filter_example(
        task, source, translated, "de", settings, back={"context": BACK_BAD, "question": source["question"]}
    )
    assert reasons == ["context:round_trip"]


# ---------------------------------------------------------------- duplicate
CONTEXT_EN = "The Broncos defeated the Panthers to win the Super Bowl in February at Levi's Stadium."
CONTEXT_DE = "Die Broncos besiegten die Panthers und gewannen den Super Bowl im Februar im Levi's Stadium."


def _qa(question: str, answer: str, context: str = CONTEXT_EN) -> dict:
    return {"context": context, "question": question, "answer": answer}


def test_duplicate_different_questions_same_translation():
    sources = [
        _qa("Who won the game in the end?", "Denver Broncos"),
        _qa("Which team won the big game?", "the Broncos"),
        _qa("Where was the game played?", "Levi's Stadium"),
    ]
    translated = [
        _qa("Wer hat das Spiel gewonnen?", "Denver Broncos", CONTEXT_DE),
        _qa("wer hat das Spiel gewonnen", "Denver Broncos", CONTEXT_DE),  # case and punctuation ignored
        _qa("Wo wurde das Spiel gespielt?", "Levi's Stadium", CONTEXT_DE),
    ]
    got = duplicate_reasons(sources, translated, ["context", "question", "answer"])
    # the shared context (one source text) is not flagged; the names are left out
    assert got == {0: ["question:duplicate"], 1: ["question:duplicate"]}


def test_duplicate_name_like_sources_not_flagged():
    sources = [{"answer": "Denver Broncos"}, {"answer": "the Broncos"}, {"answer": "Broncos"}]
    translated = [{"answer": "die Broncos"}, {"answer": "die Broncos"}, {"answer": "die Broncos"}]
    assert duplicate_reasons(sources, translated, ["answer"]) == {}


def test_duplicate_identical_sources_not_flagged():
    q = "Who won the game in the end?"
    sources = [_qa(q, "x"), _qa(q, "y")]
    translated = [_qa("Wer hat gewonnen?", "x"), _qa("Wer hat gewonnen?", "y")]
    assert duplicate_reasons(sources, translated, ["question"]) == {}


def test_duplicate_several_fields_and_order():
    a = "The cat sat on the mat all day long."
    b = "A dog lay on the rug all night long."
    sources = [{"x": a, "y": a}, {"x": "Something else entirely is here.", "y": b}, {"x": b, "y": "Nothing is the same here."}]
    translated = [{"x": "Gleich.", "y": "Y gleich"}, {"x": "Anders hier.", "y": "y gleich!"}, {"x": "gleich", "y": "Anders."}]
    assert duplicate_reasons(sources, translated, ["x", "y"]) == {
        0: ["x:duplicate", "y:duplicate"],
        2: ["x:duplicate"],
        1: ["y:duplicate"],
    }


def test_duplicate_empty_translations_ignored():
    sources = [_qa("Who won the game in the end?", "a"), _qa("Which team won the big game?", "b")]
    translated = [_qa("", "a"), _qa("  ", "b")]
    assert duplicate_reasons(sources, translated, ["question"]) == {}


# ---------------------------------------------------------------- count_reasons
def test_count_reasons_new_rules():
    counts = count_reasons(
        [
            ["context:language_id", "question:language_id"],
            ["context:round_trip", "question:duplicate"],
            ["answer:duplicate"],
            [],
        ]
    )
    assert counts["language_id"] == 1
    assert counts["round_trip"] == 1
    assert counts["duplicate"] == 2
    assert counts["kept"] == 1 and counts["total"] == 4
    assert list(counts)[: len(RULES)] == list(RULES)
    assert sum(counts[r] for r in RULES) == 4


# ---------------------------------------------------------------- settings validation
@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"round_trip_min_chrf": 100.5}, "round_trip_min_chrf"),
        ({"round_trip_min_chrf": -0.1}, "round_trip_min_chrf"),
        ({"round_trip_min_chrf": "30"}, "round_trip_min_chrf"),
        ({"round_trip_min_chrf": True}, "round_trip_min_chrf"),
        ({"answer_min_score": 101}, "answer_min_score"),
        ({"answer_min_score": -1}, "answer_min_score"),
        ({"answer_min_score": None}, "answer_min_score"),
        ({"min_language_confidence": 1.01}, "min_language_confidence"),
        ({"min_language_confidence": -0.5}, "min_language_confidence"),
        ({"min_language_confidence": False}, "min_language_confidence"),
        ({"min_language_confidence": float("nan")}, "min_language_confidence"),
        ({"language_id_candidates": ["uk", "!!"]}, r"language_id_candidates\[1\]"),
        ({"language_id_candidates": ["not a code"]}, r"language_id_candidates\[0\]"),
        ({"language_id": "yes"}, "language_id"),
        ({"round_trip": 1}, "round_trip"),
        ({"duplicates": None}, "duplicates"),
    ],
)
def test_validate_new_keys(kwargs, key):
    with pytest.raises(ConfigError, match=rf"'translation\.filters\.{key}'"):
        FilterSettings(**kwargs).validate()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"round_trip_min_chrf": 0},
        {"round_trip_min_chrf": 100},
        {"answer_min_score": 1.0},  # below 1 is refused: 0.8 is a slip for 80
        {"answer_min_score": 100.0},
        {"min_language_confidence": 0},
        {"min_language_confidence": 1},
        {"language_id_candidates": ["uk", "bg", "pt-BR"]},
        {"language_id_candidates": []},
        {"round_trip": True},
    ],
)
def test_validate_new_keys_ok(kwargs):
    FilterSettings(**kwargs).validate()


@pytest.mark.parametrize(
    "name, value",
    [("answer_min_score", 0.8), ("answer_min_score", 0), ("min_script_fraction", 0), ("max_repeated_ngram_fraction", 0),
     ("round_trip_min_chrf", 100.5), ("min_language_confidence", 1.5)],
)
def test_validate_agrees_with_parse_time(name, value):
    """Built in Python, the settings refuse what the parse-time check refuses, in the same words."""
    from selftt.config_checks import check_numbers

    with pytest.raises(ConfigError) as at_parse:
        check_numbers({"translation": {"filters": {name: value}}})
    with pytest.raises(ConfigError) as built:
        FilterSettings(**{name: value}).validate()
    assert str(built.value) == str(at_parse.value)


def test_validate_key_prefix():
    with pytest.raises(ConfigError, match=r"'cfg\.f\.answer_min_score'"):
        FilterSettings(answer_min_score=200).validate("cfg.f")
