"""Tests for example-level answer projection (extractive QA)."""

from __future__ import annotations

import pytest

from selftt.errors import ConfigError
from selftt.translation.answer_projection import (
    FOUND_METHODS,
    answer_offsets,
    check_markers,
    count_found,
    project_example,
)

MARKERS = ("[", "]")
CONTEXT = "Berlin ist die Hauptstadt Deutschlands."


# ---------------------------------------------------------------- check_markers
@pytest.mark.parametrize(
    "markers", [None, ("[", "]"), ["<<", ">>"], ("**", "**"), ("@", "@"), ("【", "】"), ("«", "»"), ("„", "“")]
)
def test_check_markers_ok(markers):
    assert check_markers(markers) is None


@pytest.mark.parametrize(
    "markers",
    [
        "[]",  # one string
        "[",
        ("[",),
        ("[", "]", "|"),  # three strings
        ("", "]"),  # empty
        ("[", ""),
        ("[ ", "]"),  # a space
        ("[", "\t]"),
        ("[", "[["),  # one inside the other
        ("<<", "<"),
        ("[", 1),
        ("]", "["),  # reversed brackets
        ("】", "【"),
        ("(", "("),
        [],
        {"open": "[", "close": "]"},
    ],
)
def test_check_markers_bad(markers):
    with pytest.raises(ConfigError, match=r"translation\.answer_markers"):
        check_markers(markers)


def test_check_markers_names_key():
    with pytest.raises(ConfigError, match=r"my\.key"):
        check_markers(("[",), key="my.key")


# ---------------------------------------------------------------- answer_offsets
def test_answer_offsets_uses_start_when_it_points_at_answer():
    ex = {"context": "a b a b", "answer": "b", "answer_start": 6}
    assert answer_offsets(ex, "answer", "context") == (6, 7)


def test_answer_offsets_falls_back_to_first_occurrence():
    ex = {"context": "a b a b", "answer": "b", "answer_start": 4}  # points at "a"
    assert answer_offsets(ex, "answer", "context") == (2, 3)
    ex = {"context": "a b a b", "answer": "b"}  # no start
    assert answer_offsets(ex, "answer", "context") == (2, 3)
    ex = {"context": "a b a b", "answer": "b", "answer_start": True}  # a bool is not an offset
    assert answer_offsets(ex, "answer", "context") == (2, 3)
    ex = {"context": "a b a b", "answer": "b", "answer_start": "6"}
    assert answer_offsets(ex, "answer", "context") == (2, 3)


def test_answer_offsets_strips_answer_whitespace():
    ex = {"context": "a b a b c", "answer": " b ", "answer_start": 5}
    assert answer_offsets(ex, "answer", "context") == (6, 7)
    ex = {"context": "a b a b c", "answer": " b "}
    assert answer_offsets(ex, "answer", "context") == (2, 3)


@pytest.mark.parametrize(
    "ex",
    [
        {"context": "a b", "answer": ""},
        {"context": "a b", "answer": "   "},
        {"context": "a b", "answer": None},
        {"context": "a b"},
        {"context": "a b", "answer": "c"},
        {"answer": "c"},
    ],
)
def test_answer_offsets_none(ex):
    assert answer_offsets(ex, "answer", "context") is None


# ---------------------------------------------------------------- project_example
def test_project_example_marker():
    translated = {
        "id": "q1@de",
        "context": "Berlin ist die [Hauptstadt] Deutschlands.",
        "answer": "Kapitale",  # the separately translated answer is not used
        "answer_start": 3,
        "question": "Was?",
    }
    out, found = project_example(translated, "answer", "context", "de", MARKERS, 80.0)
    assert out == {
        "id": "q1@de",
        "context": CONTEXT,
        "answer": "Hauptstadt",
        "answer_start": 15,
        "question": "Was?",
    }
    assert found == {"method": "marker", "score": 100.0}
    assert translated["context"].startswith("Berlin ist die [")  # input not modified


def test_project_example_exact_when_markers_lost():
    translated = {"context": CONTEXT, "answer": "hauptstadt", "answer_start": 0}
    out, found = project_example(translated, "answer", "context", "de", MARKERS, 80.0)
    assert out["answer"] == "Hauptstadt" and out["answer_start"] == 15
    assert out["context"][15:25] == "Hauptstadt"
    assert found == {"method": "exact", "score": 100.0}


def test_project_example_exact_without_markers_keeps_brackets():
    translated = {"context": "a [b] c", "answer": "b"}
    out, found = project_example(translated, "answer", "context", "de", None, 80.0)
    assert out["context"] == "a [b] c"
    assert out["answer_start"] == 3
    assert found == {"method": "exact", "score": 100.0}


def test_project_example_fuzzy_and_min_score():
    translated = {"context": CONTEXT, "answer": "Hauptstädte"}
    out, found = project_example(translated, "answer", "context", "de", MARKERS, 80.0)
    assert found == {"method": "fuzzy", "score": 81.8}
    assert out["answer"] == "Hauptstadt" and out["answer_start"] == 15
    out, found = project_example(translated, "answer", "context", "de", MARKERS, 90.0)
    assert found == {"method": "none", "score": None}
    assert out["answer"] == "Hauptstädte" and out["answer_start"] is None


def test_project_example_none_removes_broken_markers():
    translated = {"context": "Berlin ist [die] [Hauptstadt] Deutschlands.", "answer": "Paris", "answer_start": 3}
    out, found = project_example(translated, "answer", "context", "de", MARKERS, 80.0)
    assert out == {"context": CONTEXT, "answer": "Paris", "answer_start": None}
    assert found == {"method": "none", "score": None}


def test_project_example_answer_is_span_of_context():
    translated = {"context": "Die Mauer fiel am [9. November 1989] in Berlin.", "answer": "x"}
    out, found = project_example(translated, "answer", "context", "de", MARKERS, 80.0)
    start = out["answer_start"]
    assert out["context"] == "Die Mauer fiel am 9. November 1989 in Berlin."
    assert out["answer"] == "9. November 1989"
    assert out["context"][start : start + len(out["answer"])] == out["answer"]
    assert found["method"] == "marker"


# ---------------------------------------------------------------- count_found
def test_count_found():
    assert FOUND_METHODS == ("marker", "exact", "fuzzy", "none")
    found = [
        {"method": "marker", "score": 100.0},
        None,
        {"method": "fuzzy", "score": 85.0},
        {"method": "marker", "score": 100.0},
        {"method": "none", "score": None},
    ]
    assert count_found(found) == {"marker": 2, "exact": 0, "fuzzy": 1, "none": 1}
    assert list(count_found(found)) == list(FOUND_METHODS)
    assert count_found([]) == {"marker": 0, "exact": 0, "fuzzy": 0, "none": 0}
    assert count_found(iter([None, None])) == {"marker": 0, "exact": 0, "fuzzy": 0, "none": 0}
