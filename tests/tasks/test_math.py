"""Tests for the math task (GSM8K / MGSM) and the task registry."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from selftt.errors import ConfigError, DataError
from selftt.tasks import TASKS, Task, get_task
from selftt.tasks.math import INSTRUCTIONS, MathTask, normalize_number, strip_calculator_annotations

LANGS = ("en", "de", "ru", "th", "zh")


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def at(path: Path, line: int) -> str:
    return re.escape(f"{path}:{line}:")


GSM = {
    "question": "Natalia sold clips to 48 friends in April and half as many in May. How many in total?",
    "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nShe sold 48+24 = <<48+24=72>>72 clips.\n#### 72",
}


# ----------------------------------------------------------------------------- loading


def test_load_gsm8k_strips_annotations_by_default(tmp_path):
    path = write_jsonl(tmp_path / "train.jsonl", [GSM, {"question": "Big?", "answer": "Lots.\n#### 1,234"}])
    examples = MathTask().load(str(path), "en")
    assert examples[0] == {
        "id": "train-1",
        "lang": "en",
        "question": GSM["question"],
        "answer": "Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips.",
        "final": "72",
    }
    assert examples[1]["final"] == "1234" and examples[1]["id"] == "train-2"


def test_load_gsm8k_keeps_annotations_on_request(tmp_path):
    path = write_jsonl(tmp_path / "train.jsonl", [GSM])
    (example,) = MathTask(keep_calculator_annotations=True).load(str(path), "en")
    assert "48/2 = <<48/2=24>>24 clips" in example["answer"]
    assert "####" not in example["answer"]


def test_strip_calculator_annotations():
    assert strip_calculator_annotations("48/2 = <<48/2=24>>24") == "48/2 = 24"
    assert strip_calculator_annotations("$<<12/60=0.2>>0.2 per minute") == "$0.2 per minute"
    assert strip_calculator_annotations("no markup < here >") == "no markup < here >"


def test_load_gsm8k_missing_hashes(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [GSM, {"question": "q", "answer": "The answer is 3."}])
    with pytest.raises(DataError, match=at(path, 2) + ".*no '#### <number>'"):
        MathTask().load(str(path), "en")


def test_load_gsm8k_two_final_answers(tmp_path):
    two = {"question": "q", "answer": "2 + 3 = 5\n#### 5\nOr rather 6.\n#### 6"}
    path = write_jsonl(tmp_path / "t.jsonl", [GSM, two])
    with pytest.raises(DataError, match=at(path, 2) + " answer has 2 '####' final answers \\('5', '6'\\)"):
        MathTask().load(str(path), "en")


def test_load_worked_answer_with_two_final_answers(tmp_path):
    row = {"question": "q", "answer": "2 + 3 = 5\n#### 5\n#### 5", "answer_number": 5}
    path = write_jsonl(tmp_path / "t.jsonl", [row])
    with pytest.raises(DataError, match=at(path, 1) + " answer has 2 '####' final answers"):
        MathTask().load(str(path), "en")


def test_load_gsm8k_non_numeric_final(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"question": "q", "answer": "x\n#### seventy"}])
    with pytest.raises(DataError, match=at(path, 1) + ".*'seventy' after '####' is not a number"):
        MathTask().load(str(path), "en")


def test_load_missing_field_names_field_and_line(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [GSM, {"question": "q", "solution": "#### 1"}])
    with pytest.raises(
        DataError, match=at(path, 2) + r".*missing field 'answer'; the record has: question, solution"
    ):
        MathTask().load(str(path), "en")


def test_load_duplicate_ids(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{**GSM, "id": "a"}, {**GSM, "id": "b"}, {**GSM, "id": "a"}])
    with pytest.raises(DataError, match=at(path, 3) + r".*duplicate example id 'a' \(first at line 1\)"):
        MathTask().load(str(path), "en")


def test_load_mgsm_tsv(tmp_path):
    path = tmp_path / "mgsm_de.tsv"
    path.write_text('Sie sagt "hallo". Wie viele?\t18\nWie viel Gewinn?\t114,200\n', encoding="utf-8")
    examples = MathTask().load(str(path), "de")
    assert examples[0] == {
        "id": "mgsm_de-1",
        "lang": "de",
        "question": 'Sie sagt "hallo". Wie viele?',
        "answer": "",
        "final": "18",
    }
    assert examples[1]["final"] == "114200"


def test_load_mgsm_non_numeric_answer(tmp_path):
    path = tmp_path / "mgsm_de.tsv"
    path.write_text("Frage eins?\t18\nFrage zwei?\tachtzehn\n", encoding="utf-8")
    with pytest.raises(DataError, match=at(path, 2) + ".*'achtzehn' is not a number"):
        MathTask().load(str(path), "de")


def test_load_mgsm_wrong_columns(tmp_path):
    path = tmp_path / "mgsm_de.tsv"
    path.write_text("Frage eins?\t18\nFrage ohne Antwort\n", encoding="utf-8")
    with pytest.raises(DataError, match=at(path, 2) + ".*expected 2 tab-separated columns"):
        MathTask().load(str(path), "de")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Frage eins?\t18\textra\nFrage zwei?\t7\nFrage drei?\t9\n", 1),  # the odd line is the first
        ("Frage eins?\t18\nFrage zwei?\t7\textra\nFrage drei?\t9\n", 2),
    ],
)
def test_load_mgsm_one_line_with_an_extra_column_is_named(tmp_path, text, line):
    path = tmp_path / "mgsm_de.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=at(path, line) + ".*expected 2 tab-separated columns.*got 3"):
        MathTask().load(str(path), "de")


def test_load_mgsm_exemplars_with_worked_answers(tmp_path):
    path = tmp_path / "mgsm_de.tsv"
    path.write_text("Frage eins?\tSchritt: 9 + 9 = 18.\t18\nFrage zwei?\t3 + 4 = 7.\t7\n", encoding="utf-8")
    assert [e["final"] for e in MathTask().load(str(path), "de")] == ["18", "7"]


def test_load_unknown_language_and_suffix(tmp_path, caplog):
    path = write_jsonl(tmp_path / "t.jsonl", [GSM])
    task = MathTask()
    with caplog.at_level("WARNING"):
        (example,) = task.load(str(path), "fr")  # no French texts: English ones, with one warning
        task.load(str(path), "fr")
    assert task.instruction(example).startswith(INSTRUCTIONS["en"])
    assert [r.getMessage() for r in caplog.records].count(
        "task 'math' has no instruction for language 'fr'; using the English one "
        "(give one in the task's options, e.g. data.task_options.instructions)"
    ) == 1
    csv = tmp_path / "t.csv"
    csv.write_text("q,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="unsupported file type '.csv'"):
        MathTask().load(str(csv), "en")


def test_load_hub_layouts(monkeypatch):
    import datasets

    tables = {
        "openai/gsm8k": datasets.Dataset.from_dict(
            {"question": [GSM["question"]], "answer": [GSM["answer"]]}
        ),
        "juletxara/mgsm": datasets.Dataset.from_dict(
            {"question": ["Wie viele?"], "answer": [None], "answer_number": [18], "equation_solution": [None]}
        ),
    }
    monkeypatch.setattr(datasets, "load_dataset", lambda name, config=None, split=None: tables[name])
    (gsm,) = MathTask().load("hf://openai/gsm8k:main", "en", split="train")
    assert (gsm["id"], gsm["final"], "<<" in gsm["answer"]) == ("gsm8k-main-train-1", "72", False)
    (mgsm,) = MathTask().load("hf://juletxara/mgsm:de", "de", split="test")
    assert (mgsm["id"], mgsm["question"], mgsm["answer"], mgsm["final"]) == (
        "mgsm-de-test-1",
        "Wie viele?",
        "",
        "18",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("72", "72"), (" 27,200 ", "27200"), ("-3", "-3"), ("0.50", "0.5"), ("72.0", "72"), (18, "18"),
     (2.5, "2.5"), ("$5", "5"), ("-0", "0"), ("1e5", None), ("seven", None), ("", None), (True, None)],
)  # fmt: skip
def test_normalize_number(value, expected):
    assert normalize_number(value) == expected


# ----------------------------------------------------------------------------- prompts


def example(lang: str, answer: str = "48/2 = 24.", final: str = "72") -> dict:
    return {"id": "x", "lang": lang, "question": "Q?", "answer": answer, "final": final}


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [("en", "The answer is 72."), ("de", "Die Antwort lautet 72."), ("ru", "Ответ: 72."),
     ("th", "คำตอบคือ 72"), ("zh", "答案是72。")],
)  # fmt: skip
def test_target_reasoning_then_final_sentence(lang, sentence):
    task = MathTask()
    assert task.target(example(lang)) == f"48/2 = 24.\n{sentence}"
    assert task.target(example(lang, answer="")) == sentence


@pytest.mark.parametrize("lang", LANGS)
def test_instruction_in_language(lang):
    text = MathTask().instruction(example(lang))
    assert text.endswith("\n\nQ?")
    words = {"en": "step by step", "de": "Schritt für Schritt", "ru": "шаг за шагом", "th": "ทีละขั้นตอน"}
    assert words.get(lang, "一步一步") in text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("final", ["72", "-3", "0.5", "27200", "1234.25"])
def test_parse_answer_reads_back_target(lang, final):
    task = MathTask()
    assert task.parse_answer(task.target(example(lang, final=final)), lang) == final


@pytest.mark.parametrize(
    ("lang", "generation", "expected"),
    [
        ("en", "She pays 3 * 4 = 12 dollars.\nThe answer is 12.", "12"),
        ("en", "The answer is 1,234.", "1234"),
        ("en", "So he has $1,234.50 left.", "1234.5"),
        ("en", "The answer is $18.", "18"),
        ("en", "The final answer is: 7\n\nQuestion: 3 apples? The answer is 3.", "7"),
        ("en", "It grows from 5 to -3.", "-3"),
        ("en", "5 - 3 = 2", "2"),
        ("en", "The answer is 42", "42"),
        ("en", "I think 10 + 5 = 15. Then 15 * 2 = 30.", "30"),
        ("en", "Answer: 8\nThen something 99", "8"),
        ("en", "#### 72", "72"),
        ("en", "no number here", None),
        ("en", "", None),
        ("de", "Die Antwort lautet 1.234.", "1234"),
        ("de", "Sie zahlt 0,5 Euro.", "0.5"),
        ("de", "Das sind 1.234,5 Liter. Die Antwort lautet 1.234,5.", "1234.5"),
        ("de", "Die Antwort ist 18 Dollar.", "18"),
        ("de", "Ergebnis: 2.5", "2.5"),
        ("de", "Die Antwort lautet 2.500 Euro.", "2500"),
        ("de", "The answer is 7.", "7"),
        ("ru", "Ответ: 1 234.", "1234"),
        ("ru", "Ответ: 1\u00a0234 рубля", "1234"),
        ("ru", "Значит, 0,5 кг. Ответ: 0,5.", "0.5"),
        ("ru", "Ответ — 12 яблок, а не 13.", "12"),
        ("ru", "Ответ: −7.", "-7"),
        ("ru", "Итого 5 + 7 = 12 книг", "12"),
        ("th", "คำตอบคือ 72", "72"),
        ("th", "ดังนั้น คำตอบคือ ๗๒ บาท", "72"),
        ("th", "เธอมีเงิน 1,500 บาท", "1500"),
        ("zh", "答案是72。", "72"),
        ("zh", "答案是１２３。", "123"),
        ("zh", "所以答案为 1,234 元。", "1234"),
        ("zh", "答案：-3", "-3"),
        ("zh", "她一共有１８个蛋", "18"),
    ],
)
def test_parse_answer_tricky(lang, generation, expected):
    assert MathTask().parse_answer(generation, lang) == expected


# ----------------------------------------------------------------------------- registry


def test_get_task_builds_registered_tasks():
    assert set(TASKS) == {"math", "qa", "nli"}
    for name, cls in TASKS.items():
        task = get_task(name)
        assert isinstance(task, cls) and isinstance(task, Task) and task.name == name
        assert set(task.translatable) <= set(task.fields)
    assert get_task("math", keep_calculator_annotations=True).keep_calculator_annotations is True


def test_get_task_unknown_name_and_bad_option():
    with pytest.raises(
        ConfigError, match=r"config key 'data.task': unknown task 'x'; expected one of math, nli, qa"
    ):
        get_task("x")
    with pytest.raises(ConfigError, match=r"config key 'task.name': unknown task 'Math'"):
        get_task("Math", key="task.name")
    with pytest.raises(ConfigError, match="bad options for task 'math'"):
        get_task("math", keep_annotations=True)
    with pytest.raises(ConfigError, match=r"bad options for task 'math': answer_phrases\['sw'\] must contain"):
        get_task("math", answer_phrases={"sw": "Jibu ni"})


def test_user_texts_for_a_new_language():
    task = get_task("math", instructions={"sw": "Tatua tatizo hili."}, answer_phrases={"sw": "Jibu ni {}."})
    example = {"id": "1", "lang": "sw", "question": "2+2?", "answer": "2+2=4", "final": "4"}
    assert task.instruction(example) == "Tatua tatizo hili.\n\n2+2?"
    assert task.target(example) == "2+2=4\nJibu ni 4."
    assert task.parse_answer("2+2=4\nJibu ni 4.", "sw") == "4"
    assert task.target({**example, "lang": "de"}).endswith("Die Antwort lautet 4.")  # shipped texts kept


def test_a_users_answer_phrase_marks_the_final_answer_when_parsing():
    task = get_task("math", answer_phrases={"sw": "Jibu ni {}.", "hi": "उत्तर है {}।"})
    assert task.parse_answer("Jibu ni 12. Kisha ana 13.", "sw") == "12"  # not the last number
    assert task.parse_answer("JIBU NI: 12, kisha 13", "sw") == "12"  # any case, a colon
    assert task.parse_answer("उत्तर है 42। फिर 7", "hi") == "42"
    assert task.parse_answer("The answer is 5. Then 6", "sw") == "5"  # built-in phrases still count
    assert MathTask().parse_answer("Jibu ni 12. Kisha 13.", "sw") == "13"  # without it: the last number


# ----------------------------------------------------------------------------- real data


def test_real_gsm8k_train(shared_data):
    path = shared_data / "gsm8k" / "train.jsonl"
    examples = MathTask().load(str(path), "en")
    assert len(examples) == 7473
    assert len({e["id"] for e in examples}) == 7473
    assert not any("<<" in e["answer"] or "####" in e["answer"] for e in examples)
    assert examples[0]["answer"].startswith("Natalia sold 48/2 = 24 clips in May.")
    assert examples[0]["final"] == "72"
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", e["final"]) for e in examples)
    kept = MathTask(keep_calculator_annotations=True).load(str(path), "en")
    assert "48/2 = <<48/2=24>>24" in kept[0]["answer"]
    assert sum("<<" in e["answer"] for e in kept) > 7000


@pytest.mark.parametrize("lang", LANGS)
def test_real_mgsm(shared_data, lang):
    task = MathTask()
    examples = task.load(str(shared_data / "mgsm" / f"mgsm_{lang}.tsv"), lang)
    assert len(examples) == 250
    assert examples[0]["id"] == f"mgsm_{lang}-1" and examples[0]["final"] == "18"
    assert all(task.parse_answer(task.target(e), lang) == e["final"] for e in examples)
