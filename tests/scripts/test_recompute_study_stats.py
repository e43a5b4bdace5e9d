"""scripts/recompute_study_stats.py: an independent recomputation agrees with selftt's report on a small
study and catches a report whose figures were changed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from selftt.report.main import write_report

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "recompute_study_stats.py"
GOLDS = ["der rote Hund", "in Berlin", "1990", "zwei Katzen", "am Montag", "drei"] * 5
BASE = ["der Hund", "Berlin", "1990", "Katzen", "Montag", "vier"] * 5
BETTER = ["der rote Hund", "in Berlin", "1990", "zwei Katzen", "Montag", "drei"] * 5


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> tuple[Path, Path]:
    """Three seeds of zero-shot and Self-Translate-Train in the study's layout (``<run>/version_0``, raw
    generations beside the answers, passages of 3 questions), and selftt's report of them."""
    from tests.report.conftest import write_qa_run

    root = tmp_path_factory.mktemp("study")
    logs = root / "logs"
    for seed in (0, 1, 2):
        for method, answers in (("zero-shot", BASE), ("stt", BETTER)):
            varied = list(answers)
            varied[seed] = "falsch"  # seeds differ, so the seed std and Welch's t are defined
            predictions = write_qa_run(logs / f"{method}-de-s{seed}", "version_0", method, varied, GOLDS, seed, 3)
            records = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines()]
            lines = [json.dumps({**r, "generation": f"Antwort: {r['answer']}.\n"}, ensure_ascii=False) for r in records]
            predictions.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return logs, write_report(logs, root / "report")


def _recompute(logs: Path, report: Path) -> subprocess.CompletedProcess:
    args = [sys.executable, str(SCRIPT), "--logs", str(logs), "--report", str(report)]
    return subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=300)


def test_agrees_with_the_report(study):
    done = _recompute(*study)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "AGREE: 0 beyond tolerance" in done.stdout
    assert "differences: 3 checked, 0 disagree" in done.stdout and "Welch p: 1 checked, 0 disagree" in done.stdout


@pytest.mark.parametrize(
    ("field", "change"),
    [("diff", 0.5), ("p_welch", 0.05), ("q_value", 0.2)],
)
def test_catches_a_changed_figure(study, tmp_path, field, change):
    logs, report = study
    changed = tmp_path / "report"
    changed.mkdir()
    for path in report.iterdir():
        if path.is_file():
            (changed / path.name).write_bytes(path.read_bytes())
    stats = json.loads((changed / "statistics.json").read_text(encoding="utf-8"))
    stats["comparisons"]["qa/de/stt"][field] += change
    (changed / "statistics.json").write_text(json.dumps(stats), encoding="utf-8")
    done = _recompute(logs, changed)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "DISAGREE" in done.stdout


def test_finds_the_runs_under_logs_when_they_were_moved_and_refuses_a_folder_without_them(study, tmp_path):
    logs, report = study
    moved = tmp_path / "elsewhere" / "logs"
    shutil.copytree(logs, moved)
    done = _recompute(moved, report)
    assert done.returncode == 0 and "AGREE" in done.stdout, done.stdout + done.stderr
    (tmp_path / "empty").mkdir()
    done = _recompute(tmp_path / "empty", report)
    assert done.returncode == 1 and "not under" in done.stdout and "DISAGREE" in done.stdout


def test_a_missing_report_is_one_line(study, tmp_path):
    done = _recompute(study[0], tmp_path)
    assert done.returncode == 1 and "statistics.json not found" in done.stderr and "Traceback" not in done.stderr
