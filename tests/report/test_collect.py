"""selftt.report.collect: which results.json files count as runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from selftt.report.collect import collect


def _run(root: Path, folder: str, seed: int, f1: float) -> Path:
    """A finished QA run that recorded ``run_dir`` ``logs/zs/version_0``, wherever it now lies."""
    path = root / folder / "version_0" / "results.json"
    path.parent.mkdir(parents=True)
    result = {
        "format": 1, "stage": "fit", "method": "zero-shot", "task": "qa", "model": "m", "seed": seed, "step": 1,
        "run_dir": "logs/zs/version_0", "primary_metric": "f1", "translation_quality": {}, "settings": {},
        "metrics": {"xquad_de": {"lang": "de", "n": 10, "f1": f1, "exact_match": f1}},
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
    assert not any("kept the newest" in note for note in collection.notes)


def test_a_copy_of_one_run_counts_once_and_is_named(tmp_path):
    first = _run(tmp_path, "zs", 0, 20.0)
    shutil.copytree(first.parent.parent, tmp_path / "zs_backup")
    collection = collect(tmp_path)
    assert _seeds(collection) == [0]
    assert any("has 2 results.json" in note and "kept the newest" in note for note in collection.notes)
