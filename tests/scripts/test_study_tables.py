"""scripts/study_tables.py: the README's study tables from statistics.json."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("study_tables", REPO / "scripts" / "study_tables.py")
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)

STATS = {
    "procedure": {"baseline": "zero-shot"},
    "cells": {
        "qa/de/zero-shot": {"mean": 29.84, "ci": [22.1, 37.66], "std": 1.234, "n_seeds": 3},
        "qa/de/stt": {"mean": 23.9, "ci": [16.6, 31.6], "ci_passage": [18.24, 29.0], "std": None, "n_seeds": 1},
    },
    "comparisons": {
        "qa/de/stt": {
            "diff": -6.0, "ci": [-12.4, 0.2], "ci_passage": [-13.0, 1.06], "p_value": 0.0654, "p_passage": 0.0991,
            "p_welch": None, "q_value": 0.21,
        },  # fmt: skip
    },
}


def test_cells_and_comparisons(tmp_path, capsys):
    path = tmp_path / "statistics.json"
    path.write_text(json.dumps(STATS), encoding="utf-8")
    assert script.main(["--stats", str(path), "--langs", "de", "zh"]) == 0
    out = capsys.readouterr().out
    assert "| Zero-shot transfer (`src`) | 29.8 [22.1, 37.7] ± 1.2 (3 seeds) | — |" in out
    assert "| Self-Translate-Train (`src+tgt`) | 23.9 [16.6, 31.6] / [18.2, 29.0] | — |" in out
    assert "| Self-Translate-Train (`src+tgt`) | -6.0 [-12.4, 0.2] / [-13.0, 1.1] p=0.065 / 0.099, q 0.210 | — |" in out
    assert out.count("| Zero-shot transfer") == 1  # the baseline has no comparison row


def test_missing_statistics_is_one_line(tmp_path, capsys):
    assert script.main(["--stats", str(tmp_path / "none.json")]) == 2
    assert "not found" in capsys.readouterr().err
