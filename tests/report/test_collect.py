"""selftt.report.collect: which results.json files count as runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from selftt.report.collect import NoResultsError, collect


def _run(root: Path, folder: str, seed: int, f1: float, **extra) -> Path:
    """A finished QA run that recorded ``run_dir`` ``logs/zs/version_0``, wherever it now lies."""
    path = root / folder / "version_0" / "results.json"
    path.parent.mkdir(parents=True)
    result = {
        "format": 1, "stage": "fit", "method": "zero-shot", "task": "qa", "model": "m", "seed": seed, "step": 1,
        "run_dir": "logs/zs/version_0", "primary_metric": "f1", "translation_quality": {}, "settings": {},
        "metrics": {"xquad_de": {"lang": "de", "n": 10, "f1": f1, "exact_match": f1}}, **extra,
    }  # fmt: skip
    path.write_text(json.dumps(result), encoding="utf-8")
    return path


def _seeds(collection) -> list:
    (cell,) = collection.cells.values()
    return [e.run.seed for e in cell.entries]


def test_runs_that_recorded_the_same_run_dir_on_two_machines_are_all_kept(tmp_path):
    for seed in (0, 1, 2):
        _run(tmp_path, f"machine{seed}", seed, 20.0 + seed)
    collection = collect(tmp_path)
    assert _seeds(collection) == [0, 1, 2]
    assert not any("results.json (" in note for note in collection.notes)


def test_a_copy_of_one_run_counts_once_and_the_original_is_kept(tmp_path):
    logs = tmp_path / "logs"
    first = _run(logs, "zs", 0, 20.0)  # where it recorded itself: logs/zs/version_0
    shutil.copytree(first.parent.parent, logs / "zs_backup")  # a later copy: newer, elsewhere
    (logs / "zs_backup" / "version_0" / "results.json").touch()
    collection = collect(logs)
    assert _seeds(collection) == [0]
    (cell,) = collection.cells.values()
    assert cell.entries[0].run.path == first
    assert any("has 2 results.json" in note and f"kept `{first}`" in note for note in collection.notes)


def test_of_copies_the_one_with_its_predictions_is_kept(tmp_path):
    logs = tmp_path / "logs"
    first = _run(logs, "zs", 0, 20.0)
    shutil.copytree(first.parent.parent, logs / "zs_backup")
    copy = logs / "zs_backup" / "version_0" / "results.json"
    data = json.loads(copy.read_text(encoding="utf-8"))
    data["metrics"]["xquad_de"]["predictions"] = "predictions/xquad_de.jsonl"
    copy.write_text(json.dumps(data), encoding="utf-8")
    (copy.parent / "predictions").mkdir()
    (copy.parent / "predictions" / "xquad_de.jsonl").write_text("", encoding="utf-8")
    (cell,) = collect(logs).cells.values()
    assert cell.entries[0].run.path == copy  # the original's predictions are gone


def test_run_folders_without_results_are_noted_not_counted(tmp_path):
    _run(tmp_path, "zs", 0, 20.0)
    (tmp_path / "zs" / "version_0" / "config.yaml").write_text("seed_everything: 0\n", encoding="utf-8")
    for name in ("stopped", "failed"):
        (tmp_path / name / "version_0").mkdir(parents=True)
        (tmp_path / name / "version_0" / "config.yaml").write_text("seed_everything: 0\n", encoding="utf-8")
    collection = collect(tmp_path)
    assert _seeds(collection) == [0]
    (note,) = [n for n in collection.notes if "no results.json" in n]
    assert note.startswith("2 run folder(s)") and "failed/version_0" in note and "stopped/version_0" in note
    assert "zs/version_0" not in note


@pytest.mark.parametrize(("make", "says"), [(None, "does not exist"), ("file", "is not a folder")])
def test_a_logs_path_that_is_not_a_folder_says_so(tmp_path, make, says):
    path = tmp_path / "logs"
    if make == "file":
        path.write_text("", encoding="utf-8")
    with pytest.raises(NoResultsError, match=f"{path} {says}"):
        collect(path)


def test_a_self_translate_train_run_whose_filters_kept_nothing_is_noted(tmp_path):
    kept = {"de": {"kept": 12, "total": 40}}
    _run(tmp_path, "a", 0, 20.0, method="stt", run_dir="logs/a/version_0", self_translation=kept)
    empty = {"de": {"kept": 0, "total": 40}}
    _run(tmp_path, "b", 1, 21.0, method="stt", run_dir="logs/b/version_0", self_translation=empty)
    notes = [n for n in collect(tmp_path).notes if "kept 0 of" in n]
    assert notes == [
        "`logs/b/version_0` (qa/stt seed 1) kept 0 of 40 self-translated examples in de: it trained "
        "without them, so its cells do not measure stt."
    ]


def test_language_codes_keep_their_canonical_case(tmp_path):
    path = _run(tmp_path, "a", 0, 20.0, source_lang="EN-us", self_translation={"de_de": {"kept": 3, "total": 4}})
    data = json.loads(path.read_text(encoding="utf-8"))
    data["metrics"] = {"xquad_de": {"lang": "DE-de", "n": 10, "f1": 20.0, "exact_match": 20.0}}
    path.write_text(json.dumps(data), encoding="utf-8")
    (run,) = collect(tmp_path).runs
    assert ([s.lang for s in run.scores], run.source_lang, list(run.self_translation)) == (["de-DE"], "en-US", ["de-DE"])
