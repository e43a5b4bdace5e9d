"""The report's "What explains the gain" section (selftt/report/explain.py)."""

from __future__ import annotations

import json
from pathlib import Path

from selftt.report.main import write_report


def _run(
    root: Path, name: str, method: str, seed: int, score: float, extra: dict | None = None, predictions: str = ""
) -> None:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    result = {
        "format": 1, "stage": "fit", "method": method, "task": "qa", "model": "m", "seed": seed, "step": 10,
        "metrics": {"xquad_de": {"lang": "de", "n": 100, "f1": score, "exact_match": score / 2}},
        "primary_metric": "f1", "translation_quality": {},
        "settings": {"eval_sets": ["xquad_de:100"]}, **(extra or {}),
    }  # fmt: skip
    if predictions:
        result["metrics"]["xquad_de"]["predictions"] = predictions
    (folder / "results.json").write_text(json.dumps(result), encoding="utf-8")


def _run_with_predictions(root: Path, name: str, method: str, correct: list[bool], extra: dict | None = None) -> None:
    """A run whose predictions file scores each question 100 (right) or 0 (wrong) F1."""
    rel = "predictions/val-step10/xquad_de.jsonl"
    (root / name / "predictions" / "val-step10").mkdir(parents=True)
    records = [{"id": f"q{i}", "answer": "Berlin" if ok else "Paris", "gold": ["Berlin"]} for i, ok in enumerate(correct)]
    (root / name / rel).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    _run(root, name, method, 0, 100.0 * sum(correct) / len(correct), extra, predictions=rel)


def _row(md: str, start: str) -> list[str]:
    line = next(line for line in md.splitlines() if line.startswith(start))
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_quality_kept_share_gain_and_share_of_the_upper_bound(tmp_path):
    logs = tmp_path / "logs"
    made = {"de": {"kept": 60, "total": 80}}
    for seed, (zs, stt, human) in enumerate([(20.0, 28.0, 40.0), (22.0, 32.0, 42.0)]):
        _run(logs, f"zs{seed}", "zero-shot", seed, zs)
        quality = {"translation_quality": {"de": {"bleu": 10.0, "chrf": 40.0 + 4 * seed}}} if seed == 0 else {}
        _run(logs, f"stt{seed}", "stt", seed, stt, {"self_translation": made, **quality})
        _run(logs, f"human{seed}", "translate-train-human", seed, human)
    _run(logs, "fs", "fewshot", 0, 5.0)
    md = (write_report(logs, tmp_path / "report") / "report.md").read_text(encoding="utf-8")
    section = md.split("## What explains the gain")[1].split("\n## ")[0]
    # chrF from the one run reporting it, kept 2 x 60 of 2 x 80, gain 30 - 21 = 9, upper bound 41 - 21 = 20
    assert _row(section, "| qa | de | stt |") == ["qa", "de", "stt", "40.0", "75%", "+9.0", "+20.0", "45%"]
    assert _row(section, "| qa | de | translate-train-human |")[5:] == ["+20.0", "+20.0", "—"]
    assert _row(section, "| qa | de | translate-train-human |")[3] == "— (human)"  # not the model's chrF
    assert "| fewshot |" not in section  # no self-translated data: not a row of this section


def test_no_section_without_self_translated_runs(tmp_path):
    logs = tmp_path / "logs"
    _run(logs, "zs0", "zero-shot", 0, 20.0)
    _run(logs, "fs", "fewshot", 0, 5.0)
    md = (write_report(logs, tmp_path / "report") / "report.md").read_text(encoding="utf-8")
    assert "What explains the gain" not in md


def test_no_share_where_the_upper_bound_gains_nothing(tmp_path):
    logs = tmp_path / "logs"
    _run(logs, "zs0", "zero-shot", 0, 30.0)
    _run(logs, "stt0", "stt", 0, 33.0, {"self_translation": {"de": {"kept": 1, "total": 2}}})
    _run(logs, "human0", "translate-train-human", 0, 29.0)
    md = (write_report(logs, tmp_path / "report") / "report.md").read_text(encoding="utf-8")
    section = md.split("## What explains the gain")[1]
    assert _row(section, "| qa | de | stt |")[5:] == ["+3.0", "-1.0", "—"]


def test_no_share_of_an_upper_bound_gain_within_noise(tmp_path):
    """An upper bound 1 question of 100 above the baseline: the share would be a ratio to noise."""
    logs = tmp_path / "logs"
    made = {"self_translation": {"de": {"kept": 5, "total": 10}}}
    _run_with_predictions(logs, "zs", "zero-shot", [i < 30 for i in range(100)])
    _run_with_predictions(logs, "stt", "stt", [i < 25 for i in range(100)], made)
    _run_with_predictions(logs, "human", "translate-train-human", [i < 31 for i in range(100)])
    md = (write_report(logs, tmp_path / "report") / "report.md").read_text(encoding="utf-8")
    section = md.split("## What explains the gain")[1]
    assert _row(section, "| qa | de | stt |")[5:] == ["-5.0", "+1.0", "— (upper bound within noise)"]
    # and a clear upper-bound gain gives the share
    logs2 = tmp_path / "logs2"
    _run_with_predictions(logs2, "zs", "zero-shot", [i < 30 for i in range(100)])
    _run_with_predictions(logs2, "stt", "stt", [i < 45 for i in range(100)], made)
    _run_with_predictions(logs2, "human", "translate-train-human", [i < 60 for i in range(100)])
    md = (write_report(logs2, tmp_path / "report2") / "report.md").read_text(encoding="utf-8")
    assert _row(md.split("## What explains the gain")[1], "| qa | de | stt |")[5:] == ["+15.0", "+30.0", "50%"]
