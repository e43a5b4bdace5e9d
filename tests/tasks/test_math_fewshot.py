"""Issue 10.3 (few-shot): MGSM-style in-context examples keep their worked reasoning.

MGSM's exemplars (its ``train`` split on the Hub, ``exemplars.py`` upstream) hold ``question``
("Question: ..."), ``answer`` ("Step-by-Step Answer: <reasoning> The answer is N.") and
``answer_number``; GSM8K-style answers hold the reasoning and ``#### N``. The prompt asks for
step-by-step reasoning, so the shots must show it, not just the final sentence.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from selftt.errors import DataError
from selftt.tasks.math import FINAL_ANSWER, MathTask

# (question label + question, answer label + reasoning, final sentence) per language, as in MGSM.
EXEMPLARS = {
    "en": (
        "Question: ",
        "Roger has 5 tennis balls. He buys 2 more cans of 3 balls. How many balls does he have now?",
        "Step-by-Step Answer: ",
        "Roger started with 5 balls. 2 cans of 3 tennis balls each is 6 tennis balls. 5 + 6 = 11.",
        " The answer is 11.",
    ),
    "de": (
        "Frage: ",
        "Roger hat 5 Tennisbälle. Er kauft 2 Dosen mit je 3 Bällen. Wie viele Bälle hat er jetzt?",
        "Schritt-für-Schritt-Antwort: ",
        "Roger begann mit 5 Bällen. 2 Dosen mit je 3 Tennisbällen sind 6 Tennisbälle. 5 + 6 = 11.",
        " Die Antwort lautet 11.",
    ),
    "ru": (
        "Задача: ",
        "У Роджера 5 теннисных мячей. Он купил ещё 2 банки по 3 мяча. Сколько у него мячей?",
        "Пошаговоерешение: ",
        "Сначала у Роджера было 5 мячей. 2 банки по 3 мяча — это 6 мячей. 5 + 6 = 11.",
        " Ответ — 11.",
    ),
    "th": (
        "โจทย์: ",
        "โรเจอร์มีลูกเทนนิส 5 ลูก เขาซื้อลูกเทนนิสเพิ่มอีก 2 กระป๋อง กระป๋องละ 3 ลูก ตอนนี้เขามีลูกเทนนิสกี่ลูก",
        "คำตอบทีละขั้นตอน: ",
        "โรเจอร์เริ่มด้วยการมีลูกเทนนิส 5 ลูก กระป๋อง 2 ใบที่มีลูกเทนนิสใบละ 3 ลูก ดังนั้น 5 + 6 = 11",
        " คำตอบคือ 11",
    ),
    "zh": (
        "问题：",
        "罗杰有 5 个网球。他又买了 2 罐网球，每罐 3 个。他现在有多少个网球？",
        "逐步解答：",
        "罗杰一开始有 5 个球。2 罐各 3 个网球就是 6 个网球。5 + 6 = 11。",
        "答案是 11。",
    ),
}
LANGS = tuple(EXEMPLARS)


def exemplar(lang: str, answer_number=11) -> dict:
    q_label, question, a_label, reasoning, final = EXEMPLARS[lang]
    return {
        "question": q_label + question,
        "answer": a_label + reasoning + final,
        "answer_number": answer_number,
        "equation_solution": "5 + 6 = 11.",
    }


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def check_shot(shot: dict, lang: str) -> None:
    _, question, _, reasoning, _ = EXEMPLARS[lang]
    assert (shot["question"], shot["answer"], shot["final"]) == (question, reasoning, "11")
    target = MathTask().target(shot)
    assert target == f"{reasoning}\n{FINAL_ANSWER[lang].format('11')}"
    assert MathTask().parse_answer(target, lang) == "11"


@pytest.mark.parametrize("lang", LANGS)
def test_mgsm_exemplar_jsonl_keeps_the_reasoning(tmp_path, lang):
    path = write_jsonl(tmp_path / f"exemplars_{lang}.jsonl", [exemplar(lang), exemplar(lang)])
    shots = MathTask().load(str(path), lang)
    assert len(shots) == 2
    check_shot(shots[0], lang)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("header", [True, False])
def test_mgsm_exemplar_tsv_keeps_the_reasoning(tmp_path, lang, header):
    row = exemplar(lang)
    lines = ["question\tanswer\tanswer_number"] if header else []
    lines += [f"{row['question']}\t{row['answer']}\t{row['answer_number']}"] * 2
    path = tmp_path / f"exemplars_{lang}.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    shots = MathTask().load(str(path), lang)
    assert len(shots) == 2
    check_shot(shots[0], lang)


@pytest.mark.parametrize("lang", LANGS)
def test_gsm8k_style_answer_with_answer_number_keeps_the_reasoning(tmp_path, lang):
    _, question, _, reasoning, _ = EXEMPLARS[lang]
    row = {"question": question, "answer": reasoning.replace("5 + 6 = 11", "5 + 6 = <<5+6=11>>11") + "\n#### 11",
           "answer_number": "11"}  # fmt: skip
    (shot,) = MathTask().load(str(write_jsonl(tmp_path / "shots.jsonl", [row])), lang)
    assert (shot["question"], shot["answer"], shot["final"]) == (question, reasoning, "11")


@pytest.mark.parametrize("lang", LANGS)
def test_mgsm_hub_train_split_keeps_the_reasoning(monkeypatch, lang):
    import datasets

    rows = [exemplar(lang)]
    table = datasets.Dataset.from_dict({key: [r[key] for r in rows] for key in rows[0]})
    monkeypatch.setattr(datasets, "load_dataset", lambda name, config=None, split=None: table)
    (shot,) = MathTask().load(f"hf://juletxara/mgsm:{lang}", lang, split="train")
    check_shot(shot, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_worked_answer_that_contradicts_answer_number_is_refused(tmp_path, lang):
    path = write_jsonl(tmp_path / "shots.jsonl", [exemplar(lang), exemplar(lang, answer_number=12)])
    with pytest.raises(DataError, match=re.escape(f"{path}:2:") + ".*states 11.*answer_number is 12"):
        MathTask().load(str(path), lang)


def test_mgsm_test_rows_without_reasoning_stay_empty(tmp_path):
    rows = [
        {"question": "Wie viele?", "answer": None, "answer_number": 18},
        {"question": "Q?", "answer_number": 3},
    ]
    examples = MathTask().load(str(write_jsonl(tmp_path / "mgsm.jsonl", rows)), "de")
    assert [(e["question"], e["answer"], e["final"]) for e in examples] == [
        ("Wie viele?", "", "18"),
        ("Q?", "", "3"),
    ]
