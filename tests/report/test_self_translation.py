"""The report's "Self-translated data" section, from the ``self_translation`` entry of results.json."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from selftt.report.main import write_report

_spec = importlib.util.spec_from_file_location("_report_helpers", Path(__file__).with_name("test_report.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)


def _entry(kept, total=135, found=None, **rejected):
    entry = {"kept": kept, "total": total, "rejected": rejected}
    if found is not None:
        entry["answer_found"] = dict(zip(("marker", "exact", "fuzzy", "none"), found, strict=True))
    return entry


def test_kept_rules_and_answer_methods_per_language(tmp_path):
    root = tmp_path / "logs"
    for seed in (0, 1):
        st = {"de": _entry(90, found=(80, 20, 5, 30), language_id=12, duplicate=2)}
        _helpers._write(root, f"de{seed}", _helpers._result("qa", "stt", seed, {"xquad_de": ("de", 30)}, self_translation=st))
    st = {"zh": _entry(60, found=(10, 40, 20, 65), answer_in_context=65)}
    _helpers._write(root, "zh", _helpers._result("qa", "stt", 0, {"xquad_zh": ("zh", 30)}, self_translation=st))
    md = (write_report(root, tmp_path / "out") / "report.md").read_text(encoding="utf-8")
    ((header, rows),) = _helpers._tables(_helpers._section(md, "## Self-translated data"))
    assert header[:5] == ["Task", "Lang", "Runs", "Kept", "Kept %"]
    de, zh = (row for row in md.splitlines() if row.startswith("| qa | "))
    assert de == "| qa | de | 2 | 90 of 135 | 67 | duplicate 2, language_id 12 | 80/20/5/30 |"
    assert zh == "| qa | zh | 1 | 60 of 135 | 44 | answer_in_context 65 | 10/40/20/65 |"


def test_runs_that_disagree_show_a_range_and_old_files_show_nothing(tmp_path):
    root = tmp_path / "logs"
    for seed, kept in ((0, 50), (1, 70)):
        st = {"de": _entry(kept, 100, length_ratio=100 - kept)}
        _helpers._write(root, f"m{seed}", _helpers._result("math", "stt", seed, {"mgsm_de": ("de", 20)}, self_translation=st))
    md = (write_report(root, tmp_path / "out") / "report.md").read_text(encoding="utf-8")
    assert "| math | de | 2 | 50-70 of 100 | 60 | length_ratio 30-50 | — |" in md
    old = tmp_path / "old"
    _helpers._write(old, "r", _helpers._result("math", "zero-shot", 0, {"mgsm_de": ("de", 20)}))
    md = (write_report(old, tmp_path / "out2") / "report.md").read_text(encoding="utf-8")
    assert "No run in the tables trained on self-translated data" in md


def test_malformed_entries_are_dropped(tmp_path):
    root = tmp_path / "logs"
    st = {"de": {"kept": "many", "total": 3}, "ru": _entry(1, 2, found=(1, 0, 0, 1))}
    _helpers._write(root, "r", _helpers._result("qa", "stt", 0, {"xquad_ru": ("ru", 20)}, self_translation=st))
    md = (write_report(root, tmp_path / "out") / "report.md").read_text(encoding="utf-8")
    section = _helpers._section(md, "## Self-translated data")
    assert "| qa | ru | 1 | 1 of 2 | 50 | none | 1/0/0/1 |" in section and "| qa | de |" not in section
