"""The GPU check cannot rot between GPU sessions: ``scripts/device_check.sh`` runs here on the
CPU with the tiny shapes (Llama layout, and Gemma 3's hybrid layout with a 32-token window), through
the same code the H200 runs: ``python -m selftt fit`` for QLoRA and LoRA, the HF Trainer path,
the adapter reload check and the generation benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))


@pytest.mark.slow
def test_device_check_runs_on_cpu_and_every_check_passes(tmp_path):
    out = tmp_path / "out"
    cmd = [
        "bash", str(REPO / "scripts" / "device_check.sh"), str(out), "--device", "cpu", "--work", str(tmp_path / "work"),
        "--shapes", "tiny", "tiny-gemma", "--steps", "3", "--warmup-steps", "1", "--max-length", "512",
        "--gen-prompts", "3", "--gen-new-tokens", "4", "--budget-s", "600",
        "--only", "train:tiny:qlora", "train:tiny:lora", "generate:tiny-gemma",
    ]
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads((out / "device_check.json").read_text(encoding="utf-8"))
    assert (out / "device_check.md").is_file() and (out / "device_check.log").is_file()
    assert result["environment"]["device"] == "cpu" and not result["skipped"]

    assert [(job["shape"], job["mode"]) for job in result["training"]] == [("tiny", "qlora"), ("tiny", "lora")]
    for job in result["training"]:
        for path in ("selftt", "hf"):
            summary = job[path]["summary"]
            assert summary["steps"] == 3 and summary["tokens_per_s"] > 0 and summary["peak_memory_mib"] > 0
        checks = job["checks"]
        assert checks["loss_falls"]["pass"] and checks["adapter_gradients"]["pass"]
        assert checks["evaluation_ran"]["pass"]
        assert checks["reload"]["pass"] and checks["reload"]["in_process_reload"]["max_abs_diff"] == 0.0

    (generation,) = result["generation"]
    assert generation["shape"] == "tiny-gemma" and generation["prompt_tokens"]["sliding_window"] == 32
    assert generation["prompt_tokens"]["longer_than_window"] == 3
    methods = generation["methods"]
    assert set(methods) == {"selftt", "per_example", "hf_batched"}
    assert all(m["identical_beyond_window"] is not None and m["tokens_per_s"] > 0 for m in methods.values())
    # float32 on the CPU: batching must not change a single output, also past the window (issue 10)
    assert methods["selftt"]["identical_beyond_window"] == 1.0


def test_plan_puts_qlora_first_and_filters_with_only():
    import device_check

    args = device_check.parse_args(["--out", "x", "--shapes", "tiny", "tiny-gemma"])
    assert device_check.plan(args) == [
        ("train", "tiny", "qlora"), ("generate", "tiny", ""), ("train", "tiny-gemma", "qlora"),
        ("train", "tiny", "lora"), ("generate", "tiny-gemma", ""), ("train", "tiny-gemma", "lora"),
    ]
    args = device_check.parse_args(["--out", "x", "--shapes", "tiny", "--only", "generate:tiny", "train:tiny:lora"])
    assert device_check.plan(args) == [("generate", "tiny", ""), ("train", "tiny", "lora")]


def test_real_shapes_have_their_published_sizes():
    """Parameter counts of the published models (8.03 B, 1.24 B, 268 M), built on the meta device."""
    import device_models
    import torch
    from transformers import AutoModelForCausalLM

    expected = {"llama-3-8b": 8.030e9, "llama-3.2-1b": 1.236e9, "gemma-3-270m": 0.268e9}
    for shape, params in expected.items():
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(device_models.make_config(shape))
        assert sum(p.numel() for p in model.parameters()) == pytest.approx(params, rel=1e-3), shape
