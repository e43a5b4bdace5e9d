"""Smoke runs of the benchmark scripts on the tiny model: they run and write the expected JSON."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "tests" / "assets" / "tiny-llama"


def run_script(name: str, *args: str, out: Path) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, str(REPO / "benchmarks" / name), "--model", str(TINY), "--threads", "1"]
    proc = subprocess.run(
        [*cmd, *args, "--out", str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    stem = Path(name).stem
    markdown = (out / f"{stem}.md").read_text(encoding="utf-8")
    assert "OMP_NUM_THREADS=1" in markdown and ("PASS" in markdown or "MISS" in markdown)
    return json.loads((out / f"{stem}.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_generation_benchmark_smoke(tmp_path):
    result = run_script("generation.py", "-n", "3", "--max-new-tokens", "4", out=tmp_path)
    assert result["benchmark"] == "generation"
    assert result["environment"]["omp_num_threads"] == 1
    assert result["settings"]["num_prompts"] == 3
    assert set(result["methods"]) == {"selftt", "per_example", "hf_batched"}
    for method in result["methods"].values():
        for key in (
            "wall_s",
            "generated_tokens",
            "tokens_per_s",
            "speedup_vs_per_example",
            "speedup_vs_hf_batched",
            "identical_to_per_example",
            "batch_sizes",
        ):
            assert key in method
        assert method["wall_s"] > 0 and method["generated_tokens"] > 0
        assert 0.0 <= method["identical_to_per_example"] <= 1.0
    assert result["methods"]["per_example"]["identical_to_per_example"] == 1.0
    assert set(result["targets"]) == {"selftt_vs_per_example", "selftt_vs_hf_batched"}
    assert all(isinstance(t["pass"], bool) for t in result["targets"].values())
    assert len(result["outputs"]) == 3


@pytest.mark.slow
def test_training_benchmark_smoke(tmp_path):
    result = run_script("training.py", "--steps", "2", "--no-grouped", out=tmp_path)
    assert result["benchmark"] == "training"
    assert result["environment"]["omp_num_threads"] == 1
    assert set(result["paths"]) == {"selftt", "hf"}
    for path in result["paths"].values():
        for key in (
            "steps",
            "nonpad_tokens",
            "tokens_per_s",
            "peak_rss_mb",
            "final_loss",
            "speed_ratio_selftt_over_this",
            "memory_ratio_selftt_over_this",
        ):
            assert key in path
        assert path["steps"] == 2
        assert path["tokens_per_s"] > 0 and path["peak_rss_mb"] > 0
        assert math.isfinite(path["final_loss"])
    assert result["paths"]["selftt"]["same_data_as_hf"] is True
    assert result["paths"]["hf"]["lightning_imported"] is False
    assert set(result["targets"]) == {"speed_selftt_over_hf", "peak_memory_selftt_over_hf"}
    assert all(isinstance(t["pass"], bool) for t in result["targets"].values())
