"""Cut-off translations and prompt text never become training data (issue 10, point 4): each kind
is its own filter rule with its own count."""

from __future__ import annotations

import pytest

from selftt.tasks import get_task
from selftt.translation.filters import FilterSettings, check_text, count_reasons, filter_example
from selftt.translation.output_checks import language_labels, lost_question

S = FilterSettings()
LABELS = {lang: language_labels("en", lang, ("English", name)) for lang, name in
          {"de": "German", "ru": "Russian", "th": "Thai", "zh": "Chinese"}.items()}


def test_labels_name_both_languages_in_english_and_in_each_language():
    assert {"English", "German", "Deutsch", "Englisch"} <= set(LABELS["de"])
    assert {"Russian", "русский"} <= set(LABELS["ru"]) and {"Chinese", "中文"} <= set(LABELS["zh"])


@pytest.mark.parametrize(
    "lang, source, translation",
    [
        ("de", "The dog barks loudly at night.", "German: Der Hund bellt nachts laut."),
        ("de", "The dog barks loudly at night.", "Deutsch: Der Hund bellt nachts laut."),
        ("de", "The dog barks loudly at night.", "Der Hund bellt nachts laut. English: The cat sleeps."),
        ("ru", "The dog barks loudly at night.", "Русский: Собака громко лает ночью."),
        ("zh", "The dog barks loudly at night.", "中文：狗在夜里大声叫。"),
        ("zh", "The dog barks loudly at night.", "狗在夜里大声叫。 English: The cat sleeps."),
        ("th", "The dog barks loudly at night.", "สุนัขเห่าเสียงดังตอนกลางคืน English: The cat sleeps."),
    ],
)
def test_prompt_labels_in_the_output_are_scaffolding(lang, source, translation):
    assert "scaffolding" in check_text(source, translation, lang, S, labels=LABELS[lang])


@pytest.mark.parametrize("lang", ["de", "ru", "th", "zh"])
def test_a_label_the_source_holds_too_is_not_scaffolding(lang):
    source = "English: the language of this sentence."
    translation = {"de": "English: die Sprache dieses Satzes.", "ru": "English: язык этого предложения.",
                   "th": "English: ภาษาของประโยคนี้", "zh": "English: 这句话的语言。"}[lang]
    assert "scaffolding" not in check_text(source, translation, lang, S, labels=LABELS[lang])


@pytest.mark.parametrize("lang", ["de", "ru", "th", "zh"])
def test_a_line_ended_by_its_token_budget_is_truncated(lang):
    source = "The river flows through the old town and then into the sea near the harbour."
    cut = {"de": "Der Fluss fließt durch die Altstadt und dann in", "ru": "Река течёт через старый город и затем в",
           "th": "แม่น้ำไหลผ่านเมืองเก่าแล้วไหลลงสู่", "zh": "河流穿过老城，然后流入"}[lang]
    assert "truncated" in check_text(source, cut, lang, S, finish=["length"])
    assert "truncated" not in check_text(source, cut, lang, S, finish=["stop"])
    assert "truncated" not in check_text(source, cut, lang, S, finish=None)  # unknown (older caches)


@pytest.mark.parametrize("lang", ["de", "ru", "zh"])
def test_a_question_without_its_question_is_lost(lang):
    source = "Natalia sold clips to 48 of her friends. How many clips did she sell?"
    dropped = {"de": "Natalia verkaufte Klammern an 48 ihrer Freunde.", "ru": "Наталья продала заколки 48 друзьям.",
               "zh": "娜塔莉亚把发夹卖给了48个朋友。"}[lang]
    kept = {"de": "Natalia verkaufte Klammern an 48 Freunde. Wie viele verkaufte sie?",
            "ru": "Наталья продала заколки 48 друзьям. Сколько она продала?", "zh": "娜塔莉亚卖给48个朋友发夹。她卖了多少？"}[lang]
    assert "lost_question" in check_text(source, dropped, lang, S)
    assert "lost_question" not in check_text(source, kept, lang, S)


def test_thai_questions_without_a_question_mark_are_not_lost():
    assert "lost_question" not in check_text("How many clips did she sell?", "เธอขายกิ๊บไปกี่อัน", "th", S)


@pytest.mark.parametrize("lang", ["de", "ru", "th", "zh"])
def test_an_empty_reasoning_line_for_a_non_empty_source_line(lang):
    source = "She sold 48 clips in April.\nIn May she sold 48 / 2 = 24 clips.\nIn total 48 + 24 = 72."
    line = {"de": "Im April verkaufte sie 48.", "ru": "В апреле она продала 48.", "th": "ในเดือนเมษายนเธอขายได้ 48",
            "zh": "她四月卖了48个。"}[lang]
    assert "empty_line" in check_text(source, f"{line}\n\nInsgesamt 48 + 24 = 72.", lang, S)
    assert "empty_line" in check_text(source, f"{line}\n48 / 2 = 24", lang, S)  # the last line is missing


def test_each_rule_counts_on_its_own_and_can_be_switched_off():
    task = get_task("math")
    source = {"id": "a", "question": "How many clips did she sell?", "answer": "She sold 2.\n#### 2", "final": "2"}
    translated = {**source, "question": "German: Sie verkaufte"}
    reasons = filter_example(task, source, translated, "de", S, ("question",), finish={"question": ["length"]},
                             labels=LABELS["de"])
    assert {r.split(":")[1] for r in reasons} >= {"truncated", "lost_question", "scaffolding"}
    counts = count_reasons([reasons])
    assert counts["truncated"] == counts["lost_question"] == counts["scaffolding"] == 1 and counts["kept"] == 0
    off = FilterSettings(truncated=False, lost_question=False, scaffolding=False, length_ratio=False)
    assert filter_example(task, source, translated, "de", off, ("question",), finish={"question": ["length"]},
                          labels=LABELS["de"]) == []


def test_question_mark_optional_follows_the_script():
    source = "How many clips did she sell?"
    assert lost_question(source, "ເຈົ້າຂາຍໄດ້ຈັກອັນ", "lo") is False  # Lao: a particle asks
    assert lost_question(source, "Aliuza klipu ngapi.", "sw") is True
    assert lost_question(source, "उसने कितनी क्लिप बेचीं।", "hi") is True
