"""scripts/add_prediction_passages.py: older predictions get the passage evaluation records today."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from selftt.tasks import get_task

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("add_prediction_passages", REPO / "scripts" / "add_prediction_passages.py")
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)

CONTEXTS = ["Berlin ist die Hauptstadt.", "Paris liegt an der Seine."]


def _setup(tmp_path: Path, gold_of_last: list[str] | None = None) -> Path:
    paragraphs = [
        {"context": c, "qas": [{"id": f"p{p}q{q}", "question": f"F{q}?", "answers": [{"text": c.split()[q], "answer_start": c.index(c.split()[q])}]}
                               for q in range(2)]}
        for p, c in enumerate(CONTEXTS)
    ]  # fmt: skip
    (tmp_path / "eval_de.json").write_text(json.dumps({"data": [{"title": "t", "paragraphs": paragraphs}]}), encoding="utf-8")
    run = tmp_path / "logs" / "stt-de-s0" / "version_0"
    (run / "predictions" / "val-step3").mkdir(parents=True)
    records = [
        {"id": f"p{p}q{q}", "answer": "x", "gold": [CONTEXTS[p].split()[q]], "correct": False}
        for p in range(2) for q in range(2)
    ]  # fmt: skip
    if gold_of_last is not None:
        records[-1]["gold"] = gold_of_last
    path = run / "predictions" / "val-step3" / "xquad_de.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    metrics = {"xquad_de": {"lang": "de", "n": 4, "f1": 0.0, "predictions": "predictions/val-step3/xquad_de.jsonl"}}
    (run / "results.json").write_text(json.dumps({"task": "qa", "metrics": metrics}), encoding="utf-8")
    return path


def test_passages_are_added_as_evaluation_records_them(tmp_path, capsys):
    path = _setup(tmp_path)
    assert script.main(["--logs", str(tmp_path / "logs"), "--data", str(tmp_path / "eval_{lang}.json")]) == 0
    records = [json.loads(line) for line in path.open(encoding="utf-8")]
    qa = get_task("qa")
    assert [r["passage"] for r in records] == [qa.passage_of({"context": CONTEXTS[p]}) for p in (0, 0, 1, 1)]
    assert script.main(["--logs", str(tmp_path / "logs"), "--data", str(tmp_path / "eval_{lang}.json")]) == 0
    assert "0 records given a passage" in capsys.readouterr().out  # a second run changes nothing


def test_a_question_that_does_not_match_the_data_stops_it_unchanged(tmp_path, capsys):
    path = _setup(tmp_path, gold_of_last=["Rom"])
    before = path.read_bytes()
    assert script.main(["--logs", str(tmp_path / "logs"), "--data", str(tmp_path / "eval_{lang}.json")]) == 2
    assert f"{path}:4: question 'p1q1' has another gold answer there" in capsys.readouterr().err
    assert path.read_bytes() == before
