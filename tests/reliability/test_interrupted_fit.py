"""``fit`` killed with SIGKILL mid-epoch resumes from its last checkpoint to exactly the end state of
an uninterrupted run (default LoRA dropout: training draws random numbers); a NaN loss stops the
run and keeps the last good checkpoint."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import torch

from selftt.modules import LoraSettings

FAULTS = str(Path(__file__).resolve().parent)
MAX_STEPS = 8


@pytest.fixture
def fit(tmp_path, run_selftt, pythonpath_env):
    """``python -m selftt fit --config CONFIG ARGS`` in ``tmp_path``, the fault callbacks importable."""

    def run(config: Path, *args: str):
        return run_selftt(["fit", "--config", str(config), *args], cwd=tmp_path, env=pythonpath_env(FAULTS))

    return run


def _config(write_config, name: str, fault: dict | None = None) -> Path:
    callbacks = [{"class_path": "faults.FailAt", "init_args": fault}] if fault else []
    return write_config(
        max_steps=MAX_STEPS,
        val_check_interval=100,
        callbacks=callbacks,
        filename=f"{name}.yaml",
        extra={
            "trainer": {"logger": {"init_args": {"name": name}}},
            "checkpoint": {"every_n_train_steps": 2},
            "model": {"lora": {"dropout": LoraSettings().dropout}},
        },
    )


def _checkpoint(path: Path) -> dict:
    return torch.load(path, weights_only=True, map_location="cpu")


def _assert_same_training_state(a: dict, b: dict) -> None:
    """Bit for bit: the adapter, the optimizer state and training's random state."""
    assert a["global_step"] == b["global_step"]
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), f"{key}: {(value - b['state_dict'][key]).abs().max()}"
    opt_a, opt_b = a["optimizer_states"][0]["state"], b["optimizer_states"][0]["state"]
    assert opt_a.keys() == opt_b.keys()
    for index, state in opt_a.items():
        for name, value in state.items():
            assert torch.equal(value, opt_b[index][name]), f"{index}.{name}"
    rng_a, rng_b = (c["callbacks"]["TrainingRNGState"]["per_rank"][0] for c in (a, b))
    assert torch.equal(rng_a["torch"], rng_b["torch"])


_REFERENCE: dict[str, dict] = {}


def _uninterrupted_end_state(fit, write_config, tmp_path: Path) -> dict:
    """The last checkpoint of a run never killed (same model, data and seed in every test: run once)."""
    if "state" not in _REFERENCE:
        reference = fit(_config(write_config, "reference"))
        assert reference.returncode == 0, reference.stderr[-3000:]
        state = _checkpoint(tmp_path / "logs" / "reference" / "version_0" / "checkpoints" / "last.ckpt")
        assert state["global_step"] == MAX_STEPS
        _REFERENCE["state"] = state
    return _REFERENCE["state"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "last_good_step"),
    [
        ({"step": 3, "how": "kill"}, 2),  # between checkpoints
        ({"step": 4, "how": "kill_in_save"}, 2),  # while the step-4 checkpoint is being written
        ({"step": 7, "how": "kill"}, 6),  # late in the run
    ],
    ids=["between-checkpoints", "during-checkpoint-save", "late"],
)
def test_fit_killed_mid_epoch_resumes_to_the_uninterrupted_end_state(
    tmp_path, write_config, fit, fault, last_good_step
):
    expected = _uninterrupted_end_state(fit, write_config, tmp_path)

    config = _config(write_config, "killed", fault)
    killed = fit(config)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    checkpoints = tmp_path / "logs" / "killed" / "version_0" / "checkpoints"
    last = checkpoints / "last.ckpt"
    left = _checkpoint(last)  # loads cleanly: never a truncated file
    assert left["global_step"] == last_good_step
    assert not [p for p in checkpoints.iterdir() if p.name.endswith(".ckpt") and p.stat().st_size == 0]

    resumed = fit(_config(write_config, "killed"), "--ckpt_path", str(last))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Restoring states from the checkpoint" in resumed.stdout + resumed.stderr
    final = _checkpoint(tmp_path / "logs" / "killed" / "version_1" / "checkpoints" / "last.ckpt")
    _assert_same_training_state(final, expected)


@pytest.mark.slow
def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, write_config, fit):
    result = fit(_config(write_config, "nan", {"step": 3, "how": "nan"}))
    assert result.returncode == 2, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("selftt: error")]
    assert len(lines) == 1, result.stderr[-3000:]
    assert "training loss is NaN at global step 3" in lines[0]
    run = tmp_path / "logs" / "nan" / "version_0"
    last = run / "checkpoints" / "last.ckpt"
    assert f"the last good checkpoint is {last}" in lines[0]
    kept = _checkpoint(last)
    assert kept["global_step"] == 2
    assert all(torch.isfinite(v).all() for v in kept["state_dict"].values())
    assert "Traceback" not in result.stderr
    assert not (run / "adapter").exists(), "no adapter may be exported from a failed run"
