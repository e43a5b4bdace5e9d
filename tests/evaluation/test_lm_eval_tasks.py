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


def _cross_check(tmp_path: Path, config: Path, model: str, adapter: Path | None, task: str, set_name: str,
                 metrics: tuple[str, ...], run_selftt, limit: int | None = None) -> None:
    """selftt validate and lm_eval on the same set: the same prompt and generation per question,
    the same scores."""
    validate = ["validate", "--config", str(config)] + (["--model.adapter_path", str(adapter)] if adapter else [])
    done = run_selftt(validate, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = max((tmp_path / "logs" / "run").glob("version_*"), key=lambda p: int(p.name.split("_")[1]))
    predictions = next(run_dir.glob(f"predictions/*/{set_name}.jsonl"))
    ours = {r["id"]: r for r in map(json.loads, predictions.open(encoding="utf-8"))}
    our_scores = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))["metrics"][set_name]

    model_args = f"pretrained={model},dtype=float32" + (f",peft={adapter}" if adapter else "")
    harness = _run(
        [sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", model_args,
         "--include_path", str(REPO / "lm_eval_tasks"), "--tasks", f"selftt_{task}", "--batch_size", "1",
         "--gen_kwargs", "max_gen_toks=24", "--metadata", json.dumps({"config": str(config), "set": set_name}),
         "--output_path", str(tmp_path / "lm_eval"), "--log_samples", "--device", "cpu"]
        + (["--limit", str(limit)] if limit else []),
        tmp_path,
    )  # fmt: skip
    assert harness.returncode == 0, harness.stderr[-3000:]
    samples = [json.loads(line) for line in next((tmp_path / "lm_eval").rglob(f"samples_selftt_{task}_*.jsonl")).open()]
    assert sorted(s["doc"]["id"] for s in samples) == sorted(ours)
    for sample in samples:
        mine = ours[sample["doc"]["id"]]
        assert sample["doc"]["prompt"] == mine["prompt"]
        assert cut_at_stop(sample["resps"][0][0], sample["doc"]["stop"]) == mine["generation"], sample["doc"]["id"]
    theirs = json.loads(next((tmp_path / "lm_eval").rglob("results_*.json")).read_text(encoding="utf-8"))
    for metric in metrics:
        assert theirs["results"][f"selftt_{task}"][f"{metric},none"] == pytest.approx(our_scores[metric], abs=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("model_fixture", ["tiny_model", "tiny_chat_model"])
def test_lm_eval_math_finds_selftts_generations_and_scores(model_fixture, request, tmp_path, write_config, mgsm_file, run_selftt):
    model = request.getfixturevalue(model_fixture)
    extra = {"model": {"model_name_or_path": model, "generation": {"max_new_tokens": 24}}}
    config = write_config(val_sets=[{"path": str(mgsm_file), "lang": "de"}], extra=extra, max_steps=4)
    fit = run_selftt(["fit", "--config", str(config)], tmp_path)
    assert fit.returncode == 0, fit.stderr[-3000:]
    adapter = tmp_path / "logs" / "run" / "version_0" / "adapter"
    _cross_check(tmp_path, config, model, adapter, "math", "mgsm_de", ("accuracy", "unparsed"), run_selftt)


@pytest.mark.slow
def test_lm_eval_qa_on_xquad_finds_selftts_generations_and_scores(tmp_path, write_config, shared_data, tiny_model, run_selftt):
    xquad = shared_data / "xquad"
    extra = {
        "model": {"generation": {"max_new_tokens": 24}},
        "data": {"task": "qa", "components": [{"name": "src", "path": str(xquad / "xquad.en.json"), "lang": "en"}],
                 "val_holdout": 0, "max_length": 1024},
        "evaluation": {"max_examples": 4},
    }  # fmt: skip
    config = write_config(val_sets=[{"path": str(xquad / "xquad.de.json"), "lang": "de"}], extra=extra)
    _cross_check(tmp_path, config, tiny_model, None, "qa", "xquad_de", ("exact_match", "f1"), run_selftt, limit=4)
