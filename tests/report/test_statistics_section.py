"""The report's statistics section on predictions that disagree with their runs or cannot be
scored: one line naming the file, never statistics on other questions or another run's answers."""

from __future__ import annotations

import json

import pytest

from selftt.report.main import report_main, write_report

GOLDS = ["der rote Hund", "in Berlin", "1990", "zwei Katzen", "am Montag", "drei"] * 5
BASE = ["der Hund", "Berlin", "1990", "Katzen", "Montag", "drei"] * 5
BETTER = ["der rote Hund", "in Berlin", "1990", "zwei Katzen", "Montag", "drei"] * 5


@pytest.fixture
def logs(tmp_path, qa_run):
    root = tmp_path / "logs"
    for seed in (0, 1):
        qa_run(root, f"zs{seed}", "zero-shot", BASE, GOLDS, seed=seed, per_passage=3)
        qa_run(root, f"stt{seed}", "stt", BETTER, GOLDS, seed=seed, per_passage=3)
    return root


def _lines(path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write(path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _stats(logs, tmp_path) -> dict:
    return json.loads((write_report(logs, tmp_path / "out") / "statistics.json").read_text(encoding="utf-8"))


def test_clean_runs_have_every_statistic(logs, tmp_path):
    stats = _stats(logs, tmp_path)
    assert stats["problems"] == []
    assert stats["cells"]["qa/de/stt"]["n_passages"] == 10 and stats["comparisons"]["qa/de/stt"]["diff"] > 0


@pytest.mark.parametrize(
    ("corrupt", "expected"),
    [
        (lambda lines: lines[:12], "12 predictions, but results.json says n = 30"),
        (lambda lines: lines + [lines[0]], "xquad_de.jsonl:31: id 'q0' again (first on line 1)"),
        (lambda lines: [], "no predictions (the file is empty)"),
        (lambda lines: [lines[0].replace('"answer": "der rote Hund"', '"answer": 42')] + lines[1:],
         "question 'q0': answer or gold cannot be scored"),
        (lambda lines: [lines[0].replace('"gold": ["der rote Hund"]', '"gold": null')] + lines[1:],
         "question 'q0': answer or gold cannot be scored"),
        (lambda lines: [lines[0].replace('"answer": "der rote Hund"', '"answer": "Katze"')] + lines[1:],
         "the predictions give f1 "),
    ],
)  # fmt: skip
def test_predictions_that_disagree_or_cannot_be_scored_are_named(logs, tmp_path, corrupt, expected):
    path = logs / "stt0" / "predictions" / "xquad_de.jsonl"
    _write(path, corrupt(_lines(path)))
    stats = _stats(logs, tmp_path)
    assert "qa/de/stt" not in stats["cells"] and "qa/de/stt" not in stats["comparisons"]
    (problem,) = stats["problems"]
    assert expected in problem and str(path) in problem
    assert "qa/de/zero-shot" in stats["cells"]  # the other cells keep their statistics


def test_seeds_on_different_questions_get_no_statistics(logs, tmp_path):
    path = logs / "stt1" / "predictions" / "xquad_de.jsonl"
    _write(path, [line.replace('"id": "q1"', '"id": "other"') for line in _lines(path)])
    (problem,) = _stats(logs, tmp_path)["problems"]
    assert "its seeds answered different questions: 29 in common of 30, 30" in problem


def test_a_record_without_its_passage_is_named_and_only_the_by_passage_part_goes(logs, tmp_path):
    path = logs / "stt1" / "predictions" / "xquad_de.jsonl"
    lines = _lines(path)
    record = json.loads(lines[4])
    del record["passage"]
    _write(path, lines[:4] + [json.dumps(record, ensure_ascii=False)] + lines[5:])
    stats = _stats(logs, tmp_path)
    (problem,) = stats["problems"]
    assert "no by-passage statistics" in problem and "1 of 30 records have no 'passage', first id 'q4'" in problem
    assert stats["cells"]["qa/de/stt"]["ci_passage"] is None and stats["comparisons"]["qa/de/stt"]["p_passage"] is None


@pytest.mark.parametrize("rel", ["../../zs0/predictions/xquad_de.jsonl", "/etc/hostname", 42])
def test_a_predictions_path_must_stay_in_its_run_folder(logs, tmp_path, rel):
    results = logs / "stt0" / "results.json"
    data = json.loads(results.read_text(encoding="utf-8"))
    data["metrics"]["xquad_de"]["predictions"] = rel
    results.write_text(json.dumps(data), encoding="utf-8")
    (problem,) = _stats(logs, tmp_path)["problems"]
    assert "'metrics.xquad_de.predictions' must" in problem and str(results) in problem


def test_report_command_names_problems_and_refuses_options_that_name_nothing(logs, tmp_path, capsys):
    path = logs / "stt0" / "predictions" / "xquad_de.jsonl"
    _write(path, _lines(path)[:5])
    assert report_main(["--logs", str(logs), "--out", str(tmp_path / "a")]) == 0
    assert "1 cell(s) without full statistics" in capsys.readouterr().err
    assert report_main(["--logs", str(logs), "--out", str(tmp_path / "b"), "--baseline", "nope"]) == 2
    assert "--baseline 'nope': no run has this method; the methods: zero-shot, stt" in capsys.readouterr().err
    assert report_main(["--logs", str(logs), "--out", str(tmp_path / "c"), "--metric", "n"]) == 2
    assert "--metric must name a metric" in capsys.readouterr().err
    assert report_main(["--logs", str(logs), "--out", str(tmp_path / "d"), "--stage", "test"]) == 2
    err = capsys.readouterr().err
    assert "no results.json of stage 'test'" in err and "found 4 of stage fit" in err


def test_a_cell_where_every_question_scored_the_same_is_named(tmp_path, qa_run):
    root = tmp_path / "logs"
    qa_run(root, "zs0", "zero-shot", ["falsch"] * 30, GOLDS)
    md = (write_report(root, tmp_path / "out") / "report.md").read_text(encoding="utf-8")
    assert "Cells whose questions all scored the same (qa/de/zero-shot)" in md
