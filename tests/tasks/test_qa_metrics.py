"""Metrics: hand-computed values per task and language, and agreement with SQuAD v1.1 on English."""

from __future__ import annotations

import pytest
from torchmetrics.functional.text import squad

from selftt.errors import ConfigError
from selftt.tasks import TASKS, get_task
from selftt.tasks.qa_metrics import (
    answer_tokens,
    normalize_answer,
    qa_exact_match,
    qa_f1,
)


def score(task: str, predictions, golds, lang: str) -> dict[str, float]:
    """The registered task's ``score`` (scoring lives with each task)."""
    return get_task(task).score(predictions, golds, lang)


def f1_by_hand(common: int, n_pred: int, n_gold: int) -> float:
    """2PR/(P+R) with P = common/n_pred, R = common/n_gold."""
    p, r = common / n_pred, common / n_gold
    return 2 * p * r / (p + r)


# ----------------------------------------------------------------------------- normalization


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("The  Denver Broncos!", "en", "denver broncos"),
        ("an apple, a day", "en", "apple day"),
        ("U.S. $5", "en", "us 5"),
        ("“Quoted”", "en", "“quoted”"),  # SQuAD v1.1 removes ASCII punctuation only
        ("Der Rhein", "de", "rhein"),
        ("Dieter der Große, ein Kaiser", "de", "dieter große kaiser"),
        ("„Das Kapital“", "de", "kapital"),
        ("the Rhine", "de", "the rhine"),  # English articles stay in German
        ("«Война и мир».", "ru", "война и мир"),
        ("The Beatles", "ru", "the beatles"),
        ("「北京」，中国。", "zh", "北京中国"),
        ("กรุงเทพฯ!", "th", "กรุงเทพฯ"),  # ฯ is a letter (Lo), not punctuation
        ("  \n ", "en", ""),
    ],
)
def test_normalize_answer(text, lang, expected):
    assert normalize_answer(text, lang) == expected


def test_answer_tokens_per_language():
    assert answer_tokens("denver broncos", "en") == ["denver", "broncos"]
    assert answer_tokens("лев толстой", "ru") == ["лев", "толстой"]
    assert answer_tokens("北京2008年olympics games", "zh") == ["北", "京", "2008", "年", "olympics", "games"]
    assert answer_tokens("北京，中国", "zh") == ["北", "京", "，", "中", "国"]  # raw punctuation: a token
    assert answer_tokens("ลำปาง นคร", "th") == ["ล", "ำ", "ป", "า", "ง", "น", "ค", "ร"]
    assert answer_tokens("", "zh") == [] and answer_tokens("", "th") == []


# ----------------------------------------------------------------------------- QA per language


@pytest.mark.parametrize(
    ("prediction", "golds", "lang", "em", "f1"),
    [
        # zh: mixed segmentation, one token per character
        ("北京大学", ["北京"], "zh", 0.0, f1_by_hand(2, 4, 2)),
        ("北京 大学", ["北京大学"], "zh", 1.0, 1.0),
        ("「北京」。", ["北京"], "zh", 1.0, 1.0),
        ("2008年北京Olympics", ["2008年"], "zh", 0.0, f1_by_hand(2, 5, 2)),
        ("上海", ["北京"], "zh", 0.0, 0.0),
        # th: characters
        ("กรุงเทพมหานคร", ["กรุงเทพ"], "th", 0.0, f1_by_hand(7, 13, 7)),
        ("กรุงเทพ มหานคร", ["กรุงเทพมหานคร"], "th", 1.0, 1.0),
        ("เชียงใหม่", ["เชียงราย"], "th", 0.0, f1_by_hand(5, 9, 8)),
        ("ลำปาง", ["ขอนแก่น"], "th", 0.0, 0.0),
        # de: articles removed
        ("der Rhein", ["Rhein"], "de", 1.0, 1.0),
        ("Das Brandenburger Tor", ["Brandenburger Tor"], "de", 1.0, 1.0),
        ("in einem Jahr", ["Jahr"], "de", 0.0, f1_by_hand(1, 2, 1)),
        ("Diese Stadt", ["Stadt"], "de", 0.0, f1_by_hand(1, 2, 1)),
        # ru: no articles, Unicode punctuation
        ("«Война и мир».", ["Война и мир"], "ru", 1.0, 1.0),
        ("Лев Николаевич Толстой", ["Толстой"], "ru", 0.0, f1_by_hand(1, 3, 1)),
        ("в Москве", ["Москве"], "ru", 0.0, f1_by_hand(1, 2, 1)),
        # en: punctuation and articles
        ("U.S. Army", ["US Army"], "en", 1.0, 1.0),
        ("the Rhine.", ["Rhine"], "en", 1.0, 1.0),
        ("in the Rhine valley", ["Rhine"], "en", 0.0, f1_by_hand(1, 3, 1)),
        ("cat cat dog", ["cat dog dog"], "en", 0.0, f1_by_hand(2, 3, 3)),
        # multiple golds: the best one counts
        ("Denver Broncos", ["Broncos", "Denver Broncos", "the Broncos"], "en", 1.0, 1.0),
        ("Broncos", ["Denver Broncos", "Carolina Panthers"], "en", 0.0, f1_by_hand(1, 1, 2)),
        ("北京大学", ["北京", "北京大学"], "zh", 1.0, 1.0),
        # empty prediction
        ("", ["Berlin"], "en", 0.0, 0.0),
        ("", ["北京"], "zh", 0.0, 0.0),
        ("。", ["กรุงเทพ"], "th", 0.0, 0.0),
    ],
)
def test_qa_em_and_f1_by_hand(prediction, golds, lang, em, f1):
    assert qa_exact_match(prediction, golds, lang) == em
    assert qa_f1(prediction, golds, lang) == pytest.approx(f1)


def test_qa_hand_values_in_numbers():
    assert qa_f1("北京大学", ["北京"], "zh") == pytest.approx(0.6667, abs=1e-4)
    assert qa_f1("กรุงเทพมหานคร", ["กรุงเทพ"], "th") == pytest.approx(0.7)
    assert qa_f1("เชียงใหม่", ["เชียงราย"], "th") == pytest.approx(10 / 17)


def test_qa_answers_that_normalize_to_nothing_follow_squad_v1():
    # SQuAD v1.1 (and MLQA): equal empty strings match exactly, but no common token means F1 0.
    assert qa_exact_match("a", ["the"], "en") == 1.0
    assert qa_f1("a", ["the"], "en") == 0.0


def test_qa_needs_a_gold_answer():
    with pytest.raises(ValueError, match="no gold"):
        qa_f1("x", [], "en")


ENGLISH = [
    ("Denver Broncos", ["Denver Broncos", "Broncos"]),
    ("the Denver Broncos.", ["Denver Broncos"]),
    ("Broncos", ["Denver Broncos", "Carolina Panthers"]),
    ("in the Rhine valley", ["Rhine"]),
    ("", ["Santa Clara, California"]),
    ("Santa Clara, California", ["Levi's Stadium", "Santa Clara"]),
    ("U.S. Army", ["the US Army"]),
    ("$1.5 million", ["1.5 million dollars"]),
    ("An apple a day", ["apple"]),
    ("“Golden anniversary”", ["golden anniversary"]),
    ("1914–1918", ["1914 – 1918"]),
    ("THE the a", ["the end"]),
    ("Beyoncé Knowles-Carter", ["Beyoncé", "Knowles"]),
    ("cat cat dog", ["cat dog dog"]),
    ("the (Super Bowl) 50!", ["Super Bowl 50", "Super Bowl"]),
]


def _torchmetrics_squad(pairs):
    preds = [{"prediction_text": p, "id": str(i)} for i, (p, _) in enumerate(pairs)]
    targets = [
        {"answers": {"text": golds, "answer_start": [0] * len(golds)}, "id": str(i)}
        for i, (_, golds) in enumerate(pairs)
    ]
    return {k: float(v) for k, v in squad(preds, targets).items()}


@pytest.mark.parametrize(("prediction", "golds"), ENGLISH)
def test_english_matches_squad_v1_per_example(prediction, golds):
    expected = _torchmetrics_squad([(prediction, golds)])
    assert 100 * qa_exact_match(prediction, golds, "en") == pytest.approx(expected["exact_match"])
    assert 100 * qa_f1(prediction, golds, "en") == pytest.approx(expected["f1"], abs=1e-4)


def test_english_matches_squad_v1_corpus():
    expected = _torchmetrics_squad(ENGLISH)
    got = score("qa", [p for p, _ in ENGLISH], [g for _, g in ENGLISH], "en")
    assert got["exact_match"] == pytest.approx(expected["exact_match"], abs=1e-4)
    assert got["f1"] == pytest.approx(expected["f1"], abs=1e-4)
    assert 0 < got["f1"] < 100


# ----------------------------------------------------------------------------- score()


def test_score_qa():
    got = score("qa", ["北京大学", "上海", None], [["北京"], ["上海", "上海市"], ["广州"]], "zh")
    assert got == pytest.approx({"exact_match": 100 / 3, "f1": 100 * (2 / 3 + 1 + 0) / 3})
    assert score("qa", ["Berlin"], ["Berlin"], "de") == {"exact_match": 100.0, "f1": 100.0}


def test_score_math():
    preds = ["18", None, "3", "-5", "0.5"]
    golds = ["18.0", "5", "4", "-5", "0.50"]
    assert score("math", preds, golds, "en") == pytest.approx({"accuracy": 60.0, "unparsed": 20.0})
    assert score("math", ["1234"], ["1,234"], "de") == {"accuracy": 100.0, "unparsed": 0.0}
    assert score("math", [None, None], ["1", "2"], "zh") == {"accuracy": 0.0, "unparsed": 100.0}
    assert score("math", ["18.000"], ["18"], "th")["accuracy"] == 100.0
    assert score("math", ["-18"], ["18"], "ru")["accuracy"] == 0.0


def test_score_nli():
    preds = ["entailment", "neutral", None, "contradiction", "banana", "neutral"]
    golds = ["entailment", "contradiction", "neutral", "contradiction", "entailment", 1]
    assert score("nli", preds, golds, "de") == pytest.approx({"accuracy": 50.0, "unparsed": 100 / 3})
    assert score("nli", [None, None], ["neutral", "entailment"], "th") == {"accuracy": 0.0, "unparsed": 100.0}
    assert score("nli", ["neutral"] * 3, ["neutral"] * 3, "zh") == {"accuracy": 100.0, "unparsed": 0.0}


def test_score_rejects_bad_input():
    with pytest.raises(ConfigError, match="unknown task"):
        score("summarization", ["a"], ["a"], "en")
    with pytest.raises(ValueError, match="2 predictions but 1"):
        score("math", ["1", "2"], ["1"], "en")
    with pytest.raises(ValueError, match="no examples"):
        score("nli", [], [], "en")
    with pytest.raises(ValueError, match="not a number"):
        score("math", ["1"], ["one"], "en")
    with pytest.raises(ValueError, match="not one of"):
        score("nli", ["neutral"], ["maybe"], "en")


def test_primary_metric_is_returned():
    examples = {"math": (["1"], ["1"]), "qa": (["Berlin"], [["Berlin"]]), "nli": (["neutral"], ["neutral"])}
    for task, (preds, golds) in examples.items():
        assert score(task, preds, golds, "en")[TASKS[task].primary_metric] == 100.0
    assert {name: cls.primary_metric for name, cls in TASKS.items()} == {"math": "accuracy", "qa": "f1", "nli": "accuracy"}


def test_is_correct_uses_the_per_example_metric():
    assert get_task("qa").is_correct("Berlin", ["Berlin"], "en")
    assert not get_task("qa").is_correct("Berlin Mitte", ["Berlin"], "en")  # partial F1, no exact match
    assert get_task("math").is_correct("18", "18.0", "en")
    assert not get_task("nli").is_correct(None, "neutral", "en")


# ----------------------------------------------------------------------------- any language, by script


def test_japanese_is_tokenized_by_characters():
    assert answer_tokens(normalize_answer("東京タワー", "ja"), "ja") == ["東", "京", "タ", "ワ", "ー"]
    assert answer_tokens(normalize_answer("「東京」2020年", "ja"), "ja") == ["東", "京", "2020", "年"]
    assert qa_exact_match("東京 タワー", ["東京タワー"], "ja") == 1.0
    assert qa_f1("東京", ["東京タワー"], "ja") == pytest.approx(f1_by_hand(2, 2, 5))


def test_lao_and_traditional_chinese_follow_their_scripts():
    assert answer_tokens("ສະບາຍ ດີ", "lo") == list("ສະບາຍດີ")
    assert answer_tokens("臺北101", "zh-Hant") == ["臺", "北", "101"]


def test_spaced_languages_use_words_and_mlqa_articles():
    assert normalize_answer("Mji wa Nairobi.", "sw") == "mji wa nairobi"
    assert qa_f1("mji wa Nairobi", ["Nairobi"], "sw") == pytest.approx(f1_by_hand(1, 3, 1))
    assert normalize_answer("La ciudad", "es") == "ciudad"
    assert normalize_answer("Der Rhein", "de-CH") == "rhein"  # rules by language subtag
    assert normalize_answer("The Rhine", "sw") == "the rhine"  # no articles removed elsewhere
    with pytest.raises(ConfigError):
        qa_f1("a", ["a"], "xx-notalang")
