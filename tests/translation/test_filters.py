"""Tests for the self-translation quality filters, on hand-written and real human translations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selftt.errors import ConfigError
from selftt.tasks import MathTask, NLITask, QATask
from selftt.translation.filters import (
    RULES,
    FilterSettings,
    check_text,
    count_reasons,
    filter_example,
    script_fraction,
    source_numbers,
    translation_numbers,
)
from selftt.translation.length_bounds import DEFAULT_LENGTH_BOUNDS, estimate_length_bounds

LANGS = ("de", "ru", "th", "zh")
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
S = FilterSettings()

EN = {
    "question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
    "How many clips did Natalia sell altogether in April and May?",
    "answer": "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether in April and May.",
    "context": "Nikola Tesla was born in 1856 in Smiljan, in what is now Croatia. In 1884 he emigrated to the "
    "United States, where he worked for Thomas Edison before founding his own company.",
    "qa_question": "In which year did Tesla emigrate to the United States?",
    "premise": "The children were playing football in the park until it started to rain.",
    "hypothesis": "The kids were outside.",
}

GOOD = {
    "de": {
        "question": "Natalia hat im April an 48 ihrer Freundinnen Haarspangen verkauft und im Mai halb so viele. "
        "Wie viele Haarspangen hat Natalia im April und Mai insgesamt verkauft?",
        "answer": "Natalia hat im Mai 48/2 = 24 Haarspangen verkauft.\n"
        "Natalia hat im April und Mai insgesamt 48+24 = 72 Haarspangen verkauft.",
        "context": "Nikola Tesla wurde 1856 in Smiljan im heutigen Kroatien geboren. 1884 wanderte er in die "
        "Vereinigten Staaten aus, wo er für Thomas Edison arbeitete, bevor er seine eigene Firma gründete.",
        "qa_question": "In welchem Jahr wanderte Tesla in die Vereinigten Staaten aus?",
        "premise": "Die Kinder spielten im Park Fußball, bis es anfing zu regnen.",
        "hypothesis": "Die Kinder waren draußen.",
    },
    "ru": {
        "question": "В апреле Наталья продала заколки 48 своим подругам, а в мае она продала вдвое меньше "
        "заколок. Сколько всего заколок Наталья продала в апреле и мае?",
        "answer": "В мае Наталья продала 48/2 = 24 заколки.\nВсего за апрель и май Наталья продала 48+24 = 72 заколки.",
        "context": "Никола Тесла родился в 1856 году в Смилянах, на территории современной Хорватии. В 1884 году "
        "он эмигрировал в Соединённые Штаты, где работал на Томаса Эдисона, а затем основал собственную компанию.",
        "qa_question": "В каком году Тесла эмигрировал в Соединённые Штаты?",
        "premise": "Дети играли в футбол в парке, пока не пошёл дождь.",
        "hypothesis": "Дети были на улице.",
    },
    "th": {
        "question": "ในเดือนเมษายน นาตาเลียขายกิ๊บติดผมให้เพื่อน 48 คน และในเดือนพฤษภาคมเธอขายได้ครึ่งหนึ่งของจำนวนนั้น "
        "นาตาเลียขายกิ๊บติดผมได้ทั้งหมดกี่อันในเดือนเมษายนและพฤษภาคม",
        "answer": "ในเดือนพฤษภาคม นาตาเลียขายกิ๊บได้ 48/2 = 24 อัน\n"
        "นาตาเลียขายกิ๊บได้ทั้งหมด 48+24 = 72 อันในเดือนเมษายนและพฤษภาคม",
        "context": "นิโคลา เทสลา เกิดเมื่อปี 1856 ที่เมืองสมิลยาน ซึ่งปัจจุบันอยู่ในประเทศโครเอเชีย ในปี 1884 "
        "เขาอพยพไปยังสหรัฐอเมริกา และทำงานให้กับโทมัส เอดิสัน ก่อนจะก่อตั้งบริษัทของตัวเอง",
        "qa_question": "เทสลาอพยพไปยังสหรัฐอเมริกาในปีใด",
        "premise": "เด็ก ๆ เล่นฟุตบอลในสวนสาธารณะจนกระทั่งฝนเริ่มตก",
        "hypothesis": "เด็ก ๆ อยู่ข้างนอก",
    },
    "zh": {
        "question": "娜塔莉亚四月份把发夹卖给了她的 48 个朋友，五月份卖出的发夹数量是四月份的一半。"
        "娜塔莉亚四月和五月一共卖了多少个发夹？",
        "answer": "娜塔莉亚五月份卖了 48/2 = 24 个发夹。\n娜塔莉亚四月和五月一共卖了 48+24 = 72 个发夹。",
        "context": "尼古拉·特斯拉于 1856 年出生在斯米良，位于今天的克罗地亚。1884 年，他移民到美国，"
        "在为托马斯·爱迪生工作之后创办了自己的公司。",
        "qa_question": "特斯拉在哪一年移民到美国？",
        "premise": "孩子们在公园里踢足球，直到开始下雨。",
        "hypothesis": "孩子们在外面。",
    },
}


def math_pair(lang: str, question: str | None = None, answer: str | None = None) -> tuple[dict, dict]:
    src = dict(id="m1", lang="en", question=EN["question"], answer=EN["answer"], final="72")
    question = GOOD[lang]["question"] if question is None else question
    answer = GOOD[lang]["answer"] if answer is None else answer
    return src, {**src, "lang": lang, "question": question, "answer": answer}


def qa_pair(lang: str, answer: str = "1884", src_answer: str = "1884") -> tuple[dict, dict]:
    src = dict(id="q1", lang="en", context=EN["context"], question=EN["qa_question"], answer=src_answer)
    src["answers"] = [src_answer]
    out = dict(src, lang=lang, context=GOOD[lang]["context"], question=GOOD[lang]["qa_question"])
    return src, {**out, "answer": answer}


# --- good translations pass ----------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", list(EN))
def test_good_translations_pass_every_rule(lang, name):
    assert check_text(EN[name], GOOD[lang][name], lang, S, numbers=True) == []


@pytest.mark.parametrize("lang", LANGS)
def test_good_examples_are_kept(lang):
    assert filter_example(MathTask(), *math_pair(lang), lang, S) == []
    assert filter_example(QATask(), *qa_pair(lang), lang, S) == []
    src = dict(id="n1", lang="en", premise=EN["premise"], hypothesis=EN["hypothesis"], label="neutral")
    out = {**src, "lang": lang, "premise": GOOD[lang]["premise"], "hypothesis": GOOD[lang]["hypothesis"]}
    assert filter_example(NLITask(), src, out, lang, S) == []


@pytest.mark.parametrize(
    ("lang", "translation"),
    [
        ("de", "Das Haus kostete 1.000 $, die Reparaturen 12.500 Dollar, und es dauerte 3,5 Stunden."),
        ("ru", "Дом стоил 1 000 $, ремонт — 12\u00a0500 долларов, и это заняло 3,5 часа."),
        ("th", "บ้านราคา 1,000 ดอลลาร์ ค่าซ่อม 12,500 ดอลลาร์ และใช้เวลา 3.5 ชั่วโมง"),
        ("zh", "房子花了１０００美元，维修花了 12500 美元，用了 3.5 个小时。"),
    ],
)
def test_numbers_with_local_grouping_pass(lang, translation):
    source = "The house cost $1,000, the repairs 12,500 dollars, and it took 3.5 hours."
    assert source_numbers(source) == {"1000", "12500", "3.5"}
    assert check_text(source, translation, lang, S, numbers=True) == []


def test_number_readings():
    assert {"1000", "1234.5", "3000"} <= translation_numbers("1.000 und 1.234,5 und 3 000")
    assert {"4", "12", "30000", "50"} <= translation_numbers("四周，十二个，三万，百分之五十")
    assert "48" in translation_numbers("๔๘ คน")  # Thai digits


@pytest.mark.parametrize(
    ("lang", "answer"),
    [
        ("de", "1884"),
        ("ru", "1884"),
        ("zh", "1884"),
        ("de", "Nikola Tesla"),
        ("zh", "Nikola Tesla"),
        ("th", "Nikola Tesla"),
        ("de", "New England Patriots"),
        ("ru", "NFL"),
    ],
)
def test_identical_names_and_numbers_are_not_untranslated(lang, answer):
    assert check_text(answer, answer, lang, S) == []


@pytest.mark.parametrize(
    ("lang", "source", "translation"),
    [
        ("de", "She laughed very, very loudly.", "Sie lachte sehr, sehr laut."),
        ("ru", "He was very, very tired after work.", "Он очень-очень устал после работы."),
        ("zh", "They walked home slowly. Thank you.", "他们慢慢地走回家。谢谢你。"),
        ("th", "The children are playing happily.", "เด็ก ๆ เล่นกันอย่างสนุกสนาน"),
        ("de", "Each day: 5 + 5 + 5 + 5 = 20 eggs.", "Pro Tag: 5 + 5 + 5 + 5 = 20 Eier."),
    ],
)
def test_legitimate_repetition_passes(lang, source, translation):
    assert check_text(source, translation, lang, S, numbers=True) == []


def test_names_copied_inside_a_translation_do_not_break_the_script():
    source = "What did Tesla Electric Light & Manufacturing do?"
    assert check_text(source, "Что делала компания Tesla Electric Light & Manufacturing?", "ru", S) == []
    assert check_text("What is the NASUWT?", "NASUWT是什么？", "zh", S) == []


# --- bad translations fail -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("bad", ["", "   ", " \n\t "])
def test_empty(lang, bad):
    assert check_text(EN["premise"], bad, lang, S) == ["empty"]
    assert check_text(EN["premise"], bad, lang, FilterSettings(empty=False)) == []


def test_empty_source_is_not_judged():
    assert check_text("", "", "de", S) == []


@pytest.mark.parametrize("lang", LANGS)
def test_copy_of_the_source(lang):
    failed = check_text(EN["premise"], EN["premise"], lang, S)
    assert "untranslated" in failed
    assert ("script" in failed) == (lang != "de")
    # Case, spacing and punctuation do not hide a copy; neither does an echo before the translation.
    assert "untranslated" in check_text(
        EN["premise"], "the children were playing football in the park until it started to rain", lang, S
    )
    echo = EN["question"] + "\n" + GOOD[lang]["question"]
    assert "untranslated" in check_text(EN["question"], echo, lang, S)
    assert "untranslated" not in check_text(
        EN["premise"], EN["premise"], lang, FilterSettings(untranslated=False)
    )


@pytest.mark.parametrize("lang", ["ru", "th", "zh"])
def test_english_output_is_the_wrong_script(lang):
    english = "The kids played soccer in the park until the rain began."
    assert check_text(EN["premise"], english, lang, S) == ["script"]
    assert check_text(EN["premise"], english, lang, FilterSettings(script=False)) == []


def test_swahili_and_hindi_scripts():
    swahili = "Watoto walicheza mpira bustanini hadi mvua ilipoanza."
    hindi = "बच्चे बारिश शुरू होने तक पार्क में फुटबॉल खेलते रहे।"
    assert script_fraction(swahili, "sw") == (1.0, len(swahili.replace(" ", "").replace(".", "")))
    assert script_fraction(hindi, "sw")[0] == 0.0
    assert script_fraction(hindi, "hi")[0] == 1.0
    sw = FilterSettings(length_bounds={"sw": [0.5, 2.0], "hi": [0.5, 2.0]})
    assert check_text(EN["premise"], swahili, "sw", sw) == []
    assert check_text(EN["premise"], hindi, "hi", sw) == []
    english = "The kids played soccer in the park until the rain began."
    assert check_text(EN["premise"], english, "hi", sw) == ["script"]
    assert check_text(EN["premise"], hindi, "sw", sw) == ["script"]


def test_japanese_repetition_by_character_ngrams():
    loop = "東京タワーは高いです。" * 6
    settings = FilterSettings(length_ratio=False)
    assert "repetition" in check_text("Tokyo Tower is tall. " * 2, loop, "ja", settings)


def test_german_output_for_a_russian_target():
    assert check_text(EN["premise"], GOOD["de"]["premise"], "ru", S) == ["script"]
    assert check_text(EN["premise"], GOOD["ru"]["premise"], "de", S) == ["script"]
    assert "script" in check_text(EN["premise"], GOOD["zh"]["premise"], "th", S)


def test_chinese_too_long_and_too_short():
    too_long = (
        GOOD["zh"]["premise"]
        + "他们的父母在旁边的长椅上聊天，看着孩子们奔跑。后来大家一起回家吃了晚饭，还讨论了周末去哪里玩。"
    )
    assert check_text(EN["premise"], too_long, "zh", S) == ["length_ratio"]
    assert check_text(EN["question"], "娜塔莉亚卖了发夹。", "zh", S) == ["lost_question", "length_ratio"]
    assert check_text(EN["premise"], too_long, "zh", FilterSettings(length_bounds={"zh": [0.1, 2.0]})) == []


def test_short_sources_are_not_length_judged():
    assert check_text("Tesla", "Никола Тесла, изобретатель", "ru", S) == []
    assert check_text("1905", "1905 年", "zh", S) == []


@pytest.mark.parametrize(
    ("lang", "translation"),
    [
        ("de", "the the the the the the the the the the the the"),
        ("de", "Die Kinder spielten im Park Fußball, bis die die die die es anfing zu regnen."),
        ("ru", "Дети играли в футбол в парке, пока не ааааааааа."),
        ("ru", "ааааааа"),
        ("zh", "孩子们在公园里踢足球的的的的的的。"),
        ("zh", "的的的的的的"),
        ("th", "เด็ก ๆ เล่นฟุตบอลในสวนสาธารณะ" + " จนกระทั่งฝนเริ่มตก" * 8),
        ("zh", GOOD["zh"]["premise"] + "直到开始下雨。" * 6),
    ],
)
def test_degenerate_repetition(lang, translation):
    assert "repetition" in check_text(EN["premise"], translation, lang, S)
    assert "repetition" not in check_text(EN["premise"], translation, lang, FilterSettings(repetition=False))


@pytest.mark.parametrize("lang", LANGS)
def test_math_number_changed_or_lost(lang):
    changed = GOOD[lang]["question"].replace("48", "84")
    assert check_text(EN["question"], changed, lang, S, numbers=True) == ["numbers"]
    assert filter_example(MathTask(), *math_pair(lang, question=changed), lang, S) == ["question:numbers"]
    lost = GOOD[lang]["answer"].replace("= 72", "=")
    assert filter_example(MathTask(), *math_pair(lang, answer=lost), lang, S) == ["answer:numbers"]
    assert (
        filter_example(MathTask(), *math_pair(lang, answer=lost), lang, FilterSettings(numbers=False)) == []
    )
    # Without numbers=True (fields of other tasks) a changed number is not checked.
    assert check_text(EN["question"], changed, lang, S) == []


@pytest.mark.parametrize("lang", LANGS)
def test_qa_answer_not_in_context(lang):
    src, out = qa_pair(lang, answer="1885")
    assert filter_example(QATask(), src, out, lang, S) == ["example:answer_in_context"]
    assert filter_example(QATask(), src, out, lang, FilterSettings(qa_answer="keep")) == []


def test_qa_answer_match_ignores_case_spacing_and_edge_punctuation():
    src, out = qa_pair("de", answer="vereinigten  Staaten.", src_answer="United States")
    assert filter_example(QATask(), src, out, "de", S) == []
    src, out = qa_pair("zh", answer="“美国”", src_answer="United States")
    assert filter_example(QATask(), src, out, "zh", S) == []


def test_filter_example_reports_every_field_and_rule():
    src, out = math_pair("ru", question="", answer=EN["answer"])
    assert filter_example(MathTask(), src, out, "ru", S) == [
        "question:empty",
        "answer:untranslated",
        "answer:script",
    ]
    del out["question"]  # a missing field counts as empty
    assert filter_example(MathTask(), src, out, "ru", S)[0] == "question:empty"


def test_count_reasons():
    verdicts = [[], ["question:script", "answer:script"], ["answer:numbers", "question:length_ratio"], []]
    counts = count_reasons(verdicts)
    assert list(counts) == [*RULES, "kept", "total"]
    assert counts["script"] == 1 and counts["numbers"] == 1 and counts["length_ratio"] == 1
    assert counts["empty"] == 0 and counts["kept"] == 2 and counts["total"] == 4
    assert count_reasons(iter([["example:answer_in_context"]]))["answer_in_context"] == 1


# --- settings ------------------------------------------------------------------------------------


def test_bounds():
    assert set(DEFAULT_LENGTH_BOUNDS) == {"en", *LANGS}
    assert S.bounds("zh") == DEFAULT_LENGTH_BOUNDS["zh"]
    assert FilterSettings(length_bounds={"zh": [0.1, 0.9]}).bounds("zh") == (0.1, 0.9)
    assert FilterSettings(length_bounds={"zh": [0.1, 0.9]}).bounds("de") == DEFAULT_LENGTH_BOUNDS["de"]
    assert FilterSettings(length_bounds={"sw": [0.5, 2.5]}).bounds("sw") == (0.5, 2.5)
    with pytest.raises(ConfigError, match="translation.filters.length_bounds"):
        S.bounds("fr")  # neither given nor tuned: for_pair estimates them from the shots
    S.validate()
    FilterSettings(length_bounds={"sw": [0.5, 2.5], "pt-BR": [0.7, 1.8]}).validate()


SW_SHOTS = [
    ("How old is she?", "Ana umri gani?"),
    ("The cat sleeps on the mat.", "Paka analala kwenye mkeka."),
]


def test_length_bounds_estimated_from_shots():
    # ratios (spaces collapsed): 14/15 and 26/26, so (0.5 * 0.933, 2 * 1.0)
    assert estimate_length_bounds(SW_SHOTS) == (0.467, 2.0)
    with pytest.raises(ValueError):
        estimate_length_bounds([])
    settings = S.for_pair("en", "sw", SW_SHOTS)
    assert settings.bounds("sw") == (0.467, 2.0) and S.length_bounds is None
    assert S.for_pair("en", "de", SW_SHOTS) is S  # tuned bounds kept for an English source
    german_source = S.for_pair("ru", "de", SW_SHOTS)  # tuned de/en ratios do not hold for ru -> de
    assert german_source.bounds("de") == (0.467, 2.0)
    given = FilterSettings(length_bounds={"sw": [0.3, 3.0]})
    assert given.for_pair("de", "sw", SW_SHOTS).bounds("sw") == (0.3, 3.0)
    long = "Paka analala kwenye mkeka sebuleni kila siku baada ya chakula cha mchana."
    assert "length_ratio" in check_text(SW_SHOTS[1][0], long, "sw", settings)
    assert check_text(SW_SHOTS[1][0], SW_SHOTS[1][1], "sw", settings) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"length_bounds": {"zh": [0.9, 0.1]}}, "length_bounds"),
        ({"length_bounds": {"zh": [0.0, 0.5]}}, "length_bounds"),
        ({"length_bounds": {"zh": [0.5]}}, "length_bounds"),
        ({"length_bounds": {"xx-notalang": [0.5, 1.5]}}, "length_bounds"),
        ({"max_repeated_ngram_fraction": 0.0}, "max_repeated_ngram_fraction"),
        ({"max_repeated_ngram_fraction": 1.5}, "max_repeated_ngram_fraction"),
        ({"min_script_fraction": -0.1}, "min_script_fraction"),
        ({"qa_answer": "drop"}, "qa_answer"),
        ({"numbers": "yes"}, "numbers"),
    ],
)
def test_validate_names_the_key(changes, field):
    with pytest.raises(ConfigError) as err:
        FilterSettings(**changes).validate("translation.filters")
    assert err.value.key == f"translation.filters.{field}"
    with pytest.raises(ConfigError) as err:
        FilterSettings(**changes).validate("x")
    assert err.value.key == f"x.{field}"


# --- real human translations (../shared/data) -----------------------------------------------------


def _real_pairs(data, lang: str) -> list[tuple[str, str]]:
    """(English, human translation) for MGSM questions and XQuAD contexts (once each) and questions."""

    def mgsm(code):
        lines = (data / "mgsm" / f"mgsm_{code}.tsv").read_text(encoding="utf-8").splitlines()
        return [line.split("\t")[0] for line in lines]

    def xquad(code):
        doc = json.loads((data / "xquad" / f"xquad.{code}.json").read_text(encoding="utf-8"))
        return {
            qa["id"]: (p["context"], qa["question"])
            for a in doc["data"]
            for p in a["paragraphs"]
            for qa in p["qas"]
        }

    pairs = list(zip(mgsm("en"), mgsm(lang), strict=True))
    en, tgt = xquad("en"), xquad(lang)
    pairs += list(dict.fromkeys((en[i][0], tgt[i][0]) for i in en))
    pairs += [(en[i][1], tgt[i][1]) for i in en]
    return pairs


@pytest.fixture(scope="module")
def real() -> dict[str, list[tuple[str, str]]]:
    if not (SHARED_DATA / "mgsm").is_dir() or not (SHARED_DATA / "xquad").is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return {lang: _real_pairs(SHARED_DATA, lang) for lang in LANGS}


def _keep_rate(pairs, lang, settings, **kw) -> float:
    return sum(not check_text(s, t, lang, settings, **kw) for s, t in pairs) / len(pairs)


ONLY = {rule: False for rule in ("empty", "untranslated", "length_ratio", "repetition", "script", "numbers")}


@pytest.mark.parametrize("lang", LANGS)
def test_default_length_bounds_keep_real_translations(real, lang):
    assert len(real[lang]) == 250 + 240 + 1190
    assert _keep_rate(real[lang], lang, FilterSettings(**{**ONLY, "length_ratio": True})) >= 0.98


@pytest.mark.parametrize("lang", LANGS)
def test_script_rule_accepts_real_translations(real, lang):
    assert _keep_rate(real[lang], lang, FilterSettings(**{**ONLY, "script": True})) >= 0.99
    english = [s for s, _ in real[lang]]
    assert sum(script_fraction(s, "en")[0] >= S.min_script_fraction for s in english) / len(english) >= 0.99


@pytest.mark.parametrize("lang", LANGS)
def test_all_rules_keep_real_translations(real, lang):
    assert _keep_rate(real[lang], lang, S) >= 0.98
    mgsm = real[lang][:250]  # numbers: only 24-hour times and spelled-out numbers differ
    assert _keep_rate(mgsm, lang, S, numbers=True) >= 0.97
