"""A checkpoint written before the code was laid out by stage (commit 8c85383, selftt/callbacks/
still there) resumes: tests/assets/checkpoints/before-issue-11/step2.ckpt is a 2-step fit of
config.yaml (with max_steps 2) by that commit, on the tiny model and the suite's own data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

ASSETS = Path(__file__).resolve().parents[1] / "assets"
OLD = ASSETS / "checkpoints" / "before-issue-11"


@pytest.mark.slow
def test_a_checkpoint_written_before_the_stage_layout_resumes(tmp_path: Path, run_selftt, write_math, mgsm_file):
    (tmp_path / "tiny-llama").symlink_to(ASSETS / "tiny-llama", target_is_directory=True)
    write_math(tmp_path / "train.jsonl", 24)
    assert mgsm_file == tmp_path / "mgsm_de.tsv"
    shutil.copy(OLD / "config.yaml", tmp_path / "config.yaml")
    shutil.copy(OLD / "step2.ckpt", tmp_path / "step2.ckpt")

    result = run_selftt(["fit", "--config", "config.yaml", "--ckpt_path", "step2.ckpt"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Restored all states from the checkpoint" in result.stdout + result.stderr
    last = next((tmp_path / "logs").rglob("last.ckpt"))
    assert torch.load(last, weights_only=True)["global_step"] == 4
