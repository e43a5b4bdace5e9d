"""Tests for cutting fields into pieces (sentences, lines, whole field) and joining them again."""

from __future__ import annotations

import pytest

from selftt.translation.segments import SEGMENTS, join_pieces, merge_around, segment_text


def texts(text: str, lines: list[list[tuple[int, int]]]) -> list[list[str]]:
    return [[text[s:e] for s, e in line] for line in lines]


def test_segments_constant():
    assert SEGMENTS == ("sentence", "line", "none")


def test_sentence_offsets_are_stripped_spans():
    text = "  It costs $3.5 million. It is old!  Really?  "
    lines = segment_text(text, "en", "sentence")
    assert lines == [[(2, 24), (25, 35), (37, 44)]]
    assert texts(text, lines) == [["It costs $3.5 million.", "It is old!", "Really?"]]
    for s, e in lines[0]:
        assert text[s:e] == text[s:e].strip()


def test_sentence_abbreviations_not_split():
    text = "Washington, D.C. is big. It is old."
    assert texts(text, segment_text(text, "en", "sentence")) == [["Washington, D.C. is big.", "It is old."]]


def test_multi_line_with_blank_lines_kept():
    text = "First line. Second sentence.\n\n   \nThird line\n  Fourth.  Fifth!"
    lines = segment_text(text, "en", "sentence")
    assert len(lines) == len(text.split("\n")) == 5
    assert lines[1] == [] and lines[2] == []
    assert texts(text, lines) == [
        ["First line.", "Second sentence."],
        [],
        [],
        ["Third line"],
        ["Fourth.", "Fifth!"],
    ]
    # offsets are into the whole text, not the line
    assert lines[3] == [(34, 44)]
    assert lines[4] == [(47, 54), (56, 62)]


def test_line_segment():
    text = " a. b. \n\nc d.\n"
    lines = segment_text(text, "en", "line")
    assert lines == [[(1, 6)], [], [(9, 13)], []]
    assert texts(text, lines) == [["a. b."], [], ["c d."], []]


def test_none_segment():
    text = "  One. Two.\nMore.\n\nThree.  "
    # a run of non-blank lines is one piece; a blank line (a prompt cannot hold one) stays an empty entry
    assert segment_text(text, "en", "none") == [[(2, 17)], [], [(19, 25)]]
    assert text[2:17] == "One. Two.\nMore." and text[19:25] == "Three."
    assert segment_text(" \n ", "en", "none") == [[], []]  # one empty entry per blank line, as for "line"
    assert segment_text("", "en", "none") == [[]]


def test_empty_and_blank_text():
    assert segment_text("", "en", "sentence") == [[]]
    assert segment_text("   ", "en", "line") == [[]]
    assert segment_text("\n", "en", "sentence") == [[], []]


def test_chinese_sentences():
    text = "北京是中国的首都。它很大！上海呢？"
    lines = segment_text(text, "zh", "sentence")
    assert texts(text, lines) == [["北京是中国的首都。", "它很大！", "上海呢？"]]


def test_unknown_segment():
    with pytest.raises(ValueError, match="segment must be one of"):
        segment_text("a", "en", "paragraph")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        segment_text("a", "en", "")  # type: ignore[arg-type]


def test_merge_around_answer_split_by_splitter():
    # sentencex cuts "See ch. 5. It is good." after "ch."; the answer "ch. 5" spans both pieces
    text = "See ch. 5. It is good."
    lines = segment_text(text, "en", "sentence")
    assert texts(text, lines) == [["See ch.", "5.", "It is good."]]
    start = text.index("ch. 5")
    assert merge_around(lines, start, start + len("ch. 5")) == (0, 0)
    assert texts(text, lines) == [["See ch. 5.", "It is good."]]


def test_merge_around_three_pieces():
    text = "The film Help! was released in 1965. It was good."
    lines = segment_text(text, "en", "sentence")
    assert texts(text, lines) == [["The film Help!", "was released in 1965.", "It was good."]]
    start = text.index("Help!")
    end = text.index("good") + 4
    assert merge_around(lines, start, end) == (0, 0)
    assert lines == [[(0, len(text))]]


def test_merge_around_inside_one_piece_is_unchanged():
    text = "Line zero.\nWashington, D.C. is big. It is old."
    lines = segment_text(text, "en", "sentence")
    before = [list(line) for line in lines]
    start = text.index("old")
    assert merge_around(lines, start, start + 3) == (1, 1)
    assert lines == before


def test_merge_around_second_line():
    text = "Intro.\n\nSee ch. 5. It is good."
    lines = segment_text(text, "en", "sentence")
    start = text.index("ch. 5")
    assert merge_around(lines, start, start + 5) == (2, 0)
    assert texts(text, lines) == [["Intro."], [], ["See ch. 5.", "It is good."]]


def test_merge_around_crossing_line_break_is_none():
    text = "Berlin is big.\nIt is old."
    lines = segment_text(text, "en", "sentence")
    before = [list(line) for line in lines]
    start = text.index("big")
    assert merge_around(lines, start, text.index("old")) is None
    assert lines == before  # nothing merged


def test_merge_around_blank_or_outside_is_none():
    text = "A b.  \n\nC d."
    lines = segment_text(text, "en", "sentence")
    assert merge_around(lines, 4, 6) is None  # trailing whitespace of the first line
    assert merge_around(lines, 7, 8) is None  # the blank line
    assert merge_around(lines, 50, 60) is None


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("de", "Eins. Zwei.\n\nDrei."),
        ("en", "Eins. Zwei.\n\nDrei."),
        ("th", "Eins. Zwei.\n\nDrei."),
        ("zh", "Eins.Zwei.\n\nDrei."),
        ("ja", "Eins.Zwei.\n\nDrei."),
    ],
)
def test_join_pieces_separators(lang, expected):
    assert join_pieces([["Eins.", "Zwei."], [], ["Drei."]], lang) == expected


def test_join_pieces_skips_empty_pieces():
    assert join_pieces([["a", "", "b"], [""]], "de") == "a b\n"
    assert join_pieces([], "de") == ""


@pytest.mark.parametrize(
    "text",
    [
        "Washington, D.C. is big. It is old.",
        "  Line one.   Two!\n\n\tThree? Four.  \n   \nSee ch. 5. It is good.",
        "No punctuation at all\nsecond",
        "It costs $3.5 million. It is old!  Really?",
    ],
)
@pytest.mark.parametrize("segment", ["sentence", "line"])
def test_round_trip_english(text, segment):
    lines = segment_text(text, "en", segment)
    joined = join_pieces(texts(text, lines), "en")
    if segment == "sentence":  # sentences are joined by one space
        expected = "\n".join(" ".join(line.split()) for line in text.split("\n"))
    else:  # whole lines keep their inner spacing
        expected = "\n".join(line.strip() for line in text.split("\n"))
    assert joined == expected


def test_round_trip_none():
    text = "  One. Two.\n\nThree.  "
    assert join_pieces(texts(text, segment_text(text, "en", "none")), "en") == text.strip()


def test_round_trip_chinese_is_exact():
    text = "北京是中国的首都。它很大！\n\n上海呢？"
    assert join_pieces(texts(text, segment_text(text, "zh", "sentence")), "zh") == text
