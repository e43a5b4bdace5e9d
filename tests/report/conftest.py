"""Fixtures of the report tests: finished QA runs written as selftt writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def write_qa_run(
    root: Path, name: str, method: str, answers: list[str], golds: list[str], seed: int = 0, per_passage: int = 0
) -> Path:
    """``root/name/results.json`` (task qa, German set ``xquad_de``, its metrics computed by the
    task) and ``predictions/xquad_de.jsonl`` (ids q0.., passages of ``per_passage`` questions each
    where given); returns the predictions file."""
    from selftt.tasks import get_task

    folder = root / name
    (folder / "predictions").mkdir(parents=True)
    records = [{"id": f"q{i}", "answer": a, "gold": [g]} for i, (a, g) in enumerate(zip(answers, golds, strict=True))]
    for i, record in enumerate(records if per_passage else []):
        record["passage"] = f"passage{i // per_passage}"
    predictions = folder / "predictions" / "xquad_de.jsonl"
    predictions.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    metrics = get_task("qa").score(answers, [[g] for g in golds], "de")
    result = {
        "format": 1, "stage": "fit", "method": method, "task": "qa", "model": "m", "seed": seed, "step": 1,
        "metrics": {"xquad_de": {"lang": "de", "n": len(answers), **metrics, "predictions": "predictions/xquad_de.jsonl"}},
        "primary_metric": "f1", "translation_quality": {}, "settings": {},
    }  # fmt: skip
    (folder / "results.json").write_text(json.dumps(result), encoding="utf-8")
    return predictions


@pytest.fixture
def qa_run():
    """:func:`write_qa_run`."""
    return write_qa_run
