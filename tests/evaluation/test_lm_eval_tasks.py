"""lm_eval_tasks/: lm-evaluation-harness on selftt's own evaluation sets finds selftt's numbers."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from selftt.modules.generation import cut_at_stop

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(importlib.util.find_spec("lm_eval") is None, reason="lm-eval is not installed")


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
@pytest.mark.parametrize("model_fixture", ["tiny_model", "tiny_chat_model"])
def test_lm_eval_on_selftts_sets_finds_selftts_generations_and_scores(
    model_fixture, request, tmp_path, write_config, mgsm_file, run_selftt
):
    model = request.getfixturevalue(model_fixture)
    extra = {"model": {"model_name_or_path": model, "generation": {"max_new_tokens": 24}}}
    config = write_config(val_sets=[{"path": str(mgsm_file), "lang": "de"}], extra=extra, max_steps=4)
    fit = run_selftt(["fit", "--config", str(config)], tmp_path)
    assert fit.returncode == 0, fit.stderr[-3000:]
    adapter = tmp_path / "logs" / "run" / "version_0" / "adapter"
    done = run_selftt(["validate", "--config", str(config), "--model.adapter_path", str(adapter)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = tmp_path / "logs" / "run" / "version_1"
    ours = {r["id"]: r for r in map(json.loads, next(run_dir.glob("predictions/*/mgsm_de.jsonl")).open(encoding="utf-8"))}
    our_scores = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))

    harness = _run(
        [sys.executable, "-m", "lm_eval", "--model", "hf",
         "--model_args", f"pretrained={model},peft={adapter},dtype=float32",
         "--include_path", str(REPO / "lm_eval_tasks"), "--tasks", "selftt_math", "--batch_size", "1",
         "--gen_kwargs", "max_gen_toks=24", "--metadata", json.dumps({"config": str(config), "set": "mgsm_de"}),
         "--output_path", str(tmp_path / "lm_eval"), "--log_samples", "--device", "cpu"],
        tmp_path,
    )  # fmt: skip
    assert harness.returncode == 0, harness.stderr[-3000:]
    samples = [json.loads(line) for line in next((tmp_path / "lm_eval").rglob("samples_selftt_math_*.jsonl")).open()]
    assert sorted(s["doc"]["id"] for s in samples) == sorted(ours)
    for sample in samples:
        generation = cut_at_stop(sample["resps"][0][0], sample["doc"]["stop"])
        assert generation == ours[sample["doc"]["id"]]["generation"], sample["doc"]["id"]
        assert sample["doc"]["prompt"] == ours[sample["doc"]["id"]]["prompt"]
    results = json.loads(next((tmp_path / "lm_eval").rglob("results_*.json")).read_text(encoding="utf-8"))
    theirs = results["results"]["selftt_math"]
    for metric in ("accuracy", "unparsed"):
        assert theirs[f"{metric},none"] == pytest.approx(our_scores["metrics"]["mgsm_de"][metric], abs=1e-9)

