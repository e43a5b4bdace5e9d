"""In-context examples of an evaluation set (``EvalSet.fewshot`` / ``fewshot_path``): MGSM-style
exemplars keep their worked reasoning in the shots (issue 10.3)."""

from __future__ import annotations

import json
import re

import pytest

from selftt.datamodules.components import DataComponent, EvalSet, check_components
from selftt.datamodules.eval_sets import load_eval_sets
from selftt.errors import ConfigError
from selftt.tasks import MathTask

SHOTS = {
    "en": (
        "Question: Roger has 5 balls and buys 6 more. How many?",
        "Step-by-Step Answer: He has 5 + 6 = 11 balls. The answer is 11.",
        "He has 5 + 6 = 11 balls.",
    ),  # noqa: E501
    "de": (
        "Frage: Roger hat 5 Bälle und kauft 6 dazu. Wie viele?",
        "Schritt-für-Schritt-Antwort: Er hat 5 + 6 = 11 Bälle. Die Antwort lautet 11.",
        "Er hat 5 + 6 = 11 Bälle.",
    ),  # noqa: E501
    "ru": (
        "Задача: У Роджера 5 мячей, он купил ещё 6. Сколько?",
        "Пошаговоерешение: У него 5 + 6 = 11 мячей. Ответ: 11.",
        "У него 5 + 6 = 11 мячей.",
    ),  # noqa: E501
    "th": (
        "โจทย์: โรเจอร์มีลูกบอล 5 ลูก ซื้อเพิ่ม 6 ลูก มีกี่ลูก",
        "คำตอบทีละขั้นตอน: เขามี 5 + 6 = 11 ลูก คำตอบคือ 11",
        "เขามี 5 + 6 = 11 ลูก",
    ),  # noqa: E501
    "zh": (
        "问题：罗杰有 5 个球，又买了 6 个。一共有多少个？",
        "逐步解答：他有 5 + 6 = 11 个球。答案是 11。",
        "他有 5 + 6 = 11 个球。",
    ),
}


@pytest.fixture
def mgsm_set(tmp_path):
    path = tmp_path / "mgsm.tsv"
    path.write_text("Wie viele?\t18\nUnd jetzt?\t3\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("lang", list(SHOTS))
def test_fewshot_path_shots_keep_the_reasoning(tmp_path, mgsm_set, lang):
    question, answer, reasoning = SHOTS[lang]
    shots_path = tmp_path / "exemplars.jsonl"
    row = {"question": question, "answer": answer, "answer_number": 11}
    shots_path.write_text((json.dumps(row, ensure_ascii=False) + "\n") * 2, encoding="utf-8")
    task = MathTask()
    eval_set = EvalSet(path=str(mgsm_set), lang=lang, fewshot=2, fewshot_path=str(shots_path))
    (loaded,) = load_eval_sets(task, [eval_set], "data.val_sets", [])
    assert len(loaded.shots) == 2 and len(loaded.examples) == 2
    target = task.target(loaded.shots[0])
    assert target.startswith(reasoning + "\n")
    assert task.parse_answer(target, lang) == "11"


def test_hub_fewshot_path_reads_the_train_split(monkeypatch, mgsm_set):
    import datasets

    question, answer, reasoning = SHOTS["de"]
    table = datasets.Dataset.from_dict({"question": [question], "answer": [answer], "answer_number": [11]})
    asked = []

    def load_dataset(name, config=None, split=None):
        asked.append((name, config, split))
        return table

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    eval_set = EvalSet(path=str(mgsm_set), lang="de", fewshot=1, fewshot_path="hf://juletxara/mgsm:de")
    (loaded,) = load_eval_sets(MathTask(), [eval_set], "data.val_sets", [])
    assert asked == [("juletxara/mgsm", "de", "train")]
    assert loaded.shots[0]["answer"] == reasoning


@pytest.mark.parametrize("limit", [0, -1])
@pytest.mark.parametrize("key", ["data.val_sets", "data.test_sets"])
def test_limit_below_one_is_refused_naming_the_key(mgsm_set, limit, key):
    """``limit: 0`` used to score every example (and -1 all but the last): refused (issue 13)."""
    good = EvalSet(path=str(mgsm_set), lang="de")
    bad = EvalSet(path=str(mgsm_set), lang="de", name="second", limit=limit)
    with pytest.raises(ConfigError, match=re.escape(f"config key '{key}[1].limit': must be >= 1")):
        load_eval_sets(MathTask(), [good, bad], key, [])


def test_limit_one_and_null(mgsm_set):
    sets = [EvalSet(path=str(mgsm_set), lang="de", limit=1), EvalSet(path=str(mgsm_set), lang="de", name="all")]
    one, everything = load_eval_sets(MathTask(), sets, "data.val_sets", [])
    assert len(one.examples) == 1 and len(everything.examples) == 2


@pytest.mark.parametrize("limit", [0, -3])
def test_component_limit_below_one_is_refused(limit):
    with pytest.raises(ConfigError, match=re.escape("config key 'data.components[0].limit': must be >= 1")):
        check_components([DataComponent(path="x.jsonl", limit=limit)])
