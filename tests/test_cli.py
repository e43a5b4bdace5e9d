"""The command line as a user runs it: configs, fit, resume, DDP, and errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from selftt.cli import cli_main

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "configs").rglob("*.yaml"))


@pytest.mark.parametrize("config", CONFIGS, ids=[str(c.relative_to(REPO)) for c in CONFIGS])
def test_every_config_parses_and_builds(config, monkeypatch):
    monkeypatch.chdir(REPO)
    cli = cli_main(["--config", str(config)], run=False)
    assert cli.model.model_name_or_path
    assert cli.datamodule.task is not None


def test_help_documents_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["fit", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--model.quantization", "--model.lora.r", "--data.components", "--data.batch_size"):
        assert option in out
    assert "Global batch size per optimizer step" in out


def _write_config(tmp_path: Path, tiny_model: str, math_file: Path, val_sets=(), **trainer) -> Path:
    config = {
        "seed_everything": 0,
        "trainer": {
            "accelerator": "cpu",
            "devices": 1,
            "max_steps": 4,
            "val_check_interval": 2,
            "check_val_every_n_epoch": None,
            "log_every_n_steps": 1,
            "num_sanity_val_steps": 0,
            "enable_model_summary": False,
            "logger": {
                "class_path": "lightning.pytorch.loggers.TensorBoardLogger",
                "init_args": {"save_dir": str(tmp_path / "logs"), "name": "run"},
            },
            **trainer,
        },
        "model": {
            "model_name_or_path": tiny_model,
            "quantization": "none",
            "lora": {"r": 4, "alpha": 8, "dropout": 0.0},
            "generation": {"max_new_tokens": 8},
            "optimizer": {"class_path": "torch.optim.AdamW", "init_args": {"lr": 0.01}},
        },
        "data": {
            "task": "math",
            "components": [{"name": "src", "path": str(math_file), "lang": "en"}],
            "val_holdout": 4,
            "val_sets": list(val_sets),
            "batch_size": 4,
            "max_length": 256,
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _run(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "selftt", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _ckpt_step(path: Path) -> int:
    return torch.load(path, weights_only=True)["global_step"]


@pytest.mark.slow
def test_fit_writes_tensorboard_checkpoint_and_adapter_then_resumes(tmp_path, tiny_model, math_file):
    from peft import PeftModel
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from transformers import AutoModelForCausalLM

    config = _write_config(tmp_path, tiny_model, math_file)
    result = _run(["fit", "--config", str(config)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "logs" / "run" / "version_0"
    last = run / "checkpoints" / "last.ckpt"
    assert _ckpt_step(last) == 4
    events = EventAccumulator(str(run)).Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "val/loss", "val/heldout_en/loss"} <= tags
    assert any(tag.startswith("lr-") for tag in tags)
    assert (run / "hparams.yaml").exists() and (run / "config.yaml").exists()
    adapter = run / "adapter"
    assert (adapter / "selftt_prompt.json").exists()
    PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), adapter)

    resumed = _run(
        ["fit", "--config", str(config), "--ckpt_path", str(last), "--trainer.max_steps", "6"], cwd=tmp_path
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Restoring states from the checkpoint" in resumed.stdout + resumed.stderr
    assert _ckpt_step(tmp_path / "logs" / "run" / "version_1" / "checkpoints" / "last.ckpt") == 6


@pytest.mark.slow
def test_two_process_ddp_fit_ends_with_identical_adapters(tmp_path, tiny_model, math_file):
    config = _write_config(tmp_path, tiny_model, math_file, strategy="ddp", devices=2)
    result = _run(["fit", "--config", str(config)], cwd=tmp_path, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "all 2 ranks hold identical adapters" in output
    # batch_size 4 over 2 devices: 2 examples per device per step, 20 train examples -> 5 steps/epoch
    assert _ckpt_step(tmp_path / "logs" / "run" / "version_0" / "checkpoints" / "last.ckpt") == 4


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (["--model.model_name_or_path", "./no/such/model"], "config key 'model.model_name_or_path'"),
        (["--data.task", "poetry"], "config key 'data.task': unknown task 'poetry'"),
        (["--data.batch_size", "0"], "config key 'data.batch_size': must be >= 1"),
    ],
)
def test_bad_config_values_end_with_one_readable_line(tmp_path, tiny_model, math_file, override, expected):
    config = _write_config(tmp_path, tiny_model, math_file)
    result = _run(["fit", "--config", str(config), *override], cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "logs").exists(), "nothing may be written before the config is valid"


def test_unknown_quantization_is_rejected_by_the_parser(tmp_path, tiny_model, math_file):
    config = _write_config(tmp_path, tiny_model, math_file)
    result = _run(["fit", "--config", str(config), "--model.quantization", "3bit"], cwd=tmp_path)
    assert result.returncode != 0
    assert "quantization" in result.stderr and "3bit" in result.stderr


@pytest.mark.slow
def test_test_and_predict_use_the_exported_adapter(tmp_path, tiny_model, math_file, mgsm_file):
    import json

    config = _write_config(tmp_path, tiny_model, math_file, val_sets=[{"path": str(mgsm_file), "lang": "de"}])
    assert _run(["fit", "--config", str(config), "--trainer.max_steps", "2"], cwd=tmp_path).returncode == 0
    adapter = tmp_path / "logs" / "run" / "version_0" / "adapter"

    tested = _run(["test", "--config", str(config), "--model.adapter_path", str(adapter)], cwd=tmp_path)
    assert tested.returncode == 0, tested.stderr[-3000:]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "logs" / "run" / "version_1")).Reload()
    assert {"test/mgsm_de/loss", "test/loss"} <= set(events.Tags()["scalars"])

    predicted = _run(["predict", "--config", str(config), "--model.adapter_path", str(adapter)], cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    path = tmp_path / "logs" / "run" / "version_2" / "predictions" / "predictions.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["id"] for r in records) == sorted(f"mgsm_de-{i}" for i in range(1, 6))
    assert all(r["set"] == "mgsm_de" and r["prompt"] and isinstance(r["generation"], str) for r in records)
