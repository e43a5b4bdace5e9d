"""scripts/run_study.py: the runs it composes (each method's mixture and evaluation sets), the
disjoint split of XQuAD, and that selftt's CLI accepts every composed command."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("run_study", REPO / "scripts" / "run_study.py")
run_study = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_study)


def _arg(args: list[str], key: str):
    return json.loads(args[args.index(key) + 1])


def test_runs_compose_each_method():
    runs = run_study.runs(["de", "zh"], [0, 1], list(run_study.METHODS), fewshot=2)
    names = [(name, seed) for name, seed, _ in runs]
    assert names[0] == ("fewshot", None)  # greedy and untrained: once
    assert len(runs) == 1 + 2 * (1 + 2 * 3)  # fewshot; per seed zero-shot and 3 trained methods per language
    by_name = {(name, seed): args for name, seed, args in runs}
    fewshot = by_name["fewshot", None]
    assert fewshot[0] == "validate"
    assert [s["fewshot"] for s in _arg(fewshot, "--data.val_sets")] == [2, 2]
    assert _arg(fewshot, "--data.val_sets")[1]["fewshot_path"].endswith("xquad_train_zh.json")
    zero = by_name["zero-shot", 1]
    assert [c["name"] for c in _arg(zero, "--data.components")] == ["src"]
    assert [s["lang"] for s in _arg(zero, "--data.val_sets")] == ["de", "zh"]
    assert [c["name"] for c in _arg(by_name["stt-zh", 0], "--data.components")] == ["src", "tgt"]
    assert [c["name"] for c in _arg(by_name["stt+cs-de", 0], "--data.components")] == ["src", "tgt", "cs"]
    human = by_name["translate-train-human-de", 0]
    assert _arg(human, "--data.components")[1] == {
        "name": "src", "path": "cache/study/xquad_train_de.json", "lang": "de"
    }  # fmt: skip
    assert human[human.index("--evaluation.method") + 1] == "translate-train-human"
    assert [s["lang"] for s in _arg(human, "--data.val_sets")] == ["de"]


def test_translation_quality_is_scored_once_per_language():
    """Greedy translation is the same for every seed: the first seed's stt run scores it."""
    runs = run_study.runs(["de", "zh"], [1, 2], list(run_study.METHODS), fewshot=2)
    scored = {(name, seed): _arg(args, "--translation.quality") for name, seed, args in runs if "--translation.quality" in args}
    assert set(scored) == {("stt-de", 1), ("stt-zh", 1)}
    ref = scored["stt-zh", 1][0]
    assert ref["source"].endswith("xquad_train_en.json") and ref["reference"].endswith("xquad_train_zh.json")
    assert ref["lang"] == "zh" and ref["limit"] is None


def test_quality_scored_earlier_is_not_scored_again(tmp_path):
    """``--seeds 1 2`` after seed 0: a language whose finished stt run holds its translation
    quality is not translated against the references again; the others still are."""
    version = tmp_path / "stt-de-s0" / "version_0"
    version.mkdir(parents=True)
    (version / "results.json").write_text(json.dumps({"translation_quality": {"de": {"chrf": 41.2}}}))
    unfinished = tmp_path / "stt-zh-s0" / "version_0"
    unfinished.mkdir(parents=True)
    (unfinished / "results.json").write_text(json.dumps({"translation_quality": {}}))
    scored = run_study.scored_langs(tmp_path, ["de", "zh"])
    assert scored == {"de"}
    runs = run_study.runs(["de", "zh"], [1, 2], ["stt"], fewshot=2, scored=scored)
    assert [(name, seed) for name, seed, args in runs if "--translation.quality" in args] == [("stt-zh", 1)]


def test_runs_of_chosen_methods_only():
    runs = run_study.runs(["th"], [3], ["stt"], fewshot=2)
    assert [(name, seed) for name, seed, _ in runs] == [("stt-th", 3)]


@pytest.mark.skipif(not run_study.SHARED.is_dir(), reason="needs ../shared/data/xquad")
def test_split_is_disjoint_and_parallel(tmp_path, monkeypatch):
    monkeypatch.setattr(run_study, "DATA", tmp_path)  # never the study's own files in cache/study
    counts = run_study.split(["de"], 3, 4)
    train_en = json.loads((run_study.DATA / "xquad_train_en.json").read_text(encoding="utf-8"))
    train_de = json.loads((run_study.DATA / "xquad_train_de.json").read_text(encoding="utf-8"))
    eval_de = json.loads((run_study.DATA / "xquad_eval_de.json").read_text(encoding="utf-8"))
    ids = lambda doc: {q["id"] for a in doc["data"] for p in a["paragraphs"] for q in p["qas"]}  # noqa: E731
    assert ids(train_en) == ids(train_de)  # the human translation of the same questions
    assert not ids(train_en) & ids(eval_de)
    assert counts["xquad_eval_de.json"] == len(ids(eval_de)) > 0
    full = run_study.split(["de"], 3, 0)  # 0: every paragraph not trained on
    everything = json.loads((run_study.SHARED / "xquad.de.json").read_text(encoding="utf-8-sig"))
    assert full["xquad_eval_de.json"] + full["xquad_train_de.json"] == len(ids(everything))


@pytest.mark.parametrize("name", ["fewshot", "stt-de", "translate-train-human-de"])
def test_selftt_accepts_the_commands(name, tmp_path):
    """The composed arguments parse against the shared config (``--print_config``: nothing runs)."""
    _, _, args = next(r for r in run_study.runs(["de"], [0], list(run_study.METHODS), 2) if r[0] == name)
    command = [sys.executable, "-m", "selftt", args[0], "--config", run_study.BASE, *args[1:], "--print_config"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "xquad_eval_de.json" in proc.stdout


def test_a_run_is_finished_by_its_results_alone(tmp_path):
    """A fresh checkout has the committed results.json but no adapter: the run is not redone."""
    run = tmp_path / "stt-de-s0"
    (run / "version_0").mkdir(parents=True)
    assert not run_study.finished(run)
    (run / "version_0" / "results.json").write_text('{"stage": "fit"}', encoding="utf-8")
    assert run_study.finished(run)
    assert not run_study.finished(tmp_path / "missing")
