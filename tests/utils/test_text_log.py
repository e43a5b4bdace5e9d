"""Samples as Markdown text go to every logger that can hold text; others are skipped, not broken."""

from __future__ import annotations

import csv

from lightning.pytorch.loggers import CSVLogger, MLFlowLogger, TensorBoardLogger, WandbLogger

from selftt.utils.text_log import log_markdown


class _FakeMLflowClient:
    def __init__(self):
        self.texts = []

    def log_text(self, run_id, text, artifact_file):
        self.texts.append((run_id, text, artifact_file))


class _MLflow(MLFlowLogger):  # no mlflow installed here: only the calls selftt makes
    def __init__(self):
        self.client = _FakeMLflowClient()

    @property
    def experiment(self):
        return self.client

    @property
    def run_id(self):
        return "run-1"


class _Wandb(WandbLogger):  # no wandb installed here: only the calls selftt makes
    def __init__(self):
        self.tables = []

    def log_text(self, key, columns=None, data=None, dataframe=None, step=None):
        self.tables.append((key, columns, data, step))


def test_markdown_goes_to_text_loggers_and_skips_metric_only_ones(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tensorboard = TensorBoardLogger(tmp_path / "tb", name="run")
    mlflow, wandb = _MLflow(), _Wandb()
    csv_logger = CSVLogger(tmp_path / "csv", name="run")
    text = "| id | kept |\n|---|---|\n| 1 | True |"
    took = log_markdown([tensorboard, csv_logger, mlflow, wandb], "translation/de/samples", text, step=3)
    assert took == 3
    assert mlflow.client.texts == [("run-1", text, "translation/de/samples/step_3.md")]
    assert wandb.tables == [("translation/de/samples", ["markdown"], [[text]], 3)]
    tensorboard.experiment.flush()
    events = EventAccumulator(tensorboard.log_dir).Reload()
    assert "translation/de/samples/text_summary" in events.Tags()["tensors"]
    assert log_markdown([csv_logger], "x", text, step=0) == 0


def test_fit_with_a_csv_logger_translates_evaluates_and_logs_metrics(tmp_path, write_config, mgsm_file, run_selftt, no_filters):
    extra = {
        "data": {"components": [{"name": "src", "path": str(tmp_path / "math_train.jsonl"), "lang": "en"},
                                {"name": "tgt", "lang": "de"}]},
        "translation": {"prompt": {"n_shots": 2}, "generation": {"max_new_tokens": 8}, "filters": no_filters},
        "trainer": {"logger": {"class_path": "lightning.pytorch.loggers.CSVLogger",
                               "init_args": {"save_dir": str(tmp_path / "logs"), "name": "run"}}},
    }  # fmt: skip
    config = write_config(val_sets=[{"path": str(mgsm_file), "lang": "de"}], extra=extra)
    done = run_selftt(["fit", "--config", str(config)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    with (tmp_path / "logs" / "run" / "version_0" / "metrics.csv").open(encoding="utf-8") as f:
        columns = set(next(csv.reader(f)))
    assert {"translation/de/kept", "train/loss"} <= columns
    assert any(c.startswith("val/math/de") for c in columns), sorted(columns)
