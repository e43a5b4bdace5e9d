"""Issue 10.3 (math): the final answer is the one the LAST final-answer phrase states, and a number's
format is read from its own shape and the language of the phrase around it.

Each table row is (set language, generation, expected). Every supported language has rows of
every kind; English phrases appear in other sets because code-switched models answer in English.
"""

from __future__ import annotations

import pytest

from selftt.languages.numbers import fold_text, read_number
from selftt.tasks import MathTask

# ----------------------------------------------------------------------------- the last phrase decides

LAST_PHRASE = [
    # an earlier mention of the word "answer" must not win
    ("ru", "Чтобы найти ответ, умножим 3 на 4: 3 * 4 = 12.\nОтвет: 12.", "12"),
    ("ru", "Чтобы найти ответ, умножим 3 на 4: 3 * 4 = 12.", "12"),
    ("ru", "Ответ будет не 3, а 3 + 4 = 7.\nОтвет: 7.", "7"),
    ("zh", "答案是多少？先算 3 + 4 = 7。\n答案是7。", "7"),
    ("zh", "答案是多少？3 + 4 = 7。", "7"),
    ("zh", "答案不是3，而是 3 + 4 = 7。\n答案：7", "7"),
    ("de", "Die Antwort ist nicht 3, sondern 3 + 4 = 7.\nDie Antwort lautet 7.", "7"),
    ("de", "Die Antwort ist nicht 3, sondern 7.", "7"),
    ("de", "Um die Antwort zu finden, rechnen wir 3 * 4 = 12.\nAntwort: 12", "12"),
    ("en", "The answer is not 3. We have 3 + 4 = 7.\nThe answer is 7.", "7"),
    ("en", "Answer: first compute 3 * 4 = 12, then add 1.\nAnswer: 13", "13"),
    ("en", "To find the answer, we add 3 and 4: 3 + 4 = 7.", "7"),
    ("th", "คำตอบคือเท่าไร ก่อนอื่น 3 + 4 = 7\nคำตอบคือ 7", "7"),
    ("th", "คำตอบคือไม่ใช่ 3 แต่ 3 + 4 = 7", "7"),
    # an intermediate "result is" / "in total" must not win
    ("de", "Das Ergebnis ist 3 * 4 = 12. Dann 12 + 1 = 13.\nDie Antwort lautet 13.", "13"),
    ("de", "Das Ergebnis ist 3 * 4 = 12. Dann 12 + 1 = 13.", "13"),
    ("en", "The result is 3 * 4 = 12. Then 12 + 1 = 13.", "13"),
    ("en", "The result is 12 apples. The answer is 3 * 4 + 1 = 13.", "13"),
    ("ru", "Результат: 3 * 4 = 12. Затем 12 + 1 = 13.", "13"),
    ("th", "ผลลัพธ์คือ 3 * 4 = 12 จากนั้น 12 + 1 = 13", "13"),
    ("zh", "结果是3 * 4 = 12，再加1得13。", "13"),
    # the phrase states a computation: its result is the answer
    ("en", "The answer is 3 + 4 = 7.", "7"),
    ("de", "Die Antwort lautet 3 * 4 = 12 Euro.", "12"),
    ("ru", "Ответ: 10 - 3 = 7 яблок.", "7"),
    ("th", "คำตอบคือ 5 + 6 = 11 ลูก", "11"),
    ("zh", "答案是 5 + 6 = 11。", "11"),
    # English phrases in every set (code-switched answers), last one wins
    ("de", "Die Antwort ist 5.\nWait, 5 + 1 = 6. The answer is 6.", "6"),
    ("ru", "Ответ: 5.\nCorrection: 5 + 1 = 6. The answer is 6.", "6"),
    ("th", "คำตอบคือ 5\nCorrection: 5 + 1 = 6. The answer is 6.", "6"),
    ("zh", "答案是5。\nCorrection: 5 + 1 = 6. The answer is 6.", "6"),
    ("en", "Die Antwort lautet 5. Nein: 5 + 1 = 6, Antwort: 6", "6"),
    # a hallucinated next question is not part of the answer
    ("de", "Die Antwort lautet 18.\n\nFrage: Tom hat 25 Äpfel.\nAntwort: 22", "18"),
    ("ru", "Ответ: 18.\n\nВопрос: У Тома 25 яблок.\nОтвет: 22", "18"),
    ("th", "คำตอบคือ 18\nคำถาม: ทอมมีแอปเปิ้ล 25 ลูก\nคำตอบคือ 22", "18"),
    ("zh", "答案是18。\n问题：汤姆有25个苹果。\n答案是22。", "18"),
    # LaTeX answers
    ("en", "So $3 + 4 = 7$ and the result is \\boxed{7}.", "7"),
]


@pytest.mark.parametrize(("lang", "generation", "expected"), LAST_PHRASE)
def test_the_last_final_answer_phrase_decides(lang, generation, expected):
    assert MathTask().parse_answer(generation, lang) == expected


# ----------------------------------------------------------------------------- number formats

NUMBER_FORMATS = [
    # English-format numbers inside German/Russian sets (code-switched answers)
    ("de", "The answer is 1,500.", "1500"),
    ("ru", "The answer is 1,500.", "1500"),
    ("de", "The answer is 2,500 dollars.", "2500"),
    ("de", "The answer is 1.5", "1.5"),
    ("ru", "The answer is 1,500.25", "1500.25"),
    # the set's own phrase keeps its own convention for the ambiguous shape
    ("de", "Die Antwort lautet 1,500.", "1.5"),
    ("de", "Die Antwort lautet 1.500.", "1500"),
    ("ru", "Ответ: 1,500.", "1.5"),
    ("ru", "Ответ: 1 500.", "1500"),
    # German/Russian phrases inside English, Thai and Chinese sets
    ("en", "Die Antwort lautet 1.500.", "1500"),
    ("en", "Ответ: 1 500 рублей.", "1500"),
    ("zh", "Die Antwort lautet 1.500.", "1500"),
    ("th", "Ответ: 2 000", "2000"),
    ("th", "คำตอบคือ 1,500.50 บาท", "1500.5"),
    ("zh", "答案是1,500。", "1500"),
    # unambiguous shapes whatever the language
    ("de", "Die Antwort lautet 1,500.25", "1500.25"),
    ("en", "The answer is 1.500,25", "1500.25"),
    ("ru", "Ответ: 1,500.25", "1500.25"),
    ("th", "The answer is 1.234.567", "1234567"),
    ("zh", "答案是 1.234.567,5", "1234567.5"),
    ("en", "The answer is 0,500", "0.5"),
    ("de", "Die Antwort lautet 0.500", "0.5"),
    ("en", "The answer is 1234,567", "1234.567"),
    ("ru", "Ответ: 12,5", "12.5"),
    ("zh", "答案是 12.5", "12.5"),
    ("th", "คำตอบคือ 2,50", "2.5"),
    ("en", "The answer is 1\u202f500.", "1500"),
    ("de", "Die Antwort lautet 1\u00a0500.", "1500"),
    # no phrase: the language of the sentence around the number decides
    ("de", "She paid 3 * 500 = 1,500 dollars.", "1500"),
    ("ru", "In total they have 1,500 apples.", "1500"),
    ("en", "Insgesamt hat sie 1.500 Äpfel.", "1500"),
    ("en", "Всего 1 500 яблок.", "1500"),
]


@pytest.mark.parametrize(("lang", "generation", "expected"), NUMBER_FORMATS)
def test_number_format_from_shape_and_phrase_language(lang, generation, expected):
    assert MathTask().parse_answer(generation, lang) == expected


# ----------------------------------------------------------------------------- Unicode

UNICODE = [
    ("en", "The room is 4 m by 3 m, so its area is 12 m².", "12"),
    ("en", "She eats ½ of the 8 slices, so 4 are left. That is 4 + 0 = 4 pieces.", "4"),
    ("en", "He drinks 3 cups, then ½ more.", "3"),
    ("de", "Der Würfel hat ein Volumen von 27 cm³.", "27"),
    ("de", "Die Antwort lautet 12 m².", "12"),
    ("ru", "Площадь комнаты 12 м².", "12"),
    ("ru", "Ответ: 12 м², то есть ¼ участка.", "12"),
    ("th", "พื้นที่ห้องคือ 12 ม²", "12"),
    ("th", "คำตอบคือ ๑๒ ตารางเมตร (ม²)", "12"),
    ("zh", "房间的面积是12米²。", "12"),
    ("zh", "答案是１２。还剩½个。", "12"),
]


@pytest.mark.parametrize(("lang", "generation", "expected"), UNICODE)
def test_unicode_normalization_keeps_superscripts_and_fractions(lang, generation, expected):
    assert MathTask().parse_answer(generation, lang) == expected


def test_fold_text_maps_digits_but_not_superscripts_or_fractions():
    assert fold_text("１２３ ๗๒ ٣ 𝟒") == "123 72 3 4"
    assert fold_text("m² ½ ¼ ①") == "m² ½ ¼ ①"
    assert fold_text("答案：−３") == "答案:-3"
    text = "答案：１２ m², ๗๒"
    assert len(fold_text(text)) == len(text)  # character for character
    assert MathTask().parse_answer("ค\u0e4d\u0e32ตอบคือ 18 ส่วนคำถามถัดไปมี 25 ข้อ", "th") == "18"  # NFKC'd Thai


@pytest.mark.parametrize(
    ("token", "lang", "expected"),
    [("1,500", "en", "1500"), ("1,500", "de", "1.5"), ("1.500", "de", "1500"), ("1.500", "en", "1.5"),
     ("1,500", "ru", "1.5"), ("1.500", "ru", "1.5"), ("1,500", "zh", "1500"), ("1,500", "th", "1500"),
     ("1,500.25", "de", "1500.25"), ("1.500,25", "en", "1500.25"), ("1 500", "ru", "1500"),
     ("0,500", "en", "0.5"), ("12345,678", "en", "12345.678"), ("1,5", "en", "1.5"),
     ("1,234,567", "de", "1234567"), ("1.234.567", "en", "1234567"), ("1,23,456", "en", None),
     ("12.05.2023", "de", None), ("1'500", "de", "1500"), ("007", "en", "7")],
)  # fmt: skip
def test_read_number_rule(token, lang, expected):
    assert read_number(token, lang) == expected


def test_translation_number_filter_does_not_read_superscripts_or_fractions():
    from selftt.languages.numbers import source_numbers, translation_numbers

    assert source_numbers("The room is 12 m² and ½ of it is free.") == {"12"}
    assert "12" in translation_numbers("Das Zimmer hat 12 Quadratmeter, die Hälfte ist frei.")
    assert source_numbers("She pays １２ dollars.") == {"12"}
