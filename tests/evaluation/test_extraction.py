"""Answer extraction from realistic model generations, per task and language (``Task.parse_answer``)."""

from __future__ import annotations

import pytest

from selftt.tasks import MathTask, NLITask, QATask, get_task

# ----------------------------------------------------------------------------- math

MATH = {
    "en": [
        ("Janet has 16 - 3 - 4 = 9 eggs left. She sells them for 9 * 2 = $18.\nThe answer is 18.", "18"),
        ("The answer is 1,234.", "1234"),
        ("The answer is 18.\n\nQuestion: Tom has 25 apples and eats 3. How many are left?\nAnswer: 22", "18"),
        ("Each ticket costs $4.50, so 4 tickets cost $18.00.\nThe answer is $18.00.", "18"),
        ("It is 3 - 8 = -5 degrees at night. The answer is -5.", "-5"),
        ("He reads 0.5 hours per page.\nThe answer is 0.5", "0.5"),
        ("The answer is:\n\n42\n\nQuestion: A farmer has 7 cows.", "42"),
        ("Therefore, the final answer is **1,000,000**.", "1000000"),
        ("She bought 3 packs of 12 pens: 3 * 12 = 36 pens.", "36"),
        ("He saves 20% of 50 dollars.\nThe answer is 10", "10"),
        ("48/2 = 24\n#### 72", "72"),
        ("The answer is twelve.", None),
        ("I cannot solve this problem.", None),
        ("", None),
    ],
    "de": [
        ("Die Antwort lautet 1.234.", "1234"),
        ("Sie braucht 0,5 Liter pro Tag.\nDie Antwort lautet 0,5.", "0.5"),
        ("Er hat 12 + 8 = 20 Murmeln.\nDie Antwort lautet 20.\n\nFrage: Tom hat 25 Äpfel.", "20"),
        ("Ein Eis kostet 2,50 €.\nDie Antwort lautet 2,50 €.", "2.5"),
        ("Die Temperatur sinkt auf -7 Grad. Die Antwort lautet -7.", "-7"),
        ("Die Antwort ist 20 Euro.", "20"),
        ("Die Antwort lautet 1.234.567 Euro.", "1234567"),
        ("Die Antwort lautet: 3.5", "3.5"),
        ("Antwort: 45 Minuten", "45"),
        ("Er läuft 3 Runden zu je 400 m, also 3 * 400 = 1.200 m.", "1200"),
        ("The answer is 7.", "7"),  # English answer sentence in a German generation
        ("Ich weiß es leider nicht.", None),
    ],
    "ru": [
        ("Ответ: 1 234", "1234"),
        ("Всего 1\u00a0234 рубля.\nОтвет: 1\u00a0234.", "1234"),
        ("Значит, ей нужно 0,5 кг муки. Ответ: 0,5.", "0.5"),
        ("Ответ: −18.", "-18"),
        ("Ответ: 18.\n\nВопрос: У Тома 25 яблок. Сколько яблок у Тома?", "18"),
        ("Ответ составляет 42 рубля.", "42"),
        ("Он работал 3 + 4 = 7 часов. Итак, ответ: 7 часов.", "7"),
        ("В ответе 5 яблок и 6 груш, всего 5 + 6 = 11.", "11"),
        ("Ответ: 1 234 567", "1234567"),
        ("Ответ — 12 яблок, а не 13.", "12"),
        ("Не знаю.", None),
    ],
    "th": [
        ("คำตอบคือ 5,000 บาท", "5000"),
        ("ดังนั้น 3 + 4 = 7 คำตอบคือ 7", "7"),
        ("คำตอบคือ 18\n\nคำถาม: ทอมมีแอปเปิ้ล 25 ลูก", "18"),
        ("ดังนั้น คำตอบคือ ๗๒ บาท", "72"),
        ("คำตอบสุดท้ายคือ 0.5 กิโลกรัม", "0.5"),
        ("อุณหภูมิลดลงเหลือ -3 องศา คำตอบ: -3", "-3"),
        ("คำตอบคือ\n42\nคำถาม: มีแมว 7 ตัว", "42"),
        ("เธอมีเงิน 1,500 บาท จ่ายไป 500 บาท เหลือ 1,000 บาท", "1000"),
        ("The answer is 9.", "9"),
        ("ไม่ทราบคำตอบ", None),
    ],
    "zh": [
        ("答案是１２３。", "123"),
        ("一共是1,234元。答案是1,234。", "1234"),
        ("每天用0.5千克，答案是 0.5 千克。", "0.5"),
        ("温度下降到零下3度。答案：-3", "-3"),
        ("最终答案是42", "42"),
        ("答案是18。\n\n问题：汤姆有25个苹果。", "18"),
        ("3 + 4 = 7，因此，答案为 7。", "7"),
        ("她一共有１８个蛋", "18"),
        ("答案是 $18.00。", "18"),
        ("第1步：3+4=7。第2步：7×2=14。答案是14", "14"),
        ("我不知道。", None),
    ],
}


@pytest.mark.parametrize(
    ("lang", "generation", "expected"),
    [(lang, gen, exp) for lang, cases in MATH.items() for gen, exp in cases],
)
def test_math_extraction(lang, generation, expected):
    assert MathTask().parse_answer(generation, lang) == expected


def test_math_thai_marker_wins_over_a_later_number():
    # NFKC turns "ำ" into "ํา"; the marker must still be found so the later "25" is not taken.
    assert MathTask().parse_answer("คำตอบคือ 18 ส่วนคำถามถัดไปมี 25 ข้อ", "th") == "18"


# ----------------------------------------------------------------------------- QA

QA = {
    "en": [
        ("Answer: Berlin", "Berlin"),
        ('"the Rhine"', "the Rhine"),
        ("Berlin.\n\nQuestion: Where was he born?", "Berlin"),
        ("\n\nAnswer:\nBerlin", "Berlin"),
        ("1.5 million.", "1.5 million"),
        ("ANSWER: 1914", "1914"),
        ("  the U.S. Army  \nmore text", "the U.S. Army"),
        ("“Golden anniversary”.", "Golden anniversary"),
    ],
    "de": [
        ("Antwort: „der Rhein“.", "der Rhein"),
        ("Antwort: 'Berlin'.", "Berlin"),
        ("Im Jahr 1871.\nDas steht im zweiten Satz.", "Im Jahr 1871"),
        ("»Die Blechtrommel«", "Die Blechtrommel"),
    ],
    "ru": [
        ("Ответ: «Москва».", "Москва"),
        ("Лев Толстой\nОн написал этот роман в 1869 году.", "Лев Толстой"),
        ("ответ: 1869 год", "1869 год"),
    ],
    "th": [
        ("คำตอบ: กรุงเทพมหานคร", "กรุงเทพมหานคร"),
        ('"เชียงใหม่"', "เชียงใหม่"),
        ("กรุงเทพฯ", "กรุงเทพฯ"),
    ],
    "zh": [
        ("答案：北京大学。", "北京大学"),
        ("「北京」。", "北京"),
        ("答案: 1949年", "1949年"),
        ("北京。\n解释：上下文提到了北京。", "北京"),
        ("回答：『红楼梦』", "红楼梦"),
    ],
}


@pytest.mark.parametrize(
    ("lang", "generation", "expected"),
    [(lang, gen, exp) for lang, cases in QA.items() for gen, exp in cases],
)
def test_qa_extraction(lang, generation, expected):
    assert QATask().parse_answer(generation, lang) == expected


@pytest.mark.parametrize(("generation", "expected"), [("", ""), ("  \n\t", ""), ("Answer:", "")])
def test_qa_extraction_empty(generation, expected):
    assert QATask().parse_answer(generation, "en") == expected


# ----------------------------------------------------------------------------- NLI

NLI = {
    "en": [
        ("Entailment", "entailment"),
        ("ENTAILMENT.", "entailment"),
        ("neutral", "neutral"),
        ("Contradiction\n\nThe hypothesis says the opposite.", "contradiction"),
        ("The premise entails the hypothesis.", "entailment"),
        ("I am not sure.", None),
        ("", None),
    ],
    "de": [
        ("Folgerung", "entailment"),
        ("FOLGERUNG.", "entailment"),
        ("Widerspruch", "contradiction"),
        ("Die Hypothese widerspricht der Prämisse.", "contradiction"),
        ("Neutral", "neutral"),
        ("contradiction", "contradiction"),  # English label in a German prompt
        ("Antwort: Entailment", "entailment"),
        ("Keine Ahnung.", None),
    ],
    "ru": [
        ("Следование", "entailment"),
        ("НЕЙТРАЛЬНО", "neutral"),
        ("противоречие.", "contradiction"),
        ("Ответ: neutral", "neutral"),
        ("Гипотеза противоречит посылке.", "contradiction"),
        ("Да", None),
    ],
    "th": [
        ("สอดคล้อง", "entailment"),
        ("เป็นกลาง", "neutral"),
        ("ขัดแย้ง", "contradiction"),
        ("คำตอบคือ ขัดแย้ง", "contradiction"),
        ("Neutral", "neutral"),
        ("ไม่แน่ใจ", None),
    ],
    "zh": [
        ("蕴含", "entailment"),
        ("答案是：矛盾。", "contradiction"),
        ("中立", "neutral"),
        ("Contradiction", "contradiction"),
        ("蕴涵", "entailment"),
        ("不知道", None),
    ],
}


@pytest.mark.parametrize(
    ("lang", "generation", "expected"),
    [(lang, gen, exp) for lang, cases in NLI.items() for gen, exp in cases],
)
def test_nli_extraction(lang, generation, expected):
    assert NLITask().parse_answer(generation, lang) == expected


# ----------------------------------------------------------------------------- extraction + scoring


def score(task: str, predictions, golds, lang: str) -> dict[str, float]:
    return get_task(task).score(predictions, golds, lang)


def test_parse_then_score_math():
    task = MathTask()
    generations = ["Die Antwort lautet 1.234.", "Die Antwort lautet 0,5.", "Keine Ahnung", "Antwort: 7"]
    preds = [task.parse_answer(g, "de") for g in generations]
    assert score("math", preds, ["1234", "0.50", "3", "8"], "de") == {"accuracy": 50.0, "unparsed": 25.0}


def test_parse_then_score_qa():
    task = QATask()
    preds = [task.parse_answer(g, "zh") for g in ["答案：「北京大学」。", "上海市\n因为……"]]
    got = score("qa", preds, [["北京大学"], ["上海"]], "zh")
    assert got == pytest.approx({"exact_match": 50.0, "f1": 100 * (1 + 0.8) / 2})


def test_parse_then_score_nli():
    task = NLITask()
    preds = [task.parse_answer(g, "ru") for g in ["Следование.", "Противоречие", "Не знаю"]]
    got = score("nli", preds, ["entailment", "neutral", "neutral"], "ru")
    assert got == pytest.approx({"accuracy": 100 / 3, "unparsed": 100 / 3})
