"""Tasks from outside selftt, end to end on the tiny model: translate, fit, validate, report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selftt.evaluation.results_schema import RESULTS_KEYS

PLUGINS = Path(__file__).resolve().parents[1] / "assets" / "plugins"
DATA = PLUGINS / "data"

TASKS = {
    # the classification task by class path, the generation task in the dict form
    "sentiment": ("mytasks.sentiment.SentimentTask", "sentiment", "accuracy"),
    "paraphrase": (
        {"class_path": "mytasks.paraphrase.ParaphraseTask", "init_args": {"instruction_text": "Say it differently."}},
        "paraphrasetask",
        "chrf",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("which", sorted(TASKS))
def test_external_task_runs_every_command(which, tmp_path, write_config, run_selftt, pythonpath_env, no_filters):
    spec, name, metric = TASKS[which]
    env = pythonpath_env(PLUGINS)
    extra = {
        "data": {
            "task": spec,
            "components": [
                {"name": "src", "path": str(DATA / f"{which}_en.jsonl"), "lang": "en", "limit": 6},
                {"name": "tgt", "lang": "de"},
            ],
            "val_holdout": 2,
        },
        "translation": {"prompt": {"n_shots": 1}, "generation": {"max_new_tokens": 6}, "filters": no_filters},
        "model": {"generation": {"max_new_tokens": 4}},
    }
    config = write_config(val_sets=[{"path": str(DATA / f"{which}_de.jsonl"), "lang": "de"}], extra=extra,
                          max_steps=2, val_check_interval=2)
    for command in ("translate", "fit", "validate"):
        result = run_selftt([command, "--config", str(config)], cwd=tmp_path, env=env)
        assert result.returncode == 0, f"{command}: {result.stderr[-3000:]}"

    (cache,) = (tmp_path / "cache").glob(f"{name}-en-de-*/dataset.jsonl")
    records = [json.loads(line) for line in cache.read_text(encoding="utf-8").splitlines()]
    fields = {"sentiment": {"text"}, "paraphrase": {"source", "paraphrase"}}[which]  # its translatable fields
    assert len(records) >= 4 and all(set(r["translation"]) == fields for r in records)
    assert all(r["kept"] == (not r["reasons"]) for r in records)  # filtered, with the task's own checks
    results = sorted((tmp_path / "logs").glob("run/version_*/results.json"))
    assert len(results) == 2  # fit, then validate
    for path in results:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["task"] == name and data["primary_metric"] == metric
        assert set(data) == set(RESULTS_KEYS)  # the writer follows the one schema the report reads
        assert 0.0 <= data["metrics"]["sentiment_de" if which == "sentiment" else "paraphrase_de"][metric] <= 100.0

    out = tmp_path / "report"
    result = run_selftt(["report", "--logs", str(tmp_path / "logs"), "--out", str(out)], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"## {name}" in (out / "report.md").read_text(encoding="utf-8").lower()
