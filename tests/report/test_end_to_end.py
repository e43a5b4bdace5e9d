"""Tiny model, whole loop: fit zero-shot and Self-Translate-Train runs, evaluate, report."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_runs_evaluate_and_the_report_compares_methods(
    tmp_path, math_file, mgsm_file, write_config, run_selftt, no_filters
):
    val_sets = [{"path": str(mgsm_file), "lang": "de"}]
    stt = {
        "data": {
            "components": [
                {"name": "src", "path": str(math_file), "lang": "en"},
                {"name": "tgt", "lang": "de"},
            ]
        },
        "translation": {"prompt": {"n_shots": 2}, "generation": {"max_new_tokens": 6}, "filters": no_filters},
        "trainer": {"max_steps": 2},
    }
    runs = [
        ("zs0", {"trainer": {"max_steps": 2}, "seed_everything": 0}),
        ("zs1", {"trainer": {"max_steps": 2}, "seed_everything": 1}),
        ("stt0", {**stt, "seed_everything": 0}),
    ]
    for name, extra in runs:
        extra["trainer"]["logger"] = {"init_args": {"name": name}}
        config = write_config(val_sets=val_sets, extra=extra, filename=f"{name}.yaml")
        result = run_selftt(["fit", "--config", str(config)], cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]

    out = tmp_path / "report"
    result = run_selftt(["report", "--logs", str(tmp_path / "logs"), "--out", str(out)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| Zero-shot transfer |" in report and "(2 seeds)" in report
    assert "| Self-Translate-Train |" in report
    assert "Gain over Zero-shot transfer" in report
    for png in ("results.png", "quality_vs_gain.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = (out / "results.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + 3 * 2  # header + 3 runs x (mgsm_de, heldout_en)
