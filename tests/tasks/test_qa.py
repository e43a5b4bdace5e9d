"""Tests for the extractive QA task (SQuAD / XQuAD)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from selftt.errors import DataError
from selftt.tasks.qa import TEMPLATES, QATask

LANGS = ("en", "de", "ru", "th", "zh")
CONTEXT = "Berlin is the capital of Germany. It has 3.7 million inhabitants."


def qa(qa_id: str, question: str, *answers: tuple[str, int]) -> dict:
    return {
        "id": qa_id,
        "question": question,
        "answers": [{"text": t, "answer_start": s} for t, s in answers],
    }


def write_squad(path: Path, qas: list[dict], context: str = CONTEXT) -> Path:
    doc = {"version": "1.1", "data": [{"title": "Berlin", "paragraphs": [{"context": context, "qas": qas}]}]}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_load_squad_json(tmp_path):
    path = write_squad(
        tmp_path / "dev.json",
        [
            qa("q1", " What is the capital of Germany? ", ("Berlin", 0)),
            qa("q2", "How many inhabitants?", ("3.7 million", 41), ("3.7 million inhabitants", 41)),
        ],
    )
    examples = QATask().load(str(path), "en")
    assert examples[0] == {
        "id": "q1",
        "lang": "en",
        "context": CONTEXT,
        "question": "What is the capital of Germany?",
        "answer": "Berlin",
        "answers": ["Berlin"],
        "answer_start": 0,
    }
    assert examples[1]["answer"] == "3.7 million" and examples[1]["answer_start"] == 41
    assert examples[1]["answers"] == ["3.7 million", "3.7 million inhabitants"]


def test_load_duplicate_ids(tmp_path):
    path = write_squad(
        tmp_path / "dev.json", [qa("q1", "A?", ("Berlin", 0)), qa("q1", "B?", ("Germany", 25))]
    )
    with pytest.raises(DataError, match=re.escape(str(path)) + ".*duplicate example id 'q1'"):
        QATask().load(str(path), "en")


def test_load_bad_answer_start(tmp_path):
    path = write_squad(tmp_path / "dev.json", [qa("q7", "A?", ("Germany", 24))])
    with pytest.raises(DataError, match=r"qa 'q7': answer_start 24 does not point at the answer 'Germany'"):
        QATask().load(str(path), "en")


def test_load_without_answers(tmp_path):
    path = write_squad(tmp_path / "dev.json", [qa("q1", "A?")])
    with pytest.raises(DataError, match="qa 'q1' has no gold answer"):
        QATask().load(str(path), "en")


def test_load_missing_question_names_qa(tmp_path):
    bad = qa("q9", "A?", ("Berlin", 0))
    del bad["question"]
    path = write_squad(tmp_path / "dev.json", [bad])
    with pytest.raises(DataError, match=re.escape(str(path)) + ".*qa 'q9': missing key 'question'"):
        QATask().load(str(path), "en")


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "dev.jsonl"
    path.write_text("{}\n", encoding="utf-8")
    with pytest.raises(DataError, match="unsupported file type '.jsonl'"):
        QATask().load(str(path), "en")
    with pytest.raises(DataError, match="file not found"):
        QATask().load(str(tmp_path / "missing.json"), "en")


def hub_rows(start: int = 0) -> dict:
    return {
        "id": ["h1"],
        "title": ["Berlin"],
        "context": [CONTEXT],
        "question": ["Capital?"],
        "answers": [{"text": ["Berlin"], "answer_start": [start]}],
    }


def test_load_hub_layout(monkeypatch):
    import datasets

    seen = []

    def fake(name, config=None, split=None):
        seen.append((name, config, split))
        return datasets.Dataset.from_dict(hub_rows())

    monkeypatch.setattr(datasets, "load_dataset", fake)
    (example,) = QATask().load("hf://google/xquad:xquad.de", "de", split="validation")
    assert seen == [("google/xquad", "xquad.de", "validation")]
    assert example == {
        "id": "h1",
        "lang": "de",
        "context": CONTEXT,
        "question": "Capital?",
        "answer": "Berlin",
        "answers": ["Berlin"],
        "answer_start": 0,
    }


def test_load_hub_bad_answer_start(monkeypatch):
    import datasets

    monkeypatch.setattr(
        datasets, "load_dataset", lambda *a, **k: datasets.Dataset.from_dict(hub_rows(start=5))
    )
    with pytest.raises(DataError, match=r"hf://rajpurkar/squad \[train\]:1: qa 'h1': answer_start 5"):
        QATask().load("hf://rajpurkar/squad", "en", split="train")


@pytest.mark.parametrize(
    ("qas", "context", "message"),
    [
        ([qa("q1", "  ", ("Berlin", 0))], CONTEXT, "field 'question' is only whitespace"),
        ([qa("q1", "", ("Berlin", 0))], CONTEXT, "field 'question' is empty"),
        ([qa("q1", "Capital?", ("", 0))], CONTEXT, "qa 'q1': answer 0 is empty"),
        ([qa("q1", "Capital?", ("Berlin", 0), (" ", 6))], CONTEXT, "qa 'q1': answer 1 is only whitespace"),
        ([qa("q1", "Capital?", ("", 0))], "", "'context' is empty"),
        ([qa("q1", "Capital?")], CONTEXT, "qa 'q1' has no gold answer"),
    ],
)
def test_load_refuses_empty_text(tmp_path, qas, context, message):
    path = write_squad(tmp_path / "dev.json", [qa("q0", "Fine?", ("Berlin", 0)), *qas], context)
    with pytest.raises(DataError, match=re.escape(str(path)) + r":1: .*" + re.escape(message)):
        QATask().load(str(path), "en")


def test_load_refuses_negative_answer_start(tmp_path):
    start = CONTEXT.index("inhabitants") - len(CONTEXT)
    path = write_squad(tmp_path / "dev.json", [qa("q1", "How many?", ("inhabitants", start))])
    assert CONTEXT[start : start + len("inhabitants")] == "inhabitants"  # slicing would accept it
    with pytest.raises(DataError, match=re.escape(str(path)) + r":1: qa 'q1': answer_start -\d+ is negative"):
        QATask().load(str(path), "en")


def test_load_hub_refuses_empty_question_and_negative_start(monkeypatch):
    import datasets

    rows = {**hub_rows(), "question": [" "]}
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: datasets.Dataset.from_dict(rows))
    with pytest.raises(DataError, match=r"hf://rajpurkar/squad \[train\]:1: field 'question' is only whitespace"):
        QATask().load("hf://rajpurkar/squad", "en", split="train")
    rows = hub_rows(start=-len(CONTEXT))
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: datasets.Dataset.from_dict(rows))
    with pytest.raises(DataError, match=r"\[train\]:1: qa 'h1': answer_start -\d+ is negative"):
        QATask().load("hf://rajpurkar/squad", "en", split="train")


# ----------------------------------------------------------------------------- prompts


def example(lang: str) -> dict:
    return {"id": "x", "lang": lang, "context": "CTX", "question": "QST", "answer": "ANS", "answers": ["ANS"]}


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", ("copied", "Context: CTX", "Question: QST")), ("de", ("wörtlich", "Kontext: CTX", "Frage: QST")),
     ("ru", ("дословно", "Контекст: CTX", "Вопрос: QST")), ("th", ("คัดลอก", "บริบท: CTX", "คำถาม: QST")),
     ("zh", ("原样", "上下文：CTX", "问题：QST"))],
)  # fmt: skip
def test_instruction_in_language(lang, words):
    text = QATask().instruction(example(lang))
    assert all(w in text for w in words)
    assert text.index("CTX") < text.index("QST")


def test_target_and_unknown_language():
    assert QATask().target(example("de")) == "ANS"
    assert QATask().instruction(example("fr")).startswith(TEMPLATES["en"][0])  # English, with a warning
    task = QATask(instructions={"sw": "Jibu swali.", "fr": ["Répondez.", "Contexte", "Question"]})
    assert task.instruction(example("sw")).startswith("Jibu swali.\n\nContext: CTX")
    assert task.instruction(example("fr")).startswith("Répondez.\n\nContexte: CTX")
    with pytest.raises(ValueError, match=r"instructions\['sw'\] must be a string"):
        QATask(instructions={"sw": ["only", "two"]})


@pytest.mark.parametrize(
    ("generation", "expected"),
    [
        ("Berlin", "Berlin"),
        ("  Berlin.\n\nBecause the context says so.", "Berlin"),
        ('"3.7 million"', "3.7 million"),
        ("«Берлин».", "Берлин"),
        ("「柏林」。", "柏林"),
        ("Answer: Berlin", "Berlin"),
        ("Antwort: 'Berlin'.", "Berlin"),
        ("\n\n  the U.S. Army  \nmore", "the U.S. Army"),
        ("กรุงเบอร์ลิน", "กรุงเบอร์ลิน"),
        ("", ""),
        ("   \n  ", ""),
    ],
)
def test_parse_answer(generation, expected):
    assert QATask().parse_answer(generation, "en") == expected


# ----------------------------------------------------------------------------- real data


def test_real_xquad_de(shared_data):
    task = QATask()
    examples = task.load(str(shared_data / "xquad" / "xquad.de.json"), "de")
    assert len(examples) == 1190
    first = examples[0]
    assert first["id"] == "56beb4343aeaaa14008c925b" and first["answer"] == "308"
    assert all(e["answer"] in e["context"] for e in examples)
    assert "Kontext: " in task.instruction(first)


def test_real_xquad_parallel_ids(shared_data):
    ids = {
        lang: [e["id"] for e in QATask().load(str(shared_data / "xquad" / f"xquad.{lang}.json"), lang)]
        for lang in LANGS
    }
    assert all(len(v) == 1190 and v == ids["en"] for v in ids.values())


def test_passage_is_a_digest_of_the_context():
    from selftt.tasks import get_task

    qa, math = get_task("qa"), get_task("math")
    one = {"context": "Berlin ist groß.", "question": "Was?"}
    assert qa.passage_of(one) == qa.passage_of({**one, "question": "Wer?"}) != qa.passage_of({**one, "context": "Paris."})
    assert len(qa.passage_of(one)) == 16 and math.passage_of({"question": "1+1?"}) is None
