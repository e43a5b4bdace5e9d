"""The results report: collection, Markdown tables, CSV and figures from synthetic results.json."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import pytest

from selftt.report.collect import collect
from selftt.report.main import report_main, write_report
from selftt.report.plots import NO_POINTS, quality_gain_points

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MODEL = "google/gemma-3-270m"
_clock = [1_700_000_000]


def _write(root: Path, name: str, data: dict | str, version: int = 0) -> Path:
    """Write ``root/name/version_N/results.json``; every call is one second newer than the last."""
    path = root / name / f"version_{version}" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    _clock[0] += 1
    os.utime(path, (_clock[0], _clock[0]))
    return path


def _result(task, method, seed, scores, n=250, tq=None, model=MODEL, stage="fit", settings=None, **kw):
    """scores: {set_name: (lang, value)}."""
    metric = "f1" if task == "qa" else "accuracy"
    metrics = {}
    for name, (lang, value) in scores.items():
        metrics[name] = {"lang": lang, "n": n, metric: value, "unparsed": 1.0}
        if task == "qa":
            metrics[name]["exact_match"] = value - 10
    sets = [f"{name}:{n}" for name in scores]
    return {
        "format": 1,
        "stage": stage,
        "method": method,
        "task": task,
        "model": model,
        "seed": seed,
        "step": 100,
        "metrics": metrics,
        "primary_metric": metric,
        "translation_quality": tq or {},
        "settings": settings
        or {"eval_sets": sets, "max_examples": None, "generation": {"max_new_tokens": 256}},
        **kw,
    }


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    for seed, (de, ru) in enumerate([(10, 5), (12, 6), (14, 7)]):
        scores = {"mgsm_de": ("de", de), "mgsm_ru": ("ru", ru), "heldout_en": ("en", 30)}
        _write(root, f"math_zs_s{seed}", _result("math", "zero-shot", seed, scores))
    # stt, German: seed 0 was run twice; the older run (99) must be dropped.
    tq = {"de": {"bleu": 10.0, "chrf": 40.0}}
    old_tq = {"de": {"bleu": 0.0, "chrf": 0.0}}
    _write(
        root,
        "math_de_stt_s0",
        _result("math", "stt", 0, {"mgsm_de": ("de", 99), "heldout_en": ("en", 1)}, tq=old_tq),
    )
    _write(
        root,
        "math_de_stt_s0",
        _result("math", "stt", 0, {"mgsm_de": ("de", 15), "heldout_en": ("en", 28)}, tq=tq),
        1,
    )
    for seed, (de, bleu, chrf) in zip((1, 2), [(17, 12, 42), (19, 14, 44)], strict=True):
        tq = {"de": {"bleu": bleu, "chrf": chrf}}
        _write(
            root,
            f"math_de_stt_s{seed}",
            _result("math", "stt", seed, {"mgsm_de": ("de", de), "heldout_en": ("en", 28)}, tq=tq),
        )
    # stt, Russian: seed 2 evaluated on 50 examples only -> mismatched cell.
    for seed, (ru, n) in enumerate([(8, 250), (10, 250), (12, 50)]):
        tq = {"ru": {"bleu": 5.0, "chrf": 30.0}}
        _write(
            root, f"math_ru_stt_s{seed}", _result("math", "stt", seed, {"mgsm_ru": ("ru", ru)}, n=n, tq=tq)
        )
    for seed, de in enumerate([16, 18]):  # stt+cs: German only, two seeds
        _write(root, f"math_de_sttcs_s{seed}", _result("math", "stt+cs", seed, {"mgsm_de": ("de", de)}))
    _write(
        root,
        "math_fs",
        _result("math", "fewshot", 0, {"mgsm_de": ("de", 9), "mgsm_ru": ("ru", 4), "heldout_en": ("en", 25)}),
    )
    for seed, (zs, stt) in enumerate([(50, 60), (52, 60), (54, 63)]):
        _write(root, f"qa_zs_s{seed}", _result("qa", "zero-shot", seed, {"xquad_de": ("de", zs)}))
        _write(root, f"qa_de_stt_s{seed}", _result("qa", "stt", seed, {"xquad_de": ("de", stt)}))
    _write(root, "broken", "{not json")
    bad = _result("math", "stt", 5, {"mgsm_de": ("de", 1)})
    del bad["seed"], bad["metrics"]
    _write(root, "nokeys", bad)
    return root


def _section(md: str, heading: str) -> str:
    start = md.index(heading)
    end = md.find("\n## ", start + len(heading))
    return md[start : end if end >= 0 else len(md)]


def _tables(section: str) -> list[dict[str, dict[str, str]]]:
    """Every Markdown table in the text as {first column: {header: cell}}."""
    tables, lines = [], section.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("| ") and i + 1 < len(lines) and lines[i + 1].startswith("|:"):
            header = [h.strip() for h in lines[i].strip("|").split("|")]
            rows, i = {}, i + 2
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip("|").split("|")]
                rows[cells[0]] = dict(zip(header, cells, strict=True))
                i += 1
            tables.append((header, rows))
        i += 1
    return tables


@pytest.fixture
def report(logs: Path, tmp_path: Path) -> tuple[Path, str]:
    out = write_report(logs, tmp_path / "out")
    return out, (out / "report.md").read_text(encoding="utf-8")


def test_table_numbers_and_order(report):
    _, md = report
    (header, rows), (gheader, gains) = _tables(_section(md, "## math"))
    assert header == ["Method", "de", "ru", "avg", "en"]
    assert list(rows) == [
        "FewShot",
        "Zero-shot transfer",
        "Self-Translate-Train",
        "Self-Translate-Train + code-switch",
    ]
    zs, stt, cs, fs = (
        rows[k]
        for k in [
            "Zero-shot transfer",
            "Self-Translate-Train",
            "Self-Translate-Train + code-switch",
            "FewShot",
        ]
    )
    assert (
        zs["de"] == "12.0 ± 2.0 (3 seeds)"
        and zs["ru"] == "6.0 ± 1.0 (3 seeds)"
        and zs["en"] == "30.0 ± 0.0 (3 seeds)"
    )
    assert stt["de"] == "17.0 ± 2.0 (3 seeds)"  # the older re-run of seed 0 (99) is not averaged in
    assert stt["ru"] == "10.0 ± 2.0 (3 seeds) †"
    assert cs["de"] == "17.0 ± 1.4 (2 seeds)" and cs["ru"] == "—" and cs["en"] == "—"
    assert fs["de"] == "9.0 (1 seed)"
    # avg: mean of the row's target-language means; en is not counted.
    assert zs["avg"] == "9.0" and fs["avg"] == "6.5" and stt["avg"] == "13.5 †" and cs["avg"] == "17.0 (1/2)"
    assert gheader == header and list(gains) == [
        "FewShot",
        "Self-Translate-Train",
        "Self-Translate-Train + code-switch",
    ]
    assert gains["Self-Translate-Train"] == {
        "Method": "Self-Translate-Train",
        "de": "+5.0",
        "ru": "+4.0",
        "avg": "+4.5 †",
        "en": "-2.0",
    }
    assert gains["FewShot"]["de"] == "-3.0" and gains["FewShot"]["avg"] == "-2.5"
    assert gains["Self-Translate-Train + code-switch"]["ru"] == "—"
    assert gains["Self-Translate-Train + code-switch"]["avg"] == "+5.0 (1/2)"
    (_, qa), (_, qa_gains) = _tables(_section(md, "## qa"))
    assert "## qa — F1 (%)" in md and "## math — accuracy (%)" in md
    assert qa["Self-Translate-Train"]["de"] == "61.0 ± 1.7 (3 seeds)" and qa["FewShot"]["de"] == "—"
    assert qa_gains["Self-Translate-Train"]["de"] == "+9.0"
    assert (
        md.index("## math") < md.index("## qa") < md.index("## Missing") < md.index("## Translation quality")
    )


def test_missing_section(report):
    _, md = report
    missing = _section(md, "## Missing")
    listed = {}
    for line in re.findall(r"^- (\w+), .*?\(`([^`]+)`\): (.*)$", missing, flags=re.M):
        task, method, cols = line
        listed[task, method] = cols.split(", ")
    assert listed == {
        ("math", "stt+cs"): ["ru", "en"],
        ("qa", "fewshot"): ["de", "ru", "en"],
        ("qa", "zero-shot"): ["ru", "en"],
        ("qa", "stt"): ["ru", "en"],
        ("qa", "stt+cs"): ["de", "ru", "en"],
    }
    assert "No result (12 cells)" in missing
    few = set(re.findall(r"^- `([^`]+)`: (\d) of 3 seeds", missing, flags=re.M))
    assert few == {
        ("math/de/fewshot", "1"),
        ("math/ru/fewshot", "1"),
        ("math/en/fewshot", "1"),
        ("math/de/stt+cs", "2"),
    }


def test_notes_mismatch_reruns_and_skipped_files(report, logs):
    _, md = report
    notes = _section(md, "## Notes")
    assert "† `math/ru/stt`: seeds 0,1 were evaluated on 250 examples, seed 2 on 50" in notes
    assert "`eval_sets`" in notes  # the settings that differ are named
    assert notes.count("†") == 1  # only the mismatched cell
    assert "math/stt seed 0: several runs for de, en" in notes and "math_de_stt_s0/version_0" in notes
    assert "different models" not in notes
    skipped = _section(md, "## Skipped files")
    assert f"`{logs / 'broken' / 'version_0' / 'results.json'}`: not valid JSON" in skipped
    assert f"`{logs / 'nokeys' / 'version_0' / 'results.json'}`: missing key(s) 'seed', 'metrics'" in skipped


def test_translation_quality_table(report):
    _, md = report
    lines = [line for line in _section(md, "## Translation quality").splitlines() if line.startswith("| ")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    # the older, dropped re-run of math/de/stt seed 0 reported chrF 0.0: only runs in the tables count
    assert rows == [
        ["Task", "Lang", "BLEU", "chrF", "Runs"],
        ["math", "de", "12.0", "42.0", "3"],
        ["math", "ru", "5.0", "30.0", "3"],
    ]


def test_csv_rows(report):
    out, _ = report
    with (out / "results.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 31  # every valid run x eval set, the superseded re-run included
    by_key = {(r["run_dir"].split("logs/")[-1], r["eval_set"]): r for r in rows}
    old = by_key["math_de_stt_s0/version_0", "mgsm_de"]
    assert old["value"] == "99.0" and old["used"].startswith("superseded by newer") and old["seed"] == "0"
    qa = by_key["qa_de_stt_s2/version_0", "xquad_de"]
    assert (
        qa["used"] == "yes"
        and qa["f1"] == "63.0"
        and qa["exact_match"] == "53.0"
        and qa["primary_metric"] == "f1"
    )
    assert {r["used"] for r in rows} <= {"yes"} | {
        r["used"] for r in rows if r["used"].startswith("superseded")
    }


def test_pngs(report):
    out, _ = report
    for name in ("results.png", "quality_vs_gain.png"):
        data = (out / name).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 10_000, name


def test_quality_gain_points(logs):
    points = quality_gain_points(collect(logs), "stt", "zero-shot")
    assert [(t, lang, round(x, 6), round(y, 6)) for t, lang, x, y in points] == [
        ("math", "de", 42.0, 5.0),
        ("math", "ru", 30.0, 4.0),
    ]


def test_report_main(logs, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert report_main(["--logs", str(empty)]) == 2
    assert "no results.json found" in capsys.readouterr().err
    assert report_main(["--logs", str(tmp_path / "absent")]) == 2
    assert report_main(["--logs", str(logs)]) == 0
    printed = capsys.readouterr().out
    for name in ("report.md", "results.csv", "results.png", "quality_vs_gain.png"):
        assert str(logs / "report" / name) in printed and (logs / "report" / name).is_file()


def test_a_plain_report_leaves_the_shipped_study_out(tmp_path, monkeypatch, capsys):
    _write(tmp_path / "logs", "mine", _result("math", "zero-shot", 0, {"mgsm_de": ("de", 40)}))
    _write(tmp_path / "logs" / "study", "theirs", _result("math", "stt", 0, {"mgsm_de": ("de", 45)}))
    monkeypatch.chdir(tmp_path)
    assert report_main([]) == 0
    csv_text = (tmp_path / "logs" / "report" / "results.csv").read_text(encoding="utf-8")
    assert "zero-shot" in csv_text and "stt" not in csv_text
    md = (tmp_path / "logs" / "report" / "report.md").read_text(encoding="utf-8")
    assert "Left out `logs/study` (runs shipped with selftt): report them with `--logs logs/study`." in md
    assert report_main(["--logs", "logs"]) == 0  # named explicitly: everything under it
    capsys.readouterr()
    (tmp_path / "logs" / "mine" / "version_0" / "results.json").unlink()  # only the shipped runs left
    assert report_main([]) == 2
    expected = "no results.json found under logs outside logs/study (runs shipped with selftt: report them with --logs logs/study)"
    assert expected in capsys.readouterr().err
    assert "stt" in (tmp_path / "logs" / "report" / "results.csv").read_text(encoding="utf-8")


def test_only_bad_files_still_writes_report(tmp_path):
    root = tmp_path / "logs"
    _write(root, "broken", "[1, 2]")
    out = write_report(root, tmp_path / "out")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "No usable results" in md and "top level is a list" in md
    assert (out / "quality_vs_gain.png").read_bytes()[:8] == PNG_MAGIC
    assert (out / "results.png").read_bytes()[:8] == PNG_MAGIC


def test_no_points_figure_and_stage_filter(tmp_path):
    root = tmp_path / "logs"
    _write(root, "nli_zs", _result("nli", "zero-shot", 0, {"xnli_de": ("de", 40)}, stage="test"))
    _write(root, "nli_stt", _result("nli", "stt", 0, {"xnli_de": ("de", 45)}, stage="test"))
    _write(root, "nli_stt_fit", _result("nli", "stt", 0, {"xnli_de": ("de", 44)}, stage="fit"))
    coll = collect(root, stage="test")
    assert quality_gain_points(coll, "stt", "zero-shot") == []  # no translation quality reported
    assert coll.cell("nli", "stt", coll.columns["nli"][0]).values == [45.0]
    assert any("ignored 1 results.json (1 from fit)" in n for n in coll.notes)
    out = write_report(root, tmp_path / "out", stage="test")
    assert (out / "quality_vs_gain.png").stat().st_size > 5_000
    assert NO_POINTS


def test_models_and_settings_mismatch(tmp_path):
    root = tmp_path / "logs"
    _write(root, "a", _result("nli", "stt", 0, {"xnli_de": ("de", 40)}))
    _write(root, "b", _result("nli", "stt", 1, {"xnli_de": ("de", 42)}, model="other/model"))
    gen = {"eval_sets": ["xnli_de:250"], "max_examples": None, "generation": {"max_new_tokens": 64}}
    _write(root, "c", _result("nli", "stt", 2, {"xnli_de": ("de", 44)}, settings=gen))
    md = (write_report(root, tmp_path / "out") / "report.md").read_text(encoding="utf-8")
    ((_, rows),) = _tables(_section(md, "## nli"))[:1]
    assert rows["Self-Translate-Train"]["de"] == "42.0 ± 2.0 (3 seeds) †"
    notes = _section(md, "## Notes")
    assert "seeds 0,2 used model google/gemma-3-270m, seed 1 used model other/model" in notes
    assert "`generation.max_new_tokens` is 256 for seeds 0,1, 64 for seed 2" in notes
    assert "Runs use different models" in notes


def test_several_sets_in_one_language_get_their_own_columns(tmp_path):
    root = tmp_path / "logs"
    _write(root, "qa", _result("qa", "zero-shot", 0, {"xquad_de": ("de", 40), "mlqa_de": ("de", 30)}))
    md = (write_report(root, tmp_path / "out") / "report.md").read_text(encoding="utf-8")
    ((header, rows),) = _tables(_section(md, "## qa"))
    assert header == ["Method", "de (mlqa_de)", "de (xquad_de)", "avg"]
    assert rows["Zero-shot transfer"]["avg"] == "35.0"


def test_other_eval_sets_of_a_run_do_not_make_a_mismatch(tmp_path):
    root = tmp_path / "logs"
    _write(root, "zs0", _result("math", "zero-shot", 0, {"mgsm_de": ("de", 10), "mgsm_ru": ("ru", 5)}))
    _write(root, "zs1", _result("math", "zero-shot", 1, {"mgsm_de": ("de", 12)}))
    coll = collect(root)
    (de,) = [c for c in coll.cells.values() if c.column.lang == "de"]
    assert de.mismatch is None and de.values == [10.0, 12.0]


def test_unseeded_runs_and_extra_keys(tmp_path):
    root = tmp_path / "logs"
    extra = {"adapter": None, "component_sizes": {"src": 32, "tgt": 30}}
    _write(root, "a", _result("nli", "stt", None, {"xnli_de": ("de", 40)}, **extra))
    _write(root, "b", _result("nli", "stt", None, {"xnli_de": ("de", 44)}, **extra))  # newer: kept
    _write(root, "c", _result("nli", "stt", True, {"xnli_de": ("de", 1)}))  # a bool is not a seed
    coll = collect(root)
    (cell,) = coll.cells.values()
    assert cell.values == [44.0] and cell.seeds == [None]
    assert any("have no seed" in n for n in coll.notes)
    assert any("'seed' must be an integer or null" in s for s in coll.skipped)
    md = (write_report(root, tmp_path / "out") / "report.md").read_text(encoding="utf-8")
    assert "44.0 (1 seed)" in md and "nli/stt seed unset: several runs for de" in md


def test_batch_sizes_and_the_prefix_cache_are_not_a_mismatch(tmp_path):
    """They change speed, not outputs: seeds run with other batching settings are averaged as usual."""
    from selftt.modules.generation import BATCHING_ONLY as GENERATOR_BATCHING_ONLY
    from selftt.report.collect import BATCHING_ONLY

    assert BATCHING_ONLY == GENERATOR_BATCHING_ONLY
    root = tmp_path / "logs"
    for seed, batching in enumerate([{"max_batch_tokens": 8192}, {"max_batch_size": 4, "prefix_cache": True}]):
        settings = {"eval_sets": ["xquad_de:52"], "generation": {"max_new_tokens": 32, **batching}}
        _write(root, f"s{seed}", _result("qa", "stt", seed, {"xquad_de": ("de", 20 + seed)}, settings=settings))
    (cell,) = collect(root).cells.values()
    assert cell.mismatch is None and cell.values == [20.0, 21.0]


def test_a_non_english_source_language_is_shown_last_and_left_out_of_the_average(tmp_path):
    root = tmp_path / "logs"
    scores = {"mgsm_sw": ("sw", 20), "mgsm_en": ("en", 40), "heldout_de": ("de", 60)}
    _write(root, "de_src", _result("math", "stt", 0, scores, source_lang="de"))
    md = (write_report(root, tmp_path / "out") / "report.md").read_text(encoding="utf-8")
    ((header, rows),) = _tables(_section(md, "## math"))[:1]
    assert header == ["Method", "en", "sw", "avg", "de"]  # English is a target here
    assert rows["Self-Translate-Train"]["avg"].startswith("30.0"), rows


def test_metric_option_reports_exact_match_instead_of_the_primary_metric(tmp_path, capsys, qa_run):
    """``--metric exact_match``: tables and statistics are on exact match, recomputed per question
    from the predictions; a metric no run has stops with one line."""
    logs = tmp_path / "logs"
    golds = ["der rote Hund", "in Berlin", "1990", "zwei Katzen"] * 10
    qa_run(logs, "zs", "zero-shot", ["der Hund", "Berlin", "1990", "Katzen"] * 10, golds)
    qa_run(logs, "stt", "stt", ["der rote Hund", "in Berlin", "1991", "zwei Katzen"] * 10, golds)
    f1 = json.loads((write_report(logs, tmp_path / "f1") / "statistics.json").read_text(encoding="utf-8"))
    em_out = write_report(logs, tmp_path / "em", metric="exact_match")
    em = json.loads((em_out / "statistics.json").read_text(encoding="utf-8"))
    assert em["cells"]["qa/de/zero-shot"]["mean"] == pytest.approx(25.0)  # "1990" only
    assert em["cells"]["qa/de/stt"]["mean"] == pytest.approx(75.0)
    assert f1["cells"]["qa/de/zero-shot"]["mean"] > 50.0  # partial credit
    assert em["comparisons"]["qa/de/stt"]["diff"] == pytest.approx(50.0)
    md = (em_out / "report.md").read_text(encoding="utf-8")
    assert "## qa — exact match (%)" in md and "Per method against `zero-shot`" in md
    assert report_main(["--logs", str(logs), "--out", str(tmp_path / "x"), "--metric", "bleu"]) == 2
    err = capsys.readouterr().err
    assert "no results.json under" in err and "metric 'bleu'" in err
