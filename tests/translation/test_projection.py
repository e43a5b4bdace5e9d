"""Tests for answer projection: markers in translated QA contexts, exact and fuzzy fallback."""

from __future__ import annotations

import pytest

from selftt.errors import ConfigError
from selftt.translation.projection import (
    SpanMatch,
    find_answer,
    mark_span,
    project_answer,
    read_marked,
)

BRACKETS = ("[", "]")


# --- mark_span ---------------------------------------------------------------------------------


def test_mark_span_wraps_the_span():
    assert mark_span("He lives in Berlin.", 12, 18, BRACKETS) == "He lives in [Berlin]."
    assert mark_span("abc", 0, 3, ("<<", ">>")) == "<<abc>>"
    assert mark_span("abc", 1, 2, ("**", "**")) == "a**b**c"


@pytest.mark.parametrize("start, end", [(-1, 2), (2, 2), (3, 2), (0, 4), (4, 5)])
def test_mark_span_rejects_bad_offsets(start, end):
    with pytest.raises(ValueError, match="span"):
        mark_span("abc", start, end, BRACKETS)


@pytest.mark.parametrize("markers", [("", "]"), ("[", " "), ("<", "<<")])
def test_mark_span_rejects_bad_markers(markers):
    with pytest.raises(ValueError, match="marker"):
        mark_span("abc", 0, 1, markers)


@pytest.mark.parametrize("markers", [BRACKETS, ("<<", ">>"), ("**", "**"), ("⟦", "⟧")])
def test_mark_then_read_round_trip(markers):
    text = "The Normans were in Normandy, a region in France, in the 10th century."
    start = text.index("Normandy")
    clean, span = read_marked(mark_span(text, start, start + len("Normandy"), markers), markers)
    assert clean == text
    assert span == (start, start + len("Normandy"))


# --- read_marked: languages --------------------------------------------------------------------


def test_read_marked_german():
    clean, span = read_marked(
        "Die Normannen lebten in der [Normandie], einer Region in Frankreich.", BRACKETS
    )
    assert clean == "Die Normannen lebten in der Normandie, einer Region in Frankreich."
    assert span == (28, 37)
    assert clean[span[0] : span[1]] == "Normandie"


def test_read_marked_russian():
    clean, span = read_marked("Норманны жили в [Нормандии] , регионе Франции.", BRACKETS)
    assert clean == "Норманны жили в Нормандии, регионе Франции."
    assert clean[span[0] : span[1]] == "Нормандии"


def test_read_marked_chinese_without_spaces():
    clean, span = read_marked("诺曼人生活在 [诺曼底] ，法国的一个地区。", BRACKETS)
    assert clean == "诺曼人生活在诺曼底，法国的一个地区。"
    assert span == (6, 9)
    assert clean[6:9] == "诺曼底"


def test_read_marked_thai():
    clean, span = read_marked("ชาวนอร์มันอาศัยอยู่ใน[นอร์มังดี]ซึ่งเป็นภูมิภาคหนึ่งของฝรั่งเศส", BRACKETS)
    assert clean == "ชาวนอร์มันอาศัยอยู่ในนอร์มังดีซึ่งเป็นภูมิภาคหนึ่งของฝรั่งเศส"
    assert clean[span[0] : span[1]] == "นอร์มังดี"
    assert span == (21, 30)


# --- read_marked: broken markers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "translation, clean",
    [
        ("Er wohnt in Berlin.", "Er wohnt in Berlin."),  # markers lost
        ("Er wohnt in [Berlin.", "Er wohnt in Berlin."),  # closing one lost
        ("Er wohnt in Berlin].", "Er wohnt in Berlin."),  # opening one lost
        ("Er wohnt in [Berlin] und [Berlin].", "Er wohnt in Berlin und Berlin."),  # two pairs
        ("Er wohnt in [[Berlin]].", "Er wohnt in Berlin."),  # doubled
        ("Er wohnt in ]Berlin[.", "Er wohnt in Berlin."),  # reversed
        ("Er wohnt in [] Berlin.", "Er wohnt in Berlin."),  # empty
        ("Er wohnt in [ ] Berlin.", "Er wohnt in Berlin."),  # blank
        ("Er wohnt in [.] Berlin.", "Er wohnt in. Berlin."),  # punctuation only
        ("a ] b [ c", "a b c"),
    ],
)
def test_read_marked_broken_markers(translation, clean):
    assert read_marked(translation, BRACKETS) == (clean, None)


def test_read_marked_multi_char_markers():
    assert read_marked("Er wohnt in << Berlin >> .", ("<<", ">>")) == ("Er wohnt in Berlin.", (12, 18))
    # a single "<" or ">" is text, not a marker
    assert read_marked("a < b <<c>> d", ("<<", ">>")) == ("a < b c d", (6, 7))
    assert read_marked("a <<b>> <<c>>", ("<<", ">>")) == ("a b c", None)


def test_read_marked_symmetric_markers():
    assert read_marked("Er wohnt in **Berlin**.", ("**", "**")) == ("Er wohnt in Berlin.", (12, 18))
    assert read_marked("Er wohnt in **Berlin.", ("**", "**")) == ("Er wohnt in Berlin.", None)
    assert read_marked("**Er** wohnt in **Berlin**.", ("**", "**")) == ("Er wohnt in Berlin.", None)


def test_read_marked_tidies_spacing_only_around_markers():
    assert read_marked("Er wohnt in [ Berlin ] .", BRACKETS) == ("Er wohnt in Berlin.", (12, 18))
    assert read_marked("[ Berlin ] ist groß", BRACKETS) == ("Berlin ist groß", (0, 6))
    assert read_marked("Er wohnt in [ Berlin ]", BRACKETS) == ("Er wohnt in Berlin", (12, 18))
    assert read_marked("Er wohnt ( [Berlin] ) hier", BRACKETS) == ("Er wohnt (Berlin) hier", (10, 16))
    # whitespace away from the markers is left alone, also a double space
    assert read_marked("Er  wohnt in [Berlin] .", BRACKETS) == ("Er  wohnt in Berlin.", (13, 19))
    # French keeps its space before "?" unless the model padded the marker on both sides
    assert read_marked("Il habite à [Paris] ?", BRACKETS) == ("Il habite à Paris ?", (12, 17))
    assert read_marked("He lives in [ Paris ] ?", BRACKETS) == ("He lives in Paris?", (12, 17))


def test_read_marked_trims_edge_punctuation_but_keeps_internal():
    assert read_marked("Er sagte [„Berlin“,] dann", BRACKETS) == ("Er sagte „Berlin“, dann", (10, 16))
    assert read_marked("Er wohnt in [Berlin.]", BRACKETS) == ("Er wohnt in Berlin.", (12, 18))
    assert read_marked("Es war [3,5 Millionen].", BRACKETS) == ("Es war 3,5 Millionen.", (7, 20))
    assert read_marked("in the [U.S.] today", BRACKETS) == ("in the U.S. today", (7, 11))
    assert read_marked("by [Smith, J.R.R. Tolkien]", BRACKETS) == ("by Smith, J.R.R. Tolkien", (3, 24))
    assert read_marked("in ['s-Hertogenbosch]", BRACKETS) == ("in 's-Hertogenbosch", (3, 19))
    assert read_marked("the book ['Hamlet']", BRACKETS) == ("the book 'Hamlet'", (10, 16))


# --- find_answer -------------------------------------------------------------------------------


def test_find_answer_exact_ignores_case_and_whitespace_runs():
    context = "Der Fluss  RHEIN\nfließt durch Basel."
    m = find_answer("rhein fließt", context, "de")
    assert m == SpanMatch("exact", 11, 23, 100.0, "RHEIN\nfließt")
    assert context[m.start : m.end] == m.text


def test_find_answer_exact_nfkc_full_width():
    context = "Die Firma ＡＢＣ hat 1２ Filialen."
    m = find_answer("abc", context, "de")
    assert (m.method, m.start, m.end, m.score, m.text) == ("exact", 10, 13, 100.0, "ＡＢＣ")
    assert context[m.start : m.end] == "ＡＢＣ"
    m = find_answer("ＡＢＣ", "Die Firma abc.", "de")
    assert (m.start, m.end, m.text) == (10, 13, "abc")


def test_find_answer_exact_offsets_when_normalization_changes_length():
    # "ß" casefolds to "ss" and "ﬁ" to "fi": offsets must still point into the original string
    context = "ﬁnale in der Großstadt Straße"
    m = find_answer("STRASSE", context, "de")
    assert (m.method, m.start, m.end, m.text) == ("exact", 23, 29, "Straße")
    assert context[m.start : m.end] == m.text
    m = find_answer("Finale", context, "de")
    assert (m.start, m.end, m.text) == (0, 5, "ﬁnale")


def test_find_answer_exact_strips_answer_edge_punctuation():
    m = find_answer("„Berlin“.", "Er wohnt in Berlin, sagt er.", "de")
    assert m == SpanMatch("exact", 12, 18, 100.0, "Berlin")


def test_find_answer_exact_skips_matches_inside_words():
    context = "Das Rheinland liegt am Rhein."
    m = find_answer("Rhein", context, "de")
    assert m == SpanMatch("exact", 23, 28, 100.0, "Rhein")


def test_find_answer_russian():
    context = "Нормандия — регион на севере Франции."
    m = find_answer("нормандия", context, "ru")
    assert m == SpanMatch("exact", 0, 9, 100.0, "Нормандия")


def test_find_answer_fuzzy_inflected_german_whole_words():
    context = "Die Quelle des Rheins liegt in der Schweiz."
    m = find_answer("der Rhein", context, "de")
    assert m is not None
    assert m.method == "fuzzy"
    assert m.score == pytest.approx(800 / 9)  # "der rhein" vs "des rhein": 16 of 18 characters
    assert (m.start, m.end, m.text) == (11, 21, "des Rheins")  # widened to the whole word
    assert context[m.start : m.end] == m.text


def test_find_answer_fuzzy_miss_below_threshold():
    context = "Die Quelle des Rheins liegt in der Schweiz."
    assert find_answer("der Rhein", context, "de", min_score=90.0) is None
    assert find_answer("Tokio", "Die Hauptstadt ist Paris.", "de") is None


def test_find_answer_chinese_fuzzy_needs_no_word_boundaries():
    context = "他在北京大学读书。"
    m = find_answer("北京大觉", context, "zh", min_score=70.0)
    assert m == SpanMatch("fuzzy", 2, 6, 75.0, "北京大学")
    assert find_answer("北京大觉", context, "zh") is None  # 75 < 80


def test_find_answer_chinese_and_thai_ignore_spaces_and_word_boundaries():
    m = find_answer("北京 大学", "他在北京大学读书。", "zh")
    assert m == SpanMatch("exact", 2, 6, 100.0, "北京大学")
    m = find_answer("กรุงเทพ", "เมืองหลวงคือกรุงเทพมหานคร", "th")
    assert m == SpanMatch("exact", 12, 19, 100.0, "กรุงเทพ")


def test_find_answer_short_answers_are_exact_only():
    assert find_answer("5", "Im Jahr 1950.", "de") is None
    assert find_answer("5", "Es sind 5 Äpfel.", "de") == SpanMatch("exact", 8, 9, 100.0, "5")
    assert find_answer("京", "他在北京。", "zh") == SpanMatch("exact", 3, 4, 100.0, "京")


def test_find_answer_answer_longer_than_context_is_not_fuzzy():
    assert find_answer("die Stadt Berlin in Deutschland", "Berlin", "de") is None


@pytest.mark.parametrize("answer, context", [("", "Berlin"), ("Berlin", ""), ("  ", "Berlin"), (".", "a.")])
def test_find_answer_empty(answer, context):
    assert find_answer(answer, context, "de") is None


def test_find_answer_rejects_bad_language_and_score():
    with pytest.raises(ConfigError):
        find_answer("a", "b", "xx-notalang")
    with pytest.raises(ValueError, match="min_score"):
        find_answer("ab", "ab", "de", min_score=120)


# --- project_answer ----------------------------------------------------------------------------


def test_project_answer_uses_markers():
    clean, m = project_answer("Er wohnt in [ Berlin ] .", "Hauptstadt", "de", BRACKETS)
    assert clean == "Er wohnt in Berlin."
    assert m == SpanMatch("marker", 12, 18, 100.0, "Berlin")


def test_project_answer_falls_back_when_markers_are_lost():
    clean, m = project_answer("Er wohnt in [Berlin und [Berlin].", "berlin", "de", BRACKETS)
    assert clean == "Er wohnt in Berlin und Berlin."
    assert m == SpanMatch("exact", 12, 18, 100.0, "Berlin")
    assert "[" not in clean and "]" not in clean


def test_project_answer_fuzzy_fallback_and_miss():
    clean, m = project_answer("Die Quelle des <<Rheins liegt.", "der Rhein", "de", ("<<", ">>"))
    assert clean == "Die Quelle des Rheins liegt."
    assert (m.method, m.text) == ("fuzzy", "des Rheins")
    assert project_answer("Die Quelle liegt.", "Tokio", "de", BRACKETS) == ("Die Quelle liegt.", None)


def test_project_answer_without_markers_keeps_context():
    clean, m = project_answer("Ein [Zitat] in Paris", "Paris", "de", None)
    assert clean == "Ein [Zitat] in Paris"
    assert m == SpanMatch("exact", 15, 20, 100.0, "Paris")


def test_project_answer_chinese_markers():
    clean, m = project_answer("诺曼人生活在「[诺曼底]」。", "诺曼底", "zh", BRACKETS)
    assert clean == "诺曼人生活在「诺曼底」。"
    assert m == SpanMatch("marker", 7, 10, 100.0, "诺曼底")


def test_span_match_validates():
    with pytest.raises(ValueError, match="method"):
        SpanMatch("guess", 0, 1, 50.0, "a")
    with pytest.raises(ValueError, match="span"):
        SpanMatch("exact", 0, 2, 100.0, "a")
