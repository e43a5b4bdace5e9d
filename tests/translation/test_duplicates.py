"""Tests for duplicate translations of different sources and the normalization they compare."""

from __future__ import annotations

import pytest

from selftt.translation.duplicates import duplicate_translations, normalized


def test_normalized_ignores_case_punctuation_spacing_and_width():
    assert normalized("  Hallo,   WELT!! ") == "hallo welt"
    assert normalized("ＡＢＣ．") == "abc"
    assert normalized("Straße") == normalized("STRASSE")
    assert normalized("...") == ""
    assert normalized("5 + 3 = 8") == "5 3 8"  # symbols count as spaces, like punctuation


def test_a_shared_source_translated_identically_is_not_a_duplicate():
    sources = ["Paris is the capital.", "Paris is the capital.", "Berlin is big."]
    translations = ["Paris ist die Hauptstadt.", "Paris ist die Hauptstadt.", "Berlin ist groß."]
    assert duplicate_translations(sources, translations) == set()


def test_different_sources_with_the_same_translation_are_all_flagged():
    sources = ["Paris is the capital.", "Rome is old.", "Berlin is big.", "Paris is the capital."]
    translations = ["Paris ist die Hauptstadt.", "Paris ist die Hauptstadt.", "Berlin ist groß.", "x"]
    assert duplicate_translations(sources, translations) == {0, 1}


def test_duplicates_ignore_case_punctuation_and_spacing():
    sources = ["one", "TWO", "three", "Two."]
    translations = ["Hallo, Welt!", "hallo   welt", "HALLO WELT.", "hallo welt"]
    # "TWO" and "Two." are the same source; all three sources share one translation
    assert duplicate_translations(sources, translations) == {0, 1, 2, 3}
    assert duplicate_translations(["a", "b"], ["Hallo Welt", "Hallo Welt!"]) == {0, 1}
    assert duplicate_translations(["a", "b"], ["Hallo Welt", "Hallo Welten"]) == set()


def test_empty_translations_are_ignored():
    assert duplicate_translations(["a", "b", "c", "d"], ["", "", "  ", "?!"]) == set()
    assert duplicate_translations([], []) == set()


def test_duplicates_need_aligned_sequences():
    with pytest.raises(ValueError, match="2 sources but 1 translations"):
        duplicate_translations(["a", "b"], ["x"])
