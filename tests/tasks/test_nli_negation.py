"""Issue 10.3 (NLI): a negated label, an echoed list of labels or a label inside a restated question
must not be taken as the answer, in every supported language."""

from __future__ import annotations

import pytest

from selftt.tasks import NLITask

NEGATED = [
    ("en", "The premise does not entail the hypothesis; it is neutral.", "neutral"),
    ("en", "It is not a contradiction, it is neutral.", "neutral"),
    ("en", "The premise doesn't contradict the hypothesis, so entailment.", "entailment"),
    ("en", "Neither entailment nor contradiction: neutral.", "neutral"),
    ("en", "There is no contradiction here. Entailment.", "entailment"),
    ("en", "The relationship is contradiction, not entailment.", "contradiction"),
    ("en", "Answer: Neutral (the premise neither entails nor contradicts the hypothesis)", "neutral"),
    ("de", "Kein Widerspruch, sondern neutral.", "neutral"),
    ("de", "Das ist nicht neutral, sondern eine Folgerung.", "entailment"),
    ("de", "Die Hypothese widerspricht der Prämisse nicht; sie ist neutral.", "neutral"),
    ("de", "Weder Folgerung noch Widerspruch, also neutral.", "neutral"),
    ("de", "The premise does not entail the hypothesis; it is neutral.", "neutral"),
    ("ru", "Это не противоречие, а следование.", "entailment"),
    ("ru", "Гипотеза не противоречит посылке; нейтрально.", "neutral"),
    ("ru", "Противоречия нет, это следование.", "entailment"),
    ("ru", "Не нейтрально, а противоречие.", "contradiction"),
    ("ru", "Нет противоречия, следование.", "entailment"),
    ("th", "ไม่ขัดแย้ง เป็นกลาง", "neutral"),
    ("th", "ไม่ใช่สอดคล้อง แต่เป็นกลาง", "neutral"),
    ("th", "ไม่มีความขัดแย้ง สอดคล้อง", "entailment"),
    ("th", "It is not neutral, it is a contradiction.", "contradiction"),
    ("zh", "不是蕴含，是矛盾。", "contradiction"),
    ("zh", "前提并不矛盾，应该是中立。", "neutral"),
    ("zh", "没有蕴含关系，是中立。", "neutral"),
    ("zh", "这不是中立，而是蕴含。", "entailment"),
]

LISTED = [
    ("en", "entailment, neutral or contradiction? I think contradiction.", "contradiction"),
    ("en", "Answer with one word: entailment, neutral or contradiction.\nneutral", "neutral"),
    ("en", "Entailment / neutral / contradiction: contradiction", "contradiction"),
    ("en", '"entailment", "neutral", or "contradiction"? Neutral.', "neutral"),
    ("de", "Folgerung, neutral oder Widerspruch? Ich denke Widerspruch.", "contradiction"),
    ("de", "entailment, neutral or contradiction? Widerspruch.", "contradiction"),
    ("ru", "Следование, нейтрально или противоречие? Думаю, противоречие.", "contradiction"),
    ("ru", "Варианты: следование / нейтрально / противоречие. Ответ: нейтрально", "neutral"),
    ("th", "สอดคล้อง, เป็นกลาง หรือ ขัดแย้ง? ขัดแย้ง", "contradiction"),
    ("th", "ตอบด้วยคำเดียว: สอดคล้อง, เป็นกลาง หรือ ขัดแย้ง\nเป็นกลาง", "neutral"),
    ("zh", "蕴含、中立还是矛盾？我认为是矛盾。", "contradiction"),
    ("zh", "请用一个词回答：蕴含、中立或矛盾。\n中立", "neutral"),
]

QUESTIONS = [
    ("en", "Does the premise entail the hypothesis? Contradiction.", "contradiction"),
    ("de", "Folgt eine Folgerung? Nein, Widerspruch.", "contradiction"),
    ("ru", "Это следование? Нет, противоречие.", "contradiction"),
    ("th", "สมมติฐานสอดคล้องกับข้อตั้งหรือไม่ ขัดแย้ง", "contradiction"),
    ("zh", "前提是否蕴含假设？矛盾。", "contradiction"),
]

NOTHING_LEFT = [
    ("en", "entailment, neutral or contradiction?", None),
    ("de", "Nicht neutral.", None),
    ("zh", "不是矛盾。", None),
]


@pytest.mark.parametrize(("lang", "generation", "expected"), NEGATED)
def test_a_negated_label_does_not_win(lang, generation, expected):
    assert NLITask().parse_answer(generation, lang) == expected


@pytest.mark.parametrize(("lang", "generation", "expected"), LISTED)
def test_an_echoed_list_of_labels_does_not_win(lang, generation, expected):
    assert NLITask().parse_answer(generation, lang) == expected


@pytest.mark.parametrize(("lang", "generation", "expected"), QUESTIONS)
def test_a_label_in_a_restated_question_does_not_win(lang, generation, expected):
    assert NLITask().parse_answer(generation, lang) == expected


@pytest.mark.parametrize(("lang", "generation", "expected"), NOTHING_LEFT)
def test_only_negated_or_listed_labels_give_no_answer(lang, generation, expected):
    assert NLITask().parse_answer(generation, lang) == expected
